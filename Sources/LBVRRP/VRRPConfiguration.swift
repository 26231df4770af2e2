import LBSpec

/// How a new master announces its addresses with gratuitous ARP (keepalived's garp_master_* settings,
/// same defaults): a burst at once, a second burst later, optional periodic refreshes while master.
public struct GratuitousARPSettings: Sendable, Equatable {
    /// ARPs per address in the burst sent on becoming master (garp_master_repeat, default 5).
    public var count: Int
    /// Delay of the second burst after becoming master (garp_master_delay, default 5 s); nil = none.
    public var repeatDelay: Duration?
    /// Interval of refresh bursts while master (garp_master_refresh, default off); nil = off.
    public var refreshInterval: Duration?
    /// ARPs per address in a refresh burst (garp_master_refresh_repeat, default 1).
    public var refreshCount: Int

    public init(count: Int = 5, repeatDelay: Duration? = .seconds(5), refreshInterval: Duration? = nil, refreshCount: Int = 1) {
        self.count = count
        self.repeatDelay = repeatDelay
        self.refreshInterval = refreshInterval
        self.refreshCount = refreshCount
    }
}

/// One VRRP instance: everything the state machine needs, with keepalived's defaults.
public struct VRRPConfiguration: Sendable, Equatable {
    /// The instance name notify scripts and logs use (keepalived's vrrp_instance name).
    public var name: String
    /// The interface adverts go out of and come in on; the virtual addresses are added to it unless
    /// `vipInterfaces` names another.
    public var interface: String
    /// VRID, 1...255: shared by every router of the group, unique on the LAN.
    public var virtualRouterID: Int
    public var version: VRRPVersion
    /// 1...254 for a backup-capable router; 255 for the owner of the addresses (master at once, ignores
    /// every advert). 0 is reserved for the resign advert.
    public var priority: Int
    /// Advertisement_Interval in centiseconds. v2: whole seconds (100...25500); v3: 1...4095.
    public var advertisementIntervalCentiseconds: Int
    /// v2 simple text password (auth type 1), at most 8 bytes; nil = no authentication. Not in v3.
    public var authPassword: String?
    /// Preempt_Mode: a higher-priority backup takes over from a lower-priority master.
    public var preempt: Bool
    /// How long a higher-priority backup keeps accepting a lower-priority master after first hearing it
    /// (keepalived's preempt_delay); zero = preempt at once.
    public var preemptDelay: Duration
    /// The source of adverts and the tie-breaker among equal priorities; nil = the interface's first
    /// IPv4 address that is not a virtual one, found when the instance starts.
    public var sourceAddress: IPAddress?
    /// Send adverts to these addresses instead of multicast 224.0.0.18 (and accept adverts only from them).
    public var unicastPeers: [IPAddress]
    /// The addresses the master holds, with the prefix they are added with.
    public var virtualAddresses: [CIDR]
    /// The interface a virtual address is added to and announced on when it is not `interface`
    /// (keepalived's `dev`); the advert still lists it.
    public var vipInterfaces: [IPAddress: String]
    public var gratuitousARP: GratuitousARPSettings
    /// Commands whose exit status moves the priority or puts the instance in FAULT (the speaker runs them).
    public var trackScripts: [VRRPTrackScript]
    /// Interfaces whose link moves the priority or puts the instance in FAULT (the speaker reads them).
    public var trackInterfaces: [VRRPTrackInterface]
    /// Commands run with `/bin/sh -c` when the instance enters a state (keepalived's notify_master, …).
    public var stateScripts: StateScripts
    /// The sync group (keepalived's vrrp_sync_group) whose instances change state together: this one
    /// becomes master only when its group lets it (`syncPromote`), never by its own timer alone.
    public var syncGroup: String?

