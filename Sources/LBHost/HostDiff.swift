import LBNetlink
import LBSpec

/// The one diff behind `lbctl plan`, the first apply and drift repair: desired versus observed state,
/// as the ordered actions that turn one into the other. Pure.
///
/// Only what is desired or recorded in the ledger is touched: foreign addresses, IPVS services and
/// sync daemons stay as they are.
public enum HostDiff {
    public static func actions(desired: DesiredHostState, observed: HostState, ledger: Ledger = Ledger()) -> [HostAction] {
        addressActions(desired, observed, ledger) + sysctlActions(desired, observed, ledger) + ipvsActions(desired, observed, ledger)
    }

    static func addressActions(_ desired: DesiredHostState, _ observed: HostState, _ ledger: Ledger) -> [HostAction] {
        var out: [HostAction] = []
        for want in desired.addresses {
            let have = observed.interface(named: want.interface)?.addresses.first { $0.address.address == want.address.address }
            if let have {
                // The kernel reports an IPv4 address without a label as labelled with the interface name.
                let wantedLabel = want.address.address.family == .ipv4 ? (want.label ?? want.interface) : nil
                if have.address.prefixLength != want.address.prefixLength || (wantedLabel != nil && have.label != wantedLabel) {
                    out.append(.deleteAddress(interface: want.interface, address: have.address))
                    out.append(.addAddress(interface: want.interface, address: want.address, label: want.label))
                }
            } else {
                out.append(.addAddress(interface: want.interface, address: want.address, label: want.label))
            }
        }
        let wanted = Set(desired.addresses.map { "\($0.interface) \($0.address.address)" })
        for owned in ledger.addresses.sorted(by: { "\($0.interface)\($0.address)" < "\($1.interface)\($1.address)" })
        where !wanted.contains("\(owned.interface) \(owned.address.address)") {
            if let have = observed.interface(named: owned.interface)?.addresses.first(where: { $0.address.address == owned.address.address }) {
                out.append(.deleteAddress(interface: owned.interface, address: have.address))
            }
        }
        return out
    }

    static func sysctlActions(_ desired: DesiredHostState, _ observed: HostState, _ ledger: Ledger) -> [HostAction] {
        var out: [HostAction] = []
        // IPVS's own sysctls exist only where IPVS does; without it they are part of what cannot be held,
        // like the services, and are not invented.
        let ipvsMissing = observed.ipvs.table == nil
        for (key, value) in desired.sysctls.sorted(by: { $0.key < $1.key }) where observed.sysctls[key] != value {
            if ipvsMissing && key.hasPrefix("net.ipv4.vs.") { continue }
            out.append(.setSysctl(key: key, value: value))
        }
        // A sysctl lb no longer needs goes back to what it was before lb changed it.
        for (key, original) in ledger.sysctlOriginals.sorted(by: { $0.key < $1.key })
        where desired.sysctls[key] == nil && observed.sysctls[key] != nil && observed.sysctls[key] != original {
            out.append(.setSysctl(key: key, value: original))
        }
        return out
    }

    static func ipvsActions(_ desired: DesiredHostState, _ observed: HostState, _ ledger: Ledger) -> [HostAction] {
        guard let table = observed.ipvs.table else {
            // Nothing can be done without IPVS; the caller reports the reason from `observed.ipvs`.
            return []
        }
        var out: [HostAction] = []
        let want = desired.ipvs
        var have: [IPVSServiceKey: Int] = [:]
        have.reserveCapacity(table.services.count)
        for (i, entry) in table.services.enumerated() { have[entry.service.key] = i }
        let conditionals = want?.conditional ?? [:]

        for entry in want?.services ?? [] {
            let key = entry.service.key
            guard let index = have[key] else {
                out.append(.addService(entry.service))
                out += entry.destinations.map { .addDestination(key, $0) }
                continue
            }
            let current = table.services[index]
            if !sameConfiguration(current.service, entry.service) {
                out.append(.editService(entry.service))
            }
            let conditional = conditionals.isEmpty ? [] : conditionals[key] ?? []
            destinationActions(key, want: entry.destinations, have: current.destinations, conditional: conditional, into: &out)
        }
        let wantedKeys = Set((want?.services ?? []).map(\.service.key))
        for key in ledger.services.sorted() where !wantedKeys.contains(key) && have[key] != nil {
            out.append(.deleteService(key))
        }

        if let want {
            if want.timeouts != table.timeouts { out.append(.setTimeouts(want.timeouts)) }
            out += syncDaemonActions(want.syncDaemons, table.syncDaemons, ledger)
        } else {
            out += syncDaemonActions([], table.syncDaemons, ledger)
        }
        return out
    }

    static func destinationActions(_ key: IPVSServiceKey, want: [IPVSDestination], have: [IPVSDestination],
                                   conditional: [ConditionalDestination] = []) -> [HostAction] {
        var out: [HostAction] = []
        destinationActions(key, want: want, have: have, conditional: conditional, into: &out)
        return out
    }

    /// Runs once per service on every pass, so it avoids allocation: services have a handful of
    /// destinations, and a linear match beats hashing them.
    static func destinationActions(_ key: IPVSServiceKey, want: [IPVSDestination], have: [IPVSDestination],
                                   conditional: [ConditionalDestination], into out: inout [HostAction]) {
        for d in want {
            if let c = have.first(where: { $0.address == d.address && $0.port == d.port }) {
                if !sameConfiguration(c, d) { out.append(.editDestination(key, d)) }
            } else {
                out.append(.addDestination(key, d))
            }
        }
        // Inside a service lb manages every destination is lb's: strays are removed, except those it
        // keeps while they exist.
        for d in have where !want.contains(where: { $0.address == d.address && $0.port == d.port }) {
            if let kept = conditional.first(where: { $0.address == d.address && $0.port == d.port }) {
                if let c = kept.configuration, !sameConfiguration(d, c) { out.append(.editDestination(key, c)) }
            } else {
                out.append(.deleteDestination(key, d.endpoint))
            }
        }
    }

    static func sameConfiguration(_ a: IPVSService, _ b: IPVSService) -> Bool {
        a.scheduler == b.scheduler && a.flags & IPVSService.managedFlagMask == b.flags & IPVSService.managedFlagMask
            && a.isPersistent == b.isPersistent && (!a.isPersistent || (a.timeout == b.timeout && a.netmask == b.netmask))
    }

    static func sameConfiguration(_ a: IPVSDestination, _ b: IPVSDestination) -> Bool {
        a.forwarding == b.forwarding && a.weight == b.weight && a.upperThreshold == b.upperThreshold && a.lowerThreshold == b.lowerThreshold
    }

    static func syncDaemonActions(_ want: [IPVSSyncDaemon], _ have: [IPVSSyncDaemon], _ ledger: Ledger) -> [HostAction] {
        var out: [HostAction] = []
        for d in want {
            if let running = have.first(where: { $0.state == d.state }) {
                if running != d {
                    out.append(.stopSyncDaemon(d.state))
                    out.append(.startSyncDaemon(d))
                }
            } else {
                out.append(.startSyncDaemon(d))
            }
        }
        let wantedStates = Set(want.map(\.state))
        for d in have where !wantedStates.contains(d.state) && ledger.syncDaemons.contains(where: { $0.state == d.state }) {
            out.append(.stopSyncDaemon(d.state))
        }
        return out
    }
}
