import LBSpec

/// The VRRP state machine of RFC 3768 (v2) and RFC 5798 (v3) section 6, as a value: fed one event and
/// the current time, it returns the ordered actions its shell performs. No sockets, no clock, no
/// threads; time is a `Duration` since any fixed origin (the shell's monotonic clock, or a test's).
///
/// Timers are deadlines kept here: Master_Down_Timer (Backup), Adver_Timer and the gratuitous ARP
/// bursts (Master). Whenever an event moves a deadline, its actions end with `.scheduleTimer(at:)`, the
/// earliest one (a discarded packet moves none); the shell calls `timerFired(now:)` then, which handles
/// every deadline that has passed.
///
/// Beyond the RFC, as keepalived does (so a mixed cluster behaves the same whichever speaker is master):
/// a master that hears a lower-priority master answers with an advertisement at once so it steps down
/// without waiting an interval; preempt delay; stale virtual addresses are removed at startup; a backup
/// keeps following its master when the master's address list changes (keepalived's skip_check_adv_addr).
///
/// A running instance takes a new configuration in place (`reconfigure`) without a state transition and
/// without touching a virtual address that stays: keepalived's reload re-enters BACKUP and flaps them.
///
/// Tracking (keepalived's track_script and track_interface) reaches it as `setTracking`: a priority
/// offset, which moves the priority it advertises and elects with, and FAULT while something tracked
/// without a weight is down, as keepalived's FAULT state (not in the RFCs): a master resigns with a
/// priority-0 advertisement and gives up its addresses, and nothing is sent or heard until it clears.
///
/// A member of a sync group (keepalived's vrrp_sync_group) never becomes master by its own timer: it
/// says it wants to (`.syncWantsMaster`) and waits for `syncPromote`; `syncDemote` takes it out of
/// MASTER with the rest of its group. `VRRPSyncGroup` decides both; a group fault reaches it as tracking.
public struct VRRPInstance: Sendable {
    public private(set) var configuration: VRRPConfiguration
    /// This router's primary address: the source of its adverts and the tie-breaker.
    public let primaryAddress: IPAddress
    public private(set) var state: VRRPState = .initialize
    public private(set) var statistics = VRRPStatistics()
    /// Master_Adver_Interval: v3 learns it from the master's adverts; v2 keeps its own.
    public private(set) var masterAdvertisementInterval: Duration
    /// The sender of the last advertisement this backup accepted.
    public private(set) var masterAddress: IPAddress?

    private var started = false
    private var masterDownAt: Duration?
    private var advertiseAt: Duration?
    private var garpRepeatAt: Duration?
    private var garpRefreshAt: Duration?
    /// Preempt delay: when a lower-priority master was first heard; preemption waits until this + delay.
    private var lowerMasterSince: Duration?
    /// What armed the Master_Down_Timer, to explain a takeover.
    private var downCause: DownCause = .none
    private var lastAcceptedAt: Duration?
    /// The tracked objects' effect, as last given to `setTracking`.
    public private(set) var tracking = VRRPTrackingStatus()
    /// A sync group member in BACKUP whose own election would make it master (its Master_Down_Timer ran
    /// out); it waits for `syncPromote`, as keepalived's wantstate MASTER waits for the whole group.
    public private(set) var wantsMaster = false

    private enum DownCause: Sendable { case none, resigned(IPAddress), preempting(IPAddress, Int) }

    public init(configuration: VRRPConfiguration, primaryAddress: IPAddress) {
        self.configuration = configuration
        self.primaryAddress = primaryAddress
        masterAdvertisementInterval = configuration.advertisementInterval
    }

    /// The priority this router advertises and elects with: the configured one moved by tracking.
    public var effectivePriority: Int { tracking.effectivePriority(base: configuration.priority) }
    var priority: UInt8 { UInt8(effectivePriority) }
    var isOwner: Bool { configuration.priority == 255 }
    var vips: [IPAddress] { configuration.virtualAddresses.map(\.address) }

