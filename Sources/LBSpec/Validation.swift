/// Pure, exhaustive checks of a spec; every problem is reported, none stops the others.
public enum SpecValidator {
    /// The largest IPVS timeout: the kernel stores seconds × HZ in an int (HZ up to 1000).
    public static let maxIPVSTimeout = 2_147_483
    /// keepalived's own limit for preempt_delay.
    public static let maxPreemptDelay = 1000

    public static func validate(_ spec: ClusterSpec) -> [Diagnostic] {
        var v = Run(spec: spec)
        v.run()
        return v.diagnostics
    }

    /// What is wrong with a cluster or node name (1–63 ASCII letters, digits, '-', '_' and '.'), or nil.
    /// `what` starts the message: "cluster name", "node name".
    public static func nameProblem(_ name: String, what: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
        }
        if name.isEmpty { return "\(what) is empty" }
        if name.utf8.count > 63 || !allowed { return "\(what) '\(name)' must be 1–63 characters of letters, digits, '-', '_' and '.'" }
        return nil
    }

    // Internal rather than private: the checks of keepalived's checkers live in Validation+Checkers.swift.
    struct Run {
        let spec: ClusterSpec
        var diagnostics: [Diagnostic] = []
        let root = SpecPath.root
        /// Firewall marks by address family, with the path of the service that first uses each: IPVS keys
        /// a firewall-mark service by family and mark, whatever VIP it serves.
        var fwmarks: [String: SpecPath] = [:]
        /// Marked VIP:port/protocol, with the path that first marks each: a packet carries one mark.
        var marked: [String: SpecPath] = [:]

        init(spec: ClusterSpec) { self.spec = spec }

        mutating func error(_ path: SpecPath, _ message: String) { diagnostics.append(.error(path, message)) }
        mutating func warning(_ path: SpecPath, _ message: String) { diagnostics.append(.warning(path, message)) }

        mutating func run() {
            checkName(spec.cluster, at: root["cluster"], what: "cluster name")
            checkNodes()
            checkVIPs()
            checkIPVS()
            checkNotifications()
        }

        // MARK: names and ranges

        mutating func checkName(_ name: String, at path: SpecPath, what: String) {
            if let problem = SpecValidator.nameProblem(name, what: what) { error(path, problem) }
        }

        mutating func checkInterface(_ name: String, at path: SpecPath) {
            // The kernel's IFNAMSIZ is 16 including the terminating NUL.
            if name.isEmpty || name.utf8.count > 15 || name == "." || name == ".."
                || name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace }) {
                error(path, "interface name '\(name)' is not valid: 1–15 characters, no '/', ':' or spaces")
            }
        }

        mutating func checkRange(_ value: Int, _ range: ClosedRange<Int>, at path: SpecPath, what: String) {
            if !range.contains(value) {
                error(path, "\(what) \(value) is out of range \(range.lowerBound)–\(range.upperBound)")
            }
        }

        mutating func checkUnicastAddress(_ address: IPAddress, at path: SpecPath, what: String) {
            if address.isUnspecified || address.isMulticast || address.isLoopback || address.isBroadcast {
                error(path, "\(what) \(address) is not a usable unicast address")
            }
        }

        // MARK: nodes

        mutating func checkNodes() {
            var names: [String: Int] = [:]
            var addresses: [IPAddress: Int] = [:]
            for (i, node) in spec.nodes.enumerated() {
                let p = root["nodes"][i]
                checkName(node.name, at: p["name"], what: "node name")
                if let first = names[node.name] {
                    error(p["name"], "duplicate node name '\(node.name)' (first defined at nodes[\(first)])")
                } else { names[node.name] = i }
                checkUnicastAddress(node.address.address, at: p["address"], what: "node address")
                if let first = addresses[node.address.address] {
                    error(p["address"], "address \(node.address.address) is already used by node '\(spec.nodes[first].name)'")
                } else { addresses[node.address.address] = i }
                checkInterface(node.interface, at: p["interface"])
            }
        }

        // MARK: VIPs and VRRP

        mutating func checkVIPs() {
            var names: [String: Int] = [:]
            var addresses: [IPAddress: Int] = [:]
            var groups: [Int: Int] = [:]
            var syncGroups: [String: [Int]] = [:]
            for (i, vip) in spec.vips.enumerated() {
                let p = root["vips"][i]
                checkName(vip.name, at: p["name"], what: "VIP name")
                if let first = names[vip.name] {
                    error(p["name"], "duplicate VIP name '\(vip.name)' (first defined at vips[\(first)])")
                } else { names[vip.name] = i }
                checkUnicastAddress(vip.address.address, at: p["address"], what: "VIP")
                if let first = addresses[vip.address.address] {
                    error(p["address"], "duplicate VIP \(vip.address.address) (first defined at vips[\(first)])")
                } else { addresses[vip.address.address] = i }
                if let iface = vip.interface {
                    checkInterface(iface, at: p["interface"])
                    if iface == "lo" { error(p["interface"], "a director's VIP on lo answers no ARP and draws no traffic; name the interface clients reach the directors on") }
                }
                if let owner = spec.nodes.first(where: { $0.address.address == vip.address.address }) {
                    error(p["address"], "VIP \(vip.address.address) is the address of node '\(owner.name)'; a VIP must be an address no host owns")
                }
                checkVRRP(vip, at: p["vrrp"])
                if let first = groups[vip.vrrp.routerID] {
                    if spec.vips[first].vrrp != vip.vrrp {
                        error(p["vrrp"]["router_id"], "router id \(vip.vrrp.routerID) is already used by VIP '\(spec.vips[first].name)' (vips[\(first)]) with different settings; VIPs that share a router id share one VRRP instance and need identical vrrp blocks")
                    }
                } else {
                    groups[vip.vrrp.routerID] = i
                    if let sync = vip.vrrp.syncGroup {
                        checkName(sync, at: p["vrrp"]["sync_group"], what: "sync group name")
                        syncGroups[sync, default: []].append(i)
                    }
                }
                checkServices(vip, at: p)
            }
            checkSyncGroups(syncGroups)
        }

        /// Each sync group's VRRP groups (the first VIP of each) change state together on each director,
        /// so they have the same directors; a group of one changes with nothing.
        mutating func checkSyncGroups(_ syncGroups: [String: [Int]]) {
            for (name, members) in syncGroups.sorted(by: { $0.value[0] < $1.value[0] }) {
                let first = spec.vips[members[0]]
                let root = self.root
                let at = { (i: Int) in root["vips"][i]["vrrp"]["sync_group"] }
                if members.count == 1 {
                    warning(at(members[0]), "sync group '\(name)' has only router id \(first.vrrp.routerID): it changes state with no other group; give the other groups' vrrp the same sync_group")
                    continue
                }
                let nodes = { (v: VIP) in v.vrrp.directors.map(\.node).sorted() }
                for i in members.dropFirst() where nodes(spec.vips[i]) != nodes(first) {
                    error(at(i), "sync group '\(name)': router id \(spec.vips[i].vrrp.routerID) has directors \(nodes(spec.vips[i]).joined(separator: ", ")) but router id \(first.vrrp.routerID) (vips[\(members[0])]) has \(nodes(first).joined(separator: ", ")); the groups of a sync group change state together on each director, so they need the same directors")
                }
                // Weighted tracking of one member alone moves its priority alone, and the group waits for
                // every member before any preempts: the change would move nothing.
                let weighted = { (v: VIP) -> Set<String> in
                    Set(v.vrrp.trackScripts.filter { $0.weight != 0 }.map { "script \($0.name) weight \($0.weight)\($0.reverse ? " reverse" : "")" }
                        + v.vrrp.trackInterfaces.filter { $0.weight != 0 }.map { "interface \($0.interface) weight \($0.weight)\($0.reverse ? " reverse" : "")" })
                }
                for i in members.dropFirst() where weighted(spec.vips[i]) != weighted(first) {
                    warning(at(i), "sync group '\(name)': router id \(spec.vips[i].vrrp.routerID) tracks with other weights than router id \(first.vrrp.routerID) (vips[\(members[0])]); a priority that moves in one group alone cannot move the sync group, which waits for every member: give them the same weighted track scripts and interfaces")
                }
            }
        }

        mutating func checkVRRP(_ vip: VIP, at p: SpecPath) {
            let g = vip.vrrp
            checkRange(g.routerID, 1...255, at: p["router_id"], what: "virtual router id")
            switch g.version {
            case 2:
                if vip.address.address.family == .ipv6 {
                    error(p["version"], "VRRP version 2 carries IPv4 only; use version 3 for an IPv6 VIP")
                }
                if g.advertIntervalCentiseconds % 100 != 0 || !(100...25500).contains(g.advertIntervalCentiseconds) {
                    error(p["advert_interval"], "VRRPv2 advert interval must be whole seconds 1–255, got \(Self.seconds(g.advertIntervalCentiseconds)) s; use version 3 for sub-second adverts")
                }
            case 3:
                if !(1...4095).contains(g.advertIntervalCentiseconds) {
                    error(p["advert_interval"], "VRRPv3 advert interval must be 0.01–40.95 s, got \(Self.seconds(g.advertIntervalCentiseconds)) s")
                }
                if g.authPassword != nil {
                    error(p["auth"], "VRRPv3 has no authentication (RFC 5798 removed it); remove the password or use version 2")
                }
            default:
                error(p["version"], "VRRP version must be 2 or 3, got \(g.version)")
            }
            if let pw = g.authPassword {
                if pw.isEmpty {
                    error(p["auth"]["password"], "VRRP password is empty; omit auth for no authentication")
                } else if pw.utf8.count > 8 {
                    error(p["auth"]["password"], "VRRP password is \(pw.utf8.count) bytes; the protocol carries at most 8 (keepalived silently truncates, so peers would disagree)")
                }
            }
            checkRange(g.preemptDelaySeconds, 0...SpecValidator.maxPreemptDelay, at: p["preempt_delay"], what: "preempt delay")
            if !g.preempt && g.preemptDelaySeconds > 0 {
                warning(p["preempt_delay"], "preempt delay has no effect when preempt is off")
            }
            checkRange(g.gratuitousARP.count, 1...100, at: p["gratuitous_arp"]["count"], what: "gratuitous ARP count")
            checkRange(g.gratuitousARP.repeatDelaySeconds, 0...3600, at: p["gratuitous_arp"]["repeat_delay"], what: "gratuitous ARP repeat delay")
            checkRange(g.gratuitousARP.refreshSeconds, 0...86400, at: p["gratuitous_arp"]["refresh"], what: "gratuitous ARP refresh")
            checkTrackScripts(g.trackScripts, at: p["track_scripts"])
            for (state, command) in g.notify.named {
                if command.allSatisfy({ $0 == " " || $0 == "\t" }) {
                    error(p["notify"][state], "the \(state) script is empty; leave it out to run nothing")
                } else if command.contains("\"") {
                    error(p["notify"][state], "the \(state) script has a double quote, which keepalived.conf cannot hold inside notify_\(state) \"…\"; put it in a script file")
                }
            }
            var tracked: [String: Int] = [:]
            for (i, t) in g.trackInterfaces.enumerated() {
                let tp = p["track_interfaces"][i]
                checkInterface(t.interface, at: tp["interface"])
                if let first = tracked[t.interface] {
                    error(tp["interface"], "interface \(t.interface) is tracked twice (first at track_interfaces[\(first)])")
                } else { tracked[t.interface] = i }
                checkRange(t.weight, -253...253, at: tp["weight"], what: "tracked interface weight")
            }
            checkDirectors(vip, at: p["directors"])
        }

        /// keepalived's ranges (vrrp_parser.c): interval and timeout whole seconds from 1, rise and fall from
        /// 1, weight -253...253 (±254 would take any priority past an end of 1...254).
        mutating func checkTrackScripts(_ scripts: [TrackScript], at p: SpecPath) {
            var names: [String: Int] = [:]
            for (i, t) in scripts.enumerated() {
                let tp = p[i]
                checkName(t.name, at: tp["name"], what: "track script name")
                if let first = names[t.name] {
                    error(tp["name"], "track script '\(t.name)' is defined twice (first at track_scripts[\(first)])")
                } else { names[t.name] = i }
                if t.command.isEmpty {
                    error(tp["command"], "track script '\(t.name)' has an empty command")
                } else if t.command.contains("\"") {
                    error(tp["command"], "track script '\(t.name)': the command has a double quote, which keepalived.conf cannot hold inside script \"…\"; put it in a script file")
                }
                checkRange(t.intervalSeconds, 1...86400, at: tp["interval"], what: "track script interval (seconds)")
                if let timeout = t.timeoutSeconds {
                    checkRange(timeout, 1...86400, at: tp["timeout"], what: "track script timeout (seconds)")
                }
                checkRange(t.rise, 1...1000, at: tp["rise"], what: "track script rise")
                checkRange(t.fall, 1...1000, at: tp["fall"], what: "track script fall")
                checkRange(t.weight, -253...253, at: tp["weight"], what: "track script weight")
            }
        }

        mutating func checkDirectors(_ vip: VIP, at p: SpecPath) {
            let g = vip.vrrp
            if g.directors.isEmpty {
                error(p, "VIP '\(vip.name)' has no directors; list at least one node with a priority")
                return
            }
            if g.directors.count == 1 {
                warning(p, "VIP '\(vip.name)' has a single director: nothing takes over if it fails")
            }
            var seen: [String: Int] = [:]
            var priorities: [Int: Int] = [:]
            for (i, d) in g.directors.enumerated() {
                let dp = p[i]
                if let first = seen[d.node] {
                    error(dp["node"], "node '\(d.node)' is listed twice as a director (first at directors[\(first)])")
                } else { seen[d.node] = i }
                if d.priority == 255 {
                    error(dp["priority"], "priority 255 is reserved for the owner of the VIP address, which no director is; use 1–254")
                } else {
                    checkRange(d.priority, 1...254, at: dp["priority"], what: "VRRP priority")
                }
                if let first = priorities[d.priority] {
                    warning(dp["priority"], "priority \(d.priority) equals directors[\(first)]'s; ties are broken by the higher address, so give each director its own priority")
                } else { priorities[d.priority] = i }
                if let iface = d.interface { checkInterface(iface, at: dp["interface"]) }
                guard let node = spec.node(named: d.node) else {
                    error(dp["node"], undefinedNode(d.node))
                    continue
                }
                checkSubnet(vip: vip, director: node, interface: d.interface ?? node.interface, at: dp["node"])
            }
            if g.unicast && g.directors.count < 2 {
                warning(p, "unicast VRRP with one director has no peer to send to")
            }
        }

        mutating func checkSubnet(vip: VIP, director node: Node, interface: String, at path: SpecPath) {
            let vipAddress = vip.address.address
            // An unreadable address was already reported; checking its placeholder would only add noise.
            if node.address.address.isUnspecified || vipAddress.isUnspecified { return }
            guard vipAddress.family == node.address.address.family else {
                error(path, "director '\(node.name)' has an \(node.address.address.family.rawValue) address but VIP '\(vip.name)' is \(vipAddress.family.rawValue)")
                return
            }
            // On another interface than the one with the director's address, the VIP is on another segment.
            if (vip.interface ?? interface) != node.interface { return }
            if node.hasSubnet && !node.address.contains(vipAddress) {
                // A routed VIP, or a second subnet on the segment, is ordinary; only the network can tell.
                warning(path, "VIP \(vip.address) is outside \(node.address.network)/\(node.address.prefixLength), the subnet of director '\(node.name)'; clients reach it only if the network routes it to the directors or has that subnet on their segment")
            } else if vip.address.prefixLength < vipAddress.bitWidth && !vip.address.contains(node.address.address) {
                error(path, "VIP prefix \(vip.address) does not contain \(node.address.address), the address of director '\(node.name)'; use the subnet's prefix, or /\(vipAddress.bitWidth) for a VIP routed to the directors")
            }
        }

        func undefinedNode(_ name: String) -> String {
            let hint = Suggest.closest(to: name, among: spec.nodes.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
            return "node '\(name)' is not defined in nodes\(hint)"
        }

        // MARK: services

        /// An fwmark service: a mark IPVS can key, used once per address family, and marked ports that no
        /// port service of the VIP also claims (IPVS looks marks up first, so that service would never see
        /// a packet).
        mutating func checkFirewallMark(_ fwmark: FirewallMark, of s: VirtualService, vip: VIP, at p: SpecPath) {
            // 0 is an unmarked packet; the kernel's mark is 32 bits.
            checkRange(fwmark.mark, 1...Int(UInt32.max), at: p["mark"], what: "firewall mark")
            let family = vip.address.address.family == .ipv4 ? "IPv4" : "IPv6"
            if let first = fwmarks["\(family) \(fwmark.mark)"] {
                error(p["mark"], "firewall mark \(fwmark.mark) is already the \(family) fwmark service at \(first); IPVS has one service per mark and family, so give each service its own mark")
            } else { fwmarks["\(family) \(fwmark.mark)"] = p }
            if fwmark.ports.isEmpty {
                warning(p["ports"], "lb marks no packets with \(fwmark.mark): rules of your own must mark the packets for this service, as with keepalived")
            }
            if !fwmark.ports.isEmpty {
                // The agent does not write the nftables rules yet; accepting ports it would not mark
                // would leave the service silently unreachable.
                error(p["ports"], "lb does not mark packets yet: leave fwmark.ports empty and mark the VIP's ports with mark \(fwmark.mark) by rules of your own, as with keepalived")
            }
            var seen = Set<Int>()
            for (j, port) in fwmark.ports.enumerated() {
                checkRange(port, 1...65535, at: p["ports"][j], what: "marked port")
                let endpoint = "\(Endpoint(address: vip.address.address, port: port))/\(s.protocol.rawValue)"
                if !seen.insert(port).inserted {
                    warning(p["ports"][j], "port \(port) is listed more than once")
                } else if let first = marked[endpoint] {
                    error(p["ports"][j], "\(endpoint) is already marked at \(first); a packet carries one mark, so it can reach one fwmark service")
                } else { marked[endpoint] = p["ports"][j] }
                if let other = vip.services.firstIndex(where: { $0.fwmark == nil && $0.port == port && $0.protocol == s.protocol }) {
                    error(p["ports"][j], "\(vip.address.address):\(port)/\(s.protocol.rawValue) is both marked for fwmark \(fwmark.mark) and the service at services[\(other)]; IPVS would send every such packet to the fwmark service, so list the port in one place")
                }
            }
        }

        mutating func checkServices(_ vip: VIP, at vp: SpecPath) {
            var keys: [String: Int] = [:]
            let directors = Set(vip.vrrp.directors.map(\.node))
            for (i, s) in vip.services.enumerated() {
                let p = vp["services"][i]
                checkRange(s.port, 1...65535, at: p["port"], what: "service port")
                let name = s.fwmark.map { "fwmark \($0.mark) of \(vip.address.address)" } ?? "\(vip.address.address):\(s.port)/\(s.protocol.rawValue)"
                if let fwmark = s.fwmark {
                    checkFirewallMark(fwmark, of: s, vip: vip, at: p["fwmark"])
                } else {
                    let key = "\(s.port)/\(s.protocol.rawValue)"
                    if let first = keys[key] {
                        error(p["port"], "duplicate service \(vip.address.address):\(key) (first defined at services[\(first)])")
                    } else { keys[key] = i }
                }
                if vip.address.address.family == .ipv6 {
                    if s.forwarding == .tun {
                        error(p["forwarding"], Self.tunIPv6)
                    }
                    for (j, rs) in s.realServers.enumerated() where rs.forwarding == .tun {
                        error(p["real_servers"][j]["forwarding"], Self.tunIPv6)
                    }
                    if s.sorryServer != nil, s.sorryServerForwarding == .tun {
                        error(p["sorry_server"]["forwarding"], Self.tunIPv6)
                    }
                }
                if s.sorryServer == nil && (s.sorryServerForwarding != nil || s.sorryServerInhibit) {
                    error(p["sorry_server"], "sorry server forwarding and inhibit need a sorry server address")
                }
                if !s.schedulerFlags.isEmpty && !s.scheduler.acceptsFlags {
                    error(p["scheduler_flags"], "scheduler flags apply to sh and mh only, not \(s.scheduler.rawValue)")
                }
                if Set(s.schedulerFlags).count != s.schedulerFlags.count {
                    warning(p["scheduler_flags"], "scheduler flags are listed more than once")
                }
                if let persistence = s.persistence { checkPersistence(persistence, vip: vip, at: p["persistence"]) }
                checkRange(s.quorum, 1...65535, at: p["quorum"], what: "quorum")
                if s.quorum > s.realServers.count && !s.realServers.isEmpty {
                    error(p["quorum"], "quorum \(s.quorum) can never be met with \(s.realServers.count) real server(s)")
                }
                checkQuorumFamily(s, at: p)
                if let sorry = s.sorryServer { checkEndpoint(sorry, vip: vip, service: s, forwarding: s.sorryForwarding, at: p["sorry_server"], what: "sorry server") }
                if let hc = s.healthCheck { checkHealthCheck(hc, service: s, at: p["health_check"]) }
                if s.inhibitOnFailure && s.healthCheck == nil {
                    warning(p["inhibit_on_failure"], Self.inhibitWithoutCheck)
                }
                if s.realServers.isEmpty {
                    warning(p["real_servers"], "service \(name) has no real servers: IPVS will drop its connections")
                } else if s.realServers.allSatisfy(\.drain) {
                    warning(p["real_servers"], "every real server of service \(name) is drained: none takes new connections")
                }
                checkRealServers(s, vip: vip, directors: directors, at: p["real_servers"])
            }
        }

        mutating func checkPersistence(_ persistence: Persistence, vip: VIP, at p: SpecPath) {
            checkRange(persistence.timeoutSeconds, 1...SpecValidator.maxIPVSTimeout, at: p["timeout"], what: "persistence timeout")
            if persistence.netmask.family != .ipv4 || persistence.netmask.contiguousPrefixLength == nil {
                error(p["netmask"], "persistence netmask \(persistence.netmask) is not a contiguous IPv4 netmask such as 255.255.255.255 (per client) or 255.255.255.0 (per /24)")
            } else if vip.address.address.family == .ipv6 && persistence.netmask != .v4(.max) {
                error(p["netmask"], "a persistence netmask applies to IPv4 services only")
            }
        }

        mutating func checkEndpoint(_ e: Endpoint, vip: VIP, service s: VirtualService, forwarding: Forwarding, at p: SpecPath, what: String) {
            checkUnicastAddress(e.address, at: p["address"], what: what)
            if e.address.family != vip.address.address.family {
                error(p["address"], "\(what) \(e.address) is \(e.address.family.rawValue) but the VIP is \(vip.address.address.family.rawValue)")
            }
            if !(e.port == 0 && s.port == 0) { // 0 is the placeholder of an unreadable service port
                checkRange(e.port, 1...65535, at: p["port"], what: "\(what) port")
            }
            if forwarding != .nat && s.port != 0 && e.port != s.port && s.fwmark == nil {
                error(p["port"], "\(what) port \(e.port) differs from the service port \(s.port); \(Self.forwardingName(forwarding)) cannot change ports (use the service port, or forwarding: nat)")
            }
        }

        mutating func checkHealthCheck(_ hc: HealthCheck, service s: VirtualService, at p: SpecPath) {
            if let port = hc.port { checkRange(port, 1...65535, at: p["port"], what: "health check port") }
            if hc.intervalMilliseconds < 100 {
                error(p["interval"], "health check interval must be at least 100ms")
            }
            if hc.connectTimeoutMilliseconds < 1 {
                error(p["connect_timeout"], "connect timeout must be positive")
            } else if hc.connectTimeoutMilliseconds >= hc.intervalMilliseconds {
                warning(p["connect_timeout"], "connect timeout \(hc.connectTimeoutMilliseconds)ms is not shorter than the interval \(hc.intervalMilliseconds)ms: checks will overlap")
            }
            checkRange(hc.retries, 1...100, at: p["retries"], what: "retries")
            if hc.retryDelayMilliseconds < 0 { error(p["retry_delay"], "retry delay must not be negative") }
            switch hc.kind {
            case .http, .https, .websocket:
                if !hc.path.hasPrefix("/") { error(p["path"], "path '\(hc.path)' must start with '/'") }
                checkRange(hc.expectStatus, 100...599, at: p["expect_status"], what: "expected HTTP status")
                if hc.kind == .websocket && hc.expectStatus != 101 {
                    warning(p["expect_status"], "a WebSocket upgrade answers 101 Switching Protocols; expecting \(hc.expectStatus) will mark every server down")
                }
            case .exec:
                if (hc.command ?? "").isEmpty { error(p["command"], "an exec health check needs a command") }
            case .tcp, .udp, .dns, .smtp, .ping:
                break
            }
            if hc.kind != .exec && hc.command != nil {
                error(p["command"], "command is used by exec health checks only, not \(hc.kind.rawValue)")
            }
            checkCheckerKeys(hc, at: p)
            checkProtocolCheckerKeys(hc, at: p)
            if hc.kind == .ping && hc.port != nil {
                warning(p["port"], "a ping check has no port: ICMP echo reaches the address")
            }
            if s.protocol == .udp && [.tcp, .http, .https, .websocket, .smtp].contains(hc.kind) && hc.port == nil {
                warning(p["type"], "a \(hc.kind.rawValue) check of a UDP service probes TCP on the same port; set port to a TCP port the real servers listen on")
            }
        }

        mutating func checkRealServers(_ s: VirtualService, vip: VIP, directors: Set<String>, at p: SpecPath) {
            var seen: [Endpoint: Int] = [:]
            for (i, rs) in s.realServers.enumerated() {
                let rp = p[i]
                let port = rs.port ?? s.port
                if let port = rs.port { checkRange(port, 1...65535, at: rp["port"], what: "real server port") }
                checkRange(rs.weight, 0...65535, at: rp["weight"], what: "weight")
                if let deadline = rs.drainDeadline {
                    if !rs.drain {
                        error(rp["drain_deadline"], "drain_deadline applies only to a draining real server; add drain: true to drain it, or remove drain_deadline")
                    }
                    // Only a spec built in code or decoded from JSON can hold one: YAML is read through RFC3339.
                    if !RFC3339.range.contains(deadline) {
                        error(rp["drain_deadline"], "drain deadline \(deadline) (seconds since 1970) is outside the years 0000–9999")
                    }
                }
                if rs.inhibitOnFailure == true && s.healthCheck == nil {
                    warning(rp["inhibit_on_failure"], Self.inhibitWithoutCheck)
                }
                let forwarding = s.forwarding(of: rs)
                // An fwmark service forwards whatever port a packet has; a real server's port aims its checks.
                if forwarding != .nat && s.port != 0 && port != s.port && s.fwmark == nil {
                    error(rp["port"], "real server port \(port) differs from the service port \(s.port); \(Self.forwardingName(forwarding)) cannot change ports (use \(s.port), or forwarding: nat)")
                }
                let address: IPAddress
                switch (rs.node, rs.address) {
                case (nil, nil):
                    error(rp, "a real server needs a node or an address")
                    continue
                case (.some, .some):
                    error(rp, "a real server takes a node or an address, not both")
                    continue
                case (.some(let name), nil):
                    guard let node = spec.node(named: name) else {
                        error(rp["node"], undefinedNode(name))
                        continue
                    }
                    if directors.contains(name) {
                        error(rp["node"], "node '\(name)' is both a director and a real server of VIP '\(vip.name)'; a director cannot forward to itself")
                    }
                    address = node.address.address
                case (nil, .some(let a)):
                    checkUnicastAddress(a, at: rp["address"], what: "real server")
                    if let owner = spec.nodes.first(where: { $0.address.address == a }), directors.contains(owner.name) {
                        error(rp["address"], "\(a) is director '\(owner.name)' of VIP '\(vip.name)'; a director cannot forward to itself")
                    }
                    if forwarding != .nat, spec.nodes.first(where: { $0.address.address == a }) == nil {
                        warning(rp["address"], "real server \(a) is not a node of this cluster, so lb cannot put the VIP on its \(forwarding == .tun ? "tunl0" : "lo") or set its ARP sysctls; configure them on that host yourself")
                    }
                    address = a
                }
                if address.family != vip.address.address.family {
                    error(rp, "real server \(address) is \(address.family.rawValue) but the VIP is \(vip.address.address.family.rawValue)")
                }
                if address == vip.address.address {
                    error(rp, "a real server cannot be the VIP itself")
                }
                let endpoint = Endpoint(address: address, port: port)
                if let first = seen[endpoint] {
                    error(rp, "duplicate real server \(endpoint) (first at real_servers[\(first)])")
                } else { seen[endpoint] = i }
            }
        }

        // MARK: cluster-wide

        mutating func checkIPVS() {
            let p = root["ipvs"]
            let t = spec.ipvs.timeouts
            let max = SpecValidator.maxIPVSTimeout
            checkRange(t.tcp, 1...max, at: p["timeouts"]["tcp"], what: "tcp timeout")
            checkRange(t.tcpFin, 1...max, at: p["timeouts"]["tcpfin"], what: "tcpfin timeout")
            checkRange(t.udp, 1...max, at: p["timeouts"]["udp"], what: "udp timeout")
            if (1..<3600).contains(t.tcp) {
                warning(p["timeouts"]["tcp"], "tcp timeout \(t.tcp) s forgets a WebSocket idle for longer; long-lived connections want at least 3600 s")
            }
            checkRange(spec.ipvs.sync.syncID, 0...255, at: p["sync"]["sync_id"], what: "sync id")
            if let iface = spec.ipvs.sync.interface { checkInterface(iface, at: p["sync"]["interface"]) }
        }

        mutating func checkNotifications() {
            let p = root["notifications"]
            let n = spec.notifications
            if let email = n.email {
                let ep = p["email"]
                if email.to.isEmpty { error(ep["to"], "e-mail notifications need at least one recipient") }
                for (i, to) in email.to.enumerated() where !Self.looksLikeMailbox(to) {
                    error(ep["to"][i], "'\(to)' is not an e-mail address")
                }
                if !Self.looksLikeMailbox(email.from) { error(ep["from"], "'\(email.from)' is not an e-mail address") }
                if email.smtpServer.isEmpty { error(ep["smtp_server"], "smtp_server is empty") }
                checkRange(email.smtpPort, 1...65535, at: ep["smtp_port"], what: "SMTP port")
                checkRange(email.timeoutSeconds, 1...3600, at: ep["timeout"], what: "SMTP timeout")
            }
            if let url = n.webhook, !(url.hasPrefix("http://") || url.hasPrefix("https://")) || url.count < 9 {
                error(p["webhook"], "webhook '\(url)' must be an http:// or https:// URL")
            }
            if let script = n.script, !script.hasPrefix("/") {
                error(p["script"], "script '\(script)' must be an absolute path")
            }
        }

        /// `local@domain`, or a bare local part (`root`): a mailbox on the SMTP server's own host, as
        /// keepalived's notification_email takes it and mail servers deliver it (Postfix adds its domain).
        static func looksLikeMailbox(_ s: String) -> Bool {
            let parts = s.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.allSatisfy({ !$0.isEmpty }), !s.contains(where: \.isWhitespace) else { return false }
            return parts.count <= 2
        }

        /// ops and the quorum family (hysteresis, quorum_up, quorum_down, alpha, omega) of one service at `p`.
        mutating func checkQuorumFamily(_ s: VirtualService, at p: SpecPath) {
            if s.ops && s.protocol != .udp {
                error(p["ops"], "ops (one-packet scheduling) applies to udp services only, not \(s.protocol.rawValue)")
            }
            checkRange(s.hysteresis, 0...65535, at: p["hysteresis"], what: "hysteresis")
            // keepalived's check_data.c: at or above the quorum the band would reach zero servers.
            if s.hysteresis > 0, s.hysteresis >= s.quorum {
                error(p["hysteresis"], "hysteresis \(s.hysteresis) must be below quorum \(s.quorum), as keepalived requires")
            }
            // Quorum is gained only at quorum + hysteresis servers: beyond the list it never comes back once lost.
            if s.hysteresis > 0, s.quorum + s.hysteresis > s.realServers.count, !s.realServers.isEmpty {
                error(p["hysteresis"], "quorum \(s.quorum) + hysteresis \(s.hysteresis) can never be met with \(s.realServers.count) real server(s)")
            }
            for (key, command) in [("quorum_up", s.quorumUp), ("quorum_down", s.quorumDown)] {
                if let command, command.allSatisfy(\.isWhitespace) { error(p[key], "\(key) is an empty command") }
            }
            if s.omega && s.quorumDown == nil {
                warning(p["omega"], "omega has no effect without quorum_down: it only runs quorum_down when the agent stops")
            }
            if s.alpha && s.healthCheck == nil {
                warning(p["alpha"], "alpha has no effect without a health_check: every real server is up")
            }
        }

        static let inhibitWithoutCheck = "inhibit_on_failure has no effect without a health_check: no real server is ever marked down"

        static let tunIPv6 = "tun forwarding of IPv6 services is not supported yet; use dr or nat"

        static func forwardingName(_ f: Forwarding) -> String {
            f == .dr ? "direct routing" : "tunnelling"
        }

        static func seconds(_ centiseconds: Int) -> String {
            centiseconds % 100 == 0 ? "\(centiseconds / 100)" : "\(Double(centiseconds) / 100)"
        }
    }
}

/// "Did you mean" hints by edit distance.
public enum Suggest {
    /// The candidate nearest to `word`, if it is close enough to be a likely typo.
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, word.count / 3) ? best.0 : nil
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