    public init(name: String? = nil, interface: String, virtualRouterID: Int, version: VRRPVersion = .v2, priority: Int,
                advertisementIntervalCentiseconds: Int = 100, authPassword: String? = nil, preempt: Bool = true,
                preemptDelay: Duration = .zero, sourceAddress: IPAddress? = nil, unicastPeers: [IPAddress] = [],
                virtualAddresses: [CIDR], vipInterfaces: [IPAddress: String] = [:], gratuitousARP: GratuitousARPSettings = .init(), trackScripts: [VRRPTrackScript] = [],
                trackInterfaces: [VRRPTrackInterface] = [], stateScripts: StateScripts = .init(), syncGroup: String? = nil) {
        self.name = name ?? "VI_\(virtualRouterID)"
        self.interface = interface
        self.virtualRouterID = virtualRouterID
        self.version = version
        self.priority = priority
        self.advertisementIntervalCentiseconds = advertisementIntervalCentiseconds
        self.authPassword = authPassword
        self.preempt = preempt
        self.preemptDelay = preemptDelay
        self.sourceAddress = sourceAddress
        self.unicastPeers = unicastPeers
        self.virtualAddresses = virtualAddresses
        self.vipInterfaces = vipInterfaces
        self.gratuitousARP = gratuitousARP
        self.trackScripts = trackScripts
        self.trackInterfaces = trackInterfaces
        self.stateScripts = stateScripts
        self.syncGroup = syncGroup
    }

    /// The instance a director runs for one VRRP group of the signed document.
    public init(plan: VRRPInstancePlan) {
        self.init(name: plan.name, interface: plan.interface, virtualRouterID: plan.routerID,
                  version: plan.version == 3 ? .v3 : .v2, priority: plan.priority,
                  advertisementIntervalCentiseconds: plan.advertIntervalCentiseconds, authPassword: plan.authPassword,
                  preempt: plan.preempt, preemptDelay: .seconds(plan.preemptDelaySeconds),
                  // RFC 5798 5.1.2.1: over IPv6 the source is the interface's link-local address; the
                  // node's (global) address only for unicast peers, which must reach it.
                  sourceAddress: plan.sourceAddress.family == .ipv6 && plan.unicastPeers.isEmpty ? nil : plan.sourceAddress,
                  unicastPeers: plan.unicastPeers, virtualAddresses: plan.virtualAddresses, vipInterfaces: plan.vipInterfaces,
                  gratuitousARP: GratuitousARPSettings(
                    count: plan.gratuitousARP.count,
                    repeatDelay: plan.gratuitousARP.repeatDelaySeconds > 0 ? .seconds(plan.gratuitousARP.repeatDelaySeconds) : nil,
                    refreshInterval: plan.gratuitousARP.refreshSeconds > 0 ? .seconds(plan.gratuitousARP.refreshSeconds) : nil),
                  trackScripts: plan.trackScripts.map(VRRPTrackScript.init(spec:)),
                  trackInterfaces: plan.trackInterfaces.map(VRRPTrackInterface.init(spec:)), stateScripts: plan.notify,
                  syncGroup: plan.syncGroup)
    }

    /// The interface `address` is added to and announced on.
    public func interface(of address: IPAddress) -> String { vipInterfaces[address] ?? interface }

    static func name(_ family: IPAddress.Family) -> String { family == .ipv4 ? "IPv4" : "IPv6" }

    /// The instance's address family: its virtual addresses'.
    public var family: IPAddress.Family { virtualAddresses.first?.address.family ?? .ipv4 }

    /// Where multicast adverts go: 224.0.0.18, or ff02::12 for IPv6 (RFC 5798 section 5.1.1.2).
    public static func multicastGroup(_ family: IPAddress.Family) -> IPAddress {
        family == .ipv4 ? IPAddress("224.0.0.18")! : IPAddress("ff02::12")!
    }

    /// This instance's multicast group.
    public var multicastGroup: IPAddress { Self.multicastGroup(family) }

    /// `items` by the interface each one's address goes on, in order of first appearance.
    public func byInterface<T>(_ items: [T], _ address: KeyPath<T, IPAddress>) -> [(interface: String, items: [T])] {
        var out: [(interface: String, items: [T])] = []
        for item in items {
            let name = interface(of: item[keyPath: address])
            if let i = out.firstIndex(where: { $0.interface == name }) { out[i].items.append(item) } else { out.append((name, [item])) }
        }
        return out
    }

    /// Advertisement_Interval.
    public var advertisementInterval: Duration { .milliseconds(advertisementIntervalCentiseconds * 10) }