    /// The earliest pending deadline.
    public var nextDeadline: Duration? {
        [masterDownAt, advertiseAt, garpRepeatAt, garpRefreshAt].compactMap { $0 }.min()
    }

    // MARK: Timer formulas

    /// Skew_Time. v2 (RFC 3768 6.1): (256 − Priority) / 256 seconds. v3 (RFC 5798 6.1):
    /// ((256 − Priority) × Master_Adver_Interval) / 256.
    public var skewTime: Duration {
        let p = Int64(256 - effectivePriority)
        switch configuration.version {
        case .v2: return .nanoseconds(p * 1_000_000_000 / 256)
        case .v3: return .nanoseconds(p * nanoseconds(masterAdvertisementInterval) / 256)
        }
    }

    /// Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time (v2: Advertisement_Interval).
    public var masterDownInterval: Duration { masterAdvertisementInterval * 3 + skewTime }

    // MARK: Events

    /// Startup event (6.4.1). Priority 255 becomes master at once; everyone else waits as backup.
    public mutating func start(now: Duration) -> [VRRPAction] {
        guard !started else { return [] }
        started = true
        if let reason = tracking.fault {
            state = .fault
            return [.removeAddresses(configuration.virtualAddresses),
                    .notify(transition(.initialize, .fault, .fault(reason), now)), .scheduleTimer(at: nil)]
        }
        if isOwner {
            return becomeMaster(now: now, reason: .addressOwner)
        }
        state = .backup
        masterAdvertisementInterval = configuration.advertisementInterval
        masterDownAt = now + masterDownInterval
        downCause = .none
        lastAcceptedAt = now
        return [.removeAddresses(configuration.virtualAddresses),
                .notify(transition(.initialize, .backup, .startup(masterDownInterval: masterDownInterval), now)),
                .scheduleTimer(at: nextDeadline)]
    }

    /// Shutdown event: a master resigns with a priority-0 advertisement before giving up its addresses,
    /// so the best backup takes over after Skew_Time instead of Master_Down_Interval.
    public mutating func shutdown(now: Duration) -> [VRRPAction] {
        guard started, state != .initialize else { return [] }
        let from = state
        var out = resignIfMaster()
        state = .initialize
        clearTimers()
        out.append(.notify(transition(from, .initialize, .shutdown, now)))
        out.append(.scheduleTimer(at: nil))
        return out
    }

    /// The deadlines that have passed: Master_Down_Timer, Adver_Timer, gratuitous ARP bursts.
    public mutating func timerFired(now: Duration) -> [VRRPAction] {
        var out: [VRRPAction] = []
        switch state {
        case .initialize, .fault:
            return []
        case .backup:
            guard let down = masterDownAt, down <= now else { break }
            let reason: VRRPTransition.Reason
            switch downCause {
            case .resigned(let from): reason = .masterResigned(from, skew: skewTime)
            case .preempting(let from, let p): reason = .preempted(from, priority: p)
            case .none: reason = .masterDown(silentFor: now - (lastAcceptedAt ?? now), lastMaster: masterAddress)
            }
            if configuration.syncGroup != nil {
                // keepalived (vrrp_sync_can_goto_master) re-arms the timer and waits for the group likewise.
                masterDownAt = now + masterDownInterval
                out.append(contentsOf: wantMaster(true))
                break
            }
            return becomeMaster(now: now, reason: reason)
        case .master:
            if let at = advertiseAt, at <= now {
                out.append(.sendAdvertisement(advertisement(priority: priority)))
                statistics.advertisementsSent += 1
                advertiseAt = now + configuration.advertisementInterval
            }
            if let at = garpRepeatAt, at <= now {
                garpRepeatAt = nil
                if configuration.gratuitousARP.count > 0 { out.append(.sendGratuitousARP(vips, count: configuration.gratuitousARP.count)) }
            }
            if let at = garpRefreshAt, at <= now, let every = configuration.gratuitousARP.refreshInterval {
                garpRefreshAt = now + every
                if configuration.gratuitousARP.refreshCount > 0 {
                    out.append(.sendGratuitousARP(vips, count: configuration.gratuitousARP.refreshCount))
                }
            }
        }
        out.append(.scheduleTimer(at: nextDeadline))
        return out
    }

    /// A datagram from the raw socket: the IPv4 or IPv6 header and the VRRP message. Malformed input is
    /// counted and discarded, never thrown.
    public mutating func receive(datagram: [UInt8], now: Duration) -> [VRRPAction] {
        guard started, state != .initialize, state != .fault else { return [] }
        let source: IPAddress, destination: IPAddress, hops: UInt8, next: UInt8, payload: ArraySlice<UInt8>
        do {
            if datagram.first.map({ $0 >> 4 }) == 6 {
                let (header, body) = try IPv6Header.decode(datagram[...])
                (source, destination, hops, next, payload) = (header.source, header.destination, header.hopLimit, header.nextHeader, body)
            } else {
                let (header, body) = try IPv4Header.decode(datagram)
                (source, destination, hops, next, payload) = (header.source, header.destination, header.timeToLive, header.protocolNumber, body)
            }
        } catch {
            return [discard(.malformed, nil, "\(error)")]
        }
        guard next == IPv4Header.vrrpProtocol else {
            return [discard(.malformed, source, "IP protocol \(next), not VRRP (112)")]
        }
        guard source.family == primaryAddress.family else {
            return [discard(.malformed, source, "an \(VRRPConfiguration.name(source.family)) advertisement on an \(VRRPConfiguration.name(primaryAddress.family)) instance")]
        }
        let advert: VRRPAdvertisement
        do {
            advert = try VRRPAdvertisement.decode(payload, source: source, destination: destination)
        } catch {
            return [discard(.malformed, source, "\(error)")]
        }
        return receive(advert, source: source, timeToLive: hops, now: now)
    }

    /// A decoded advertisement from `source` with the IP TTL it arrived with: the checks of section 7.1
    /// that depend on this router's configuration, then the state's rules (6.4.2, 6.4.3).
    public mutating func receive(_ advert: VRRPAdvertisement, source: IPAddress, timeToLive: UInt8, now: Duration) -> [VRRPAction] {
        guard started, state != .initialize, state != .fault else { return [] }
        if let rejection = check(advert, source: source, timeToLive: timeToLive) {
            return [discard(rejection.reason, source, rejection.detail)]
        }
        statistics.advertisementsReceived += 1
        if advert.priority == 0 { statistics.priorityZeroReceived += 1 }
        if !sameAddresses(advert) { statistics.addressListMismatchesAccepted += 1 }
        switch state {
        case .initialize, .fault: return []
        case .backup: return backupReceive(advert, source: source, now: now)
        case .master: return masterReceive(advert, source: source, now: now)
        }
    }

    // MARK: Receive checks (section 7.1)