    /// Every reason this configuration cannot run, worded for the operator; empty when it can.
    public var problems: [String] {
        var out: [String] = []
        if !(1...255).contains(virtualRouterID) { out.append("the VRID must be 1...255, not \(virtualRouterID)") }
        if !(1...255).contains(priority) { out.append("the priority must be 1...255 (0 is reserved for resigning), not \(priority)") }
        switch version {
        case .v2:
            if advertisementIntervalCentiseconds % 100 != 0 || !(100...25500).contains(advertisementIntervalCentiseconds) {
                out.append("VRRPv2 advertises whole seconds, 1...255; use --version 3 for \(Self.seconds(advertisementIntervalCentiseconds)) s")
            }
        case .v3:
            if !(1...4095).contains(advertisementIntervalCentiseconds) {
                out.append("the VRRPv3 advertisement interval must be 0.01...40.95 s, not \(Self.seconds(advertisementIntervalCentiseconds)) s")
            }
            if authPassword != nil { out.append("VRRPv3 has no authentication (RFC 5798 removed it); drop the password or use --version 2") }
        }
        if let pw = authPassword {
            if pw.utf8.isEmpty { out.append("an empty password means no authentication; leave it out instead") }
            if pw.utf8.count > 8 { out.append("the VRRPv2 password is at most 8 bytes (keepalived would silently cut it), not \(pw.utf8.count)") }
        }
        if virtualAddresses.isEmpty { out.append("at least one virtual address is needed") }
        if virtualAddresses.count > 255 { out.append("at most 255 virtual addresses fit one advertisement") }
        if let family = virtualAddresses.first?.address.family {
            for v in virtualAddresses.dropFirst() where v.address.family != family {
                out.append("virtual address \(v) is not \(Self.name(family)) like \(virtualAddresses[0]); an instance carries one family")
            }
            if family == .ipv6 && version == .v2 { out.append("VRRPv2 carries IPv4 only; an IPv6 instance needs --version 3") }
        }
        if Set(virtualAddresses.map(\.address)).count != virtualAddresses.count { out.append("a virtual address is listed twice") }
        for address in vipInterfaces.keys.sorted() where !virtualAddresses.contains(where: { $0.address == address }) {
            out.append("an interface is named for \(address), which is no virtual address of the instance")
        }
        for p in unicastPeers where p.family != family || p.isMulticast || p.isUnspecified {
            out.append("unicast peer \(p) is not an \(Self.name(family)) unicast address")
        }
        if let s = sourceAddress, s.family != family { out.append("source address \(s) is not \(Self.name(family))") }
        if syncGroup != nil && priority == 255 {
            out.append("an address owner (priority 255) is master at once and cannot wait for its sync group")
        }
        if preemptDelay < .zero || preemptDelay > .seconds(1000) { out.append("the preempt delay must be 0...1000 s") }
        if !(0...100).contains(gratuitousARP.count) { out.append("the gratuitous ARP count must be 0...100") }
        if !(0...100).contains(gratuitousARP.refreshCount) { out.append("the gratuitous ARP refresh count must be 0...100") }
        if let d = gratuitousARP.repeatDelay, d <= .zero { out.append("the gratuitous ARP repeat delay must be positive (or none)") }
        if let d = gratuitousARP.refreshInterval, d <= .zero { out.append("the gratuitous ARP refresh interval must be positive (or none)") }
        if interface.isEmpty || interface.utf8.count > 15 { out.append("interface name '\(interface)' must be 1...15 bytes") }
        out += trackScripts.flatMap(\.problems)
        if Set(trackScripts.map(\.name)).count != trackScripts.count { out.append("a track script name is used twice") }
        if Set(trackInterfaces.map(\.name)).count != trackInterfaces.count { out.append("a tracked interface is listed twice") }
        for i in trackInterfaces where !(-253...253).contains(i.weight) {
            out.append("tracked interface \(i.name): the weight must be -253...253, not \(i.weight)")
        }
        return out
    }

    /// Throws `.invalidConfiguration` listing every problem.
    public func validate() throws {
        let p = problems
        if !p.isEmpty { throw VRRPError(.invalidConfiguration, p.joined(separator: "; ")) }
    }

    static func seconds(_ centiseconds: Int) -> String {
        let whole = centiseconds / 100, frac = abs(centiseconds % 100)
        return frac == 0 ? "\(whole)" : "\(whole).\(frac < 10 ? "0" : "")\(frac)"
    }
}