    private func check(_ a: VRRPAdvertisement, source: IPAddress, timeToLive: UInt8) -> (reason: VRRPDiscard.Reason, detail: String)? {
        let c = configuration
        if source == primaryAddress { return (.ownAdvertisement, "our own advertisement came back") }
        if timeToLive != 255 { return (.ttl, "IP TTL \(timeToLive), expected 255 (the packet crossed a router)") }
        if a.version != c.version { return (.version, "\(a.version) advertisement, this instance speaks \(c.version)") }
        if Int(a.virtualRouterID) != c.virtualRouterID {
            return (.otherVirtualRouter, "VRID \(a.virtualRouterID), this instance is VRID \(c.virtualRouterID)")
        }
        if isOwner { return (.addressOwner, "this router owns the addresses (priority 255) and never yields; advert priority \(a.priority)") }
        if !c.unicastPeers.isEmpty && !c.unicastPeers.contains(source) {
            return (.notPeer, "\(source) is not one of the unicast peers")
        }
        if c.version == .v2 {
            let wantType = c.authPassword == nil ? VRRPAdvertisement.AuthType.none : VRRPAdvertisement.AuthType.simpleText
            if a.authType != wantType {
                return (.authType, "authentication type \(a.authType), expected \(wantType) (\(wantType == 0 ? "none" : "simple text password"))")
            }
            if let pw = c.authPassword, a.authData != VRRPAdvertisement.passwordData(pw) {
                return (.authentication, "wrong password")
            }
            if a.intervalCentiseconds != c.advertisementIntervalCentiseconds {
                return (.interval, "advertisement interval \(a.intervalCentiseconds / 100) s, this instance uses \(c.advertisementIntervalCentiseconds / 100) s")
            }
        }
        // A new address list reaches the routers of a group one at a time, and each discarding the other's
        // adverts meanwhile makes two masters (keepalived's issue #1603). The master this backup already
        // follows is followed through the change; anyone else with other addresses is misconfigured.
        if !sameAddresses(a) && !(state == .backup && source == masterAddress) {
            return (.addressList, "addresses [\(a.addresses.map(\.description).joined(separator: ", "))], this instance has [\(vips.map(\.description).joined(separator: ", "))]")
        }
        return nil
    }

    private func sameAddresses(_ a: VRRPAdvertisement) -> Bool {
        a.addresses.count == vips.count && Set(a.addresses) == Set(vips)
    }

    // MARK: Backup (6.4.2)

    private mutating func backupReceive(_ a: VRRPAdvertisement, source: IPAddress, now: Duration) -> [VRRPAction] {
        let p = Int(a.priority)
        if p == 0 {
            // The master resigned: the best backup (smallest skew) takes over first.
            masterDownAt = now + skewTime
            downCause = .resigned(source)
            return [.scheduleTimer(at: nextDeadline)]
        }
        let mine = effectivePriority
        if !preempts(p, now: now) {
            if configuration.version == .v3 {
                masterAdvertisementInterval = .milliseconds(a.intervalCentiseconds * 10)
            }
            masterDownAt = now + masterDownInterval
            masterAddress = source
            lastAcceptedAt = now
            downCause = .none
            if p >= mine {
                lowerMasterSince = nil
            } else if configuration.preemptDelay > .zero && lowerMasterSince == nil {
                lowerMasterSince = now
            }
            return wantMaster(false) + [.scheduleTimer(at: nextDeadline)]
        }
        // Preempt: discard the lower-priority master's adverts and let Master_Down_Timer run out.
        statistics.lowerPriorityDiscarded += 1
        masterAddress = source
        downCause = .preempting(source, p)
        return []
    }

    /// Whether a master advertising priority `p` is to be preempted now (Preempt_Mode, preempt delay).
    private func preempts(_ p: Int, now: Duration) -> Bool {
        let c = configuration
        guard c.preempt, p < effectivePriority else { return false }
        let delaying = c.preemptDelay > .zero && (lowerMasterSince.map { now < $0 + c.preemptDelay } ?? true)
        return !delaying
    }

    // MARK: Master (6.4.3)

    private mutating func masterReceive(_ a: VRRPAdvertisement, source: IPAddress, now: Duration) -> [VRRPAction] {
        let p = Int(a.priority), mine = effectivePriority
        if p == 0 {
            // Another master resigned; make sure everyone hears from us now.
            advertiseAt = now + configuration.advertisementInterval
            statistics.advertisementsSent += 1
            return [.sendAdvertisement(advertisement(priority: priority)), .scheduleTimer(at: nextDeadline)]
        }
        if p > mine || (p == mine && source > primaryAddress) {
            if configuration.version == .v3 {
                masterAdvertisementInterval = .milliseconds(a.intervalCentiseconds * 10)
            }
            statistics.releasedMaster += 1
            return [.removeAddresses(configuration.virtualAddresses)]
                + stepDown(following: source, reason: .higherPriority(source, priority: p), now: now)
        }
        // A lower-priority master: answer at once so it hears us and steps down (keepalived does the same).
        statistics.advertisementsSent += 1
        return [.sendAdvertisement(advertisement(priority: priority))]
    }

    // MARK: Reconfiguration

    /// Why `new` cannot replace `old` in a running instance, worded for the operator, or nil when
    /// `reconfigure` applies it in place. `primaryAddress` is the address the instance sends from, when
    /// known; without it a new explicit source address is assumed to differ.
    public static func requiresRestart(from old: VRRPConfiguration, to new: VRRPConfiguration, primaryAddress: IPAddress? = nil) -> String? {
        if new.virtualRouterID != old.virtualRouterID {
            return "the VRID changes from \(old.virtualRouterID) to \(new.virtualRouterID): that is another virtual router"
        }
        if new.interface != old.interface {
            return "the interface changes from \(old.interface) to \(new.interface): the sockets are bound to \(old.interface)"
        }
        if new.version != old.version { return "the version changes from \(old.version) to \(new.version)" }
        if new.unicastPeers.isEmpty != old.unicastPeers.isEmpty {
            return new.unicastPeers.isEmpty ? "unicast becomes multicast: the socket must join 224.0.0.18"
                : "multicast becomes unicast: the socket must leave 224.0.0.18"
        }
        if (old.priority == 255) != (new.priority == 255) {
            return old.priority == 255 ? "priority 255 (the address owner, which never yields) becomes \(new.priority)"
                : "priority \(old.priority) becomes 255 (the address owner, master at once)"
        }
        let current = primaryAddress ?? old.sourceAddress
        if let source = new.sourceAddress, source != current {
            return "the source address changes from \(current.map(\.description) ?? "the interface's first address") to \(source): "
                + "peers tell routers apart by it"
        }
        if let current, new.virtualAddresses.contains(where: { $0.address == current }) {
            return "the source address \(current) becomes a virtual address"
        }
        return nil
    }

    /// `requiresRestart(from:to:)` for this instance, which knows its primary address.
    public func restartReason(for new: VRRPConfiguration) -> String? {
        Self.requiresRestart(from: configuration, to: new, primaryAddress: primaryAddress)
    }

    /// Takes `new` in place: never a state transition, never a virtual address that stays removed and
    /// re-added, and an armed Master_Down_Timer is never brought forward. Identical configurations return
    /// no action. Throws `.invalidConfiguration` for one that cannot run and `.restartRequired` (with
    /// `restartReason(for:)`) for one this instance cannot become; either way nothing changed.
    ///
    /// As master: a changed priority or interval is advertised at once (a now higher backup preempts
    /// without waiting an interval; a v3 backup learns the new Master_Adver_Interval before its timer,
    /// computed from the old one, runs out), and a new interval restarts Adver_Timer; added addresses are
    /// added and announced by gratuitous ARP before removed ones go. As backup: removed addresses are
    /// removed (in case a crashed run left them), and the new priority and (v2) interval count from the
    /// next Master_Down_Interval on.
    public mutating func reconfigure(_ new: VRRPConfiguration, now: Duration) throws(VRRPError) -> [VRRPAction] {
        guard new != configuration else { return [] }
        let problems = new.problems
        if !problems.isEmpty { throw VRRPError(.invalidConfiguration, problems.joined(separator: "; ")) }
        if let reason = restartReason(for: new) { throw VRRPError(.restartRequired, reason) }
        let old = configuration
        let before = nextDeadline
        configuration = new
        // Out of its group, a waiting member becomes master when its timer next runs out, on its own.
        if new.syncGroup == nil { wantsMaster = false }
        var out: [VRRPAction]
        switch state {
        case .initialize:
            if !started { masterAdvertisementInterval = new.advertisementInterval }
            return []
        case .fault:
            return []
        case .master: out = reconfigureMaster(from: old, now: now)
        case .backup: out = reconfigureBackup(from: old, now: now)
        }
        if nextDeadline != before { out.append(.scheduleTimer(at: nextDeadline)) }
        return out
    }

    private mutating func reconfigureMaster(from old: VRRPConfiguration, now: Duration) -> [VRRPAction] {
        let new = configuration
        var out: [VRRPAction] = []
        let intervalChanged = new.advertisementInterval != old.advertisementInterval
        if tracking.effectivePriority(base: new.priority) != tracking.effectivePriority(base: old.priority) || intervalChanged {
            out.append(.sendAdvertisement(advertisement(priority: priority)))
            statistics.advertisementsSent += 1
        }
        if intervalChanged {
            masterAdvertisementInterval = new.advertisementInterval
            advertiseAt = now + new.advertisementInterval
        }
        let (added, removed) = Self.difference(old, new)
        // Added first: an address whose prefix changes is never absent (the kernel holds both prefixes).
        if !added.isEmpty {
            out.append(.addAddresses(added))
            if new.gratuitousARP.count > 0 { out.append(.sendGratuitousARP(added.map(\.address), count: new.gratuitousARP.count)) }
        }
        if !removed.isEmpty { out.append(.removeAddresses(removed)) }
        if new.gratuitousARP.repeatDelay == nil { garpRepeatAt = nil }
        if new.gratuitousARP.refreshInterval != old.gratuitousARP.refreshInterval {
            garpRefreshAt = new.gratuitousARP.refreshInterval.map { now + $0 }
        }
        return out
    }

    private mutating func reconfigureBackup(from old: VRRPConfiguration, now: Duration) -> [VRRPAction] {
        let new = configuration
        // v3 keeps the interval it learned from the master; before hearing one it uses its own.
        if new.version == .v2 || masterAddress == nil { masterAdvertisementInterval = new.advertisementInterval }
        followIfNoLongerPreempting(now: now)
        let (_, removed) = Self.difference(old, new)
        return removed.isEmpty ? [] : [.removeAddresses(removed)]
    }

    /// A backup that was preempting a lower-priority master and now would not (its priority fell, or the
    /// settings changed) follows that master instead: its adverts were being discarded, so the timer armed
    /// for the takeover could fire before the next one is accepted. Re-armed as if the master had just
    /// been heard (it was, within an interval).
    private mutating func followIfNoLongerPreempting(now: Duration) {
        guard case .preempting(let source, let p) = downCause, !preempts(p, now: now) else { return }
        masterDownAt = now + masterDownInterval
        masterAddress = source
        downCause = .none
    }

    // MARK: Tracking

    /// The tracked objects' effect changed (a script's standing, an interface's link). Before `start` it is
    /// kept for the start. Otherwise, as keepalived (vrrp_set_effective_priority, down_instance,
    /// try_up_instance): a fault takes the instance to FAULT, a master first resigning with priority 0 and
    /// removing its addresses; the fault clearing takes it to BACKUP (the owner to MASTER) with a fresh
    /// Master_Down_Timer; a new effective priority is advertised at once by a master (a backup now above
    /// it preempts without waiting an interval) and moves a backup's Master_Down_Timer by the change of
    /// Skew_Time.
    public mutating func setTracking(_ status: VRRPTrackingStatus, now: Duration) -> [VRRPAction] {
        guard status != tracking else { return [] }
        let oldPriority = effectivePriority, oldDownInterval = masterDownInterval
        tracking = status
        guard started else { return [] }
        switch (state, status.fault) {
        case (.initialize, _), (.fault, _?):
            return []
        case (.fault, nil):
            if isOwner { return becomeMaster(now: now, reason: .faultCleared) }
            state = .backup
            masterAdvertisementInterval = configuration.advertisementInterval
            masterDownAt = now + masterDownInterval
            masterAddress = nil
            lastAcceptedAt = now
            downCause = .none
            return [.notify(transition(.fault, .backup, .faultCleared, now)), .scheduleTimer(at: nextDeadline)]
        case (_, let reason?):
            return enterFault(reason, now: now)
        case (.master, nil):
            guard effectivePriority != oldPriority else { return [] }
            statistics.advertisementsSent += 1
            return [.priorityChanged(from: oldPriority, to: effectivePriority), .sendAdvertisement(advertisement(priority: priority))]
        case (.backup, nil):
            guard effectivePriority != oldPriority else { return [] }
            if let down = masterDownAt { masterDownAt = down + (masterDownInterval - oldDownInterval) }
            followIfNoLongerPreempting(now: now)
            return [.priorityChanged(from: oldPriority, to: effectivePriority), .scheduleTimer(at: nextDeadline)]
        }
    }

    // MARK: Sync groups

    /// The group lets this member become master: it does, if it is in BACKUP.
    public mutating func syncPromote(group: String, because why: String, now: Duration) -> [VRRPAction] {
        guard started, state == .backup else { return [] }
        return becomeMaster(now: now, reason: .syncGroup(group, because: why))
    }

    /// The group leaves MASTER: this member does too, resigning with priority 0 (as on FAULT, so the other
    /// directors take over after Skew_Time) and waiting as BACKUP.
    public mutating func syncDemote(group: String, because why: String, now: Duration) -> [VRRPAction] {
        guard started, state == .master else { return [] }
        return resignIfMaster() + stepDown(following: nil, reason: .syncGroup(group, because: why), now: now)
    }

    /// MASTER → BACKUP once the addresses are given up: the master's timers cleared, Master_Down_Timer
    /// armed, following `master` (nil: none heard yet).
    private mutating func stepDown(following master: IPAddress?, reason: VRRPTransition.Reason, now: Duration) -> [VRRPAction] {
        state = .backup
        clearTimers()
        masterDownAt = now + masterDownInterval
        masterAddress = master
        lastAcceptedAt = now
        downCause = .none
        lowerMasterSince = nil
        return [.notify(transition(.master, .backup, reason, now)), .scheduleTimer(at: nextDeadline)]
    }

    /// Records whether this member's own election would make it master, and says so when that changed.
    private mutating func wantMaster(_ wants: Bool) -> [VRRPAction] {
        guard configuration.syncGroup != nil, wants != wantsMaster else { return [] }
        wantsMaster = wants
        return [.syncWantsMaster(wants)]
    }

    /// A master leaving the role on purpose (shutdown, FAULT): a priority-0 advertisement first, so the best
    /// backup takes over after Skew_Time instead of Master_Down_Interval, then its addresses go.
    private mutating func resignIfMaster() -> [VRRPAction] {
        guard state == .master else { return [] }
        statistics.advertisementsSent += 1
        statistics.priorityZeroSent += 1
        statistics.releasedMaster += 1
        return [.sendAdvertisement(advertisement(priority: VRRPAdvertisement.resignPriority)),
                .removeAddresses(configuration.virtualAddresses)]
    }

    private mutating func enterFault(_ reason: String, now: Duration) -> [VRRPAction] {
        let from = state
        var out = resignIfMaster()
        state = .fault
        clearTimers()
        masterAddress = nil
        lowerMasterSince = nil
        downCause = .none
        out.append(.notify(transition(from, .fault, .fault(reason), now)))
        out.append(.scheduleTimer(at: nil))
        return out
    }

    /// The actions that put back virtual addresses found missing from the interface (deleted behind the
    /// master's back): as master, add them and announce them by gratuitous ARP; otherwise none. Addresses
    /// that are not in the configuration are ignored.
    public mutating func repairAddresses(missing: [CIDR]) -> [VRRPAction] {
        guard state == .master else { return [] }
        let configured = Set(configuration.virtualAddresses)
        var seen = Set<CIDR>()
        let repair = missing.filter { configured.contains($0) && seen.insert($0).inserted }
        guard !repair.isEmpty else { return [] }
        statistics.addressesRepaired += repair.count
        var out: [VRRPAction] = [.addAddresses(repair)]
        let garp = configuration.gratuitousARP
        if garp.count > 0 { out.append(.sendGratuitousARP(repair.map(\.address), count: garp.count)) }
        return out
    }

    /// The addresses of `new` not in `old`, and those of `old` not in `new`, each in its list's order. An
    /// address that moves to another interface is both: added on the new one, removed from the old one.
    static func difference(_ old: VRRPConfiguration, _ new: VRRPConfiguration) -> (added: [CIDR], removed: [CIDR]) {
        let before = Set(old.virtualAddresses), after = Set(new.virtualAddresses)
        let moved = { (a: CIDR) in old.interface(of: a.address) != new.interface(of: a.address) }
        return (new.virtualAddresses.filter { !before.contains($0) || moved($0) },
                old.virtualAddresses.filter { !after.contains($0) || moved($0) })
    }

    // MARK: Helpers

    private mutating func becomeMaster(now: Duration, reason: VRRPTransition.Reason) -> [VRRPAction] {
        let from = state
        state = .master
        statistics.becameMaster += 1
        statistics.advertisementsSent += 1
        clearTimers()
        masterAddress = primaryAddress
        lowerMasterSince = nil
        downCause = .none
        masterAdvertisementInterval = configuration.advertisementInterval
        advertiseAt = now + configuration.advertisementInterval
        let garp = configuration.gratuitousARP
        garpRepeatAt = garp.repeatDelay.map { now + $0 }
        garpRefreshAt = garp.refreshInterval.map { now + $0 }
        var out: [VRRPAction] = [.sendAdvertisement(advertisement(priority: priority)),
                                 .addAddresses(configuration.virtualAddresses)]
        if garp.count > 0 { out.append(.sendGratuitousARP(vips, count: garp.count)) }
        out.append(.notify(transition(from, .master, reason, now)))
        out.append(.scheduleTimer(at: nextDeadline))
        return out
    }

    private mutating func clearTimers() {
        // Every state change clears the timers, and wanting to be master is a waiting backup's alone (the
        // group sees the transition).
        wantsMaster = false
        masterDownAt = nil
        advertiseAt = nil
        garpRepeatAt = nil
        garpRefreshAt = nil
    }

    private mutating func discard(_ reason: VRRPDiscard.Reason, _ source: IPAddress?, _ detail: String) -> VRRPAction {
        statistics.discarded[reason, default: 0] += 1
        return .discard(VRRPDiscard(reason, source: source, detail))
    }

    private func transition(_ from: VRRPState, _ to: VRRPState, _ reason: VRRPTransition.Reason, _ now: Duration) -> VRRPTransition {
        VRRPTransition(from: from, to: to, reason: reason, at: now, priority: effectivePriority)
    }

    /// The advertisement this instance sends, with `priority` (its own, or 0 to resign).
    public func advertisement(priority: UInt8) -> VRRPAdvertisement {
        let c = configuration
        return VRRPAdvertisement(
            version: c.version, virtualRouterID: UInt8(c.virtualRouterID), priority: priority,
            intervalCentiseconds: c.advertisementIntervalCentiseconds, addresses: vips,
            authType: c.version == .v2 && c.authPassword != nil ? VRRPAdvertisement.AuthType.simpleText : VRRPAdvertisement.AuthType.none,
            authData: c.authPassword.map(VRRPAdvertisement.passwordData) ?? [])
    }
}

func nanoseconds(_ d: Duration) -> Int64 {
    let (s, attos) = d.components
    return s * 1_000_000_000 + attos / 1_000_000_000
}
