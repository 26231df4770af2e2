import LBHost
import LBNetlink
import LBSpec

/// One conformance check's outcome.
public struct ConformanceResult: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var failure: String?

    public init(name: String, failure: String?) {
        self.name = name
        self.failure = failure
    }

    public var passed: Bool { failure == nil }
    public var description: String { failure.map { "FAIL \(name): \($0)" } ?? "ok \(name)" }
}

/// The behaviour every `HostControl` must share with the Linux kernel. It runs against the in-memory
/// host in unit tests and against `LinuxHost` in a scratch network namespace (and in the qemu lab for
/// IPVS), so the in-memory host cannot drift from what the kernel does.
///
/// Expects a host with `lo` and `interface`, no addresses in 10.254.0.0/16 or fd00:254::/32, and, when
/// IPVS is present, no services on 10.254.0.0/16. Leaves the host as it found it when checks pass.
public struct HostConformance: Sendable {
    public let host: any HostControl
    public let interface: String
    /// When set, every IPVS step is compared with ipvsadm's own listing.
    public let witness: IPVSWitness?

    public init(host: any HostControl, interface: String = "eth0", witness: IPVSWitness? = nil) {
        self.host = host
        self.interface = interface
        self.witness = witness
    }

    struct Failure: Error { var detail: String }

    static func expect(_ condition: Bool, _ detail: @autoclosure () -> String) throws {
        if !condition { throw Failure(detail: detail()) }
    }

    /// Runs every check; IPVS checks only when the host has IPVS (and says so plainly otherwise).
    public func run() async -> [ConformanceResult] {
        var results: [ConformanceResult] = []
        func record(_ name: String, _ body: () async throws -> Void) async {
            do {
                try await body()
                results.append(ConformanceResult(name: name, failure: nil))
            } catch let f as Failure {
                results.append(ConformanceResult(name: name, failure: f.detail))
            } catch {
                results.append(ConformanceResult(name: name, failure: "\(error)"))
            }
        }
        for (name, check) in addressChecks + sysctlChecks + diffChecks {
            await record(name) { try await check() }
        }
        let state = try? await host.observe(sysctls: [])
        if state?.ipvs.table != nil {
            for (name, check) in ipvsChecks { await record(name) { try await check() } }
        } else {
            await record("ipvs unavailable is reported and refused") { try await ipvsUnavailable() }
        }
        return results
    }

    typealias Check = (String, () async throws -> Void)

    // MARK: helpers

    func apply(_ actions: [HostAction]) async throws {
        let report = await host.apply(actions)
        try Self.expect(report.succeeded, "apply failed: \(report.errors.map(\.message).joined(separator: "; "))")
    }

    func expectFailure(_ actions: [HostAction], _ kind: HostError.Kind, at index: Int = 0) async throws -> ApplyReport {
        let report = await host.apply(actions)
        let got = report.failures[index]
        try Self.expect(got?.kind == kind, "\(actions[index]) should fail with \(kind), got \(got.map { "\($0.kind): \($0.message)" } ?? "success")")
        return report
    }

    func addresses(_ iface: String) async throws -> [HostState.Address] {
        try await host.observe(sysctls: []).interface(named: iface)?.addresses ?? []
    }

    func ipvsTable() async throws -> IPVSTable {
        guard let t = try await host.observe(sysctls: []).ipvs.table else { throw Failure(detail: "IPVS vanished") }
        if let witness {
            guard let listed = witness.listing() else { throw Failure(detail: "ipvsadm -Sn failed") }
            let ours = IPVSWitness.lines(of: t)
            try Self.expect(listed == ours, "lb and ipvsadm disagree:\n  lb:      \(ours)\n  ipvsadm: \(listed)")
        }
        return t
    }

    // MARK: addresses

    var addressChecks: [Check] {
        let vip = CIDR("10.254.0.1/32")!, other = CIDR("10.254.0.2/32")!
        return [
            ("address with label on lo", {
                try await apply([.addAddress(interface: "lo", address: vip, label: "lo:0")])
                let a = try await addresses("lo").first { $0.address.address == vip.address }
                try Self.expect(a?.address == vip && a?.label == "lo:0", "observed \(String(describing: a))")
                try await apply([.deleteAddress(interface: "lo", address: vip)])
            }),
            ("address without label is labelled with the interface", {
                try await apply([.addAddress(interface: "lo", address: other, label: nil)])
                let a = try await addresses("lo").first { $0.address.address == other.address }
                try Self.expect(a?.label == "lo", "label \(String(describing: a?.label))")
                try await apply([.deleteAddress(interface: "lo", address: other)])
            }),
            ("adding an existing address is 'exists'", {
                try await apply([.addAddress(interface: "lo", address: vip, label: "lo:0")])
                _ = try await expectFailure([.addAddress(interface: "lo", address: vip, label: "lo:0")], .exists)
                try await apply([.deleteAddress(interface: "lo", address: vip)])
            }),
            ("deleting a missing address is 'notFound'", {
                _ = try await expectFailure([.deleteAddress(interface: "lo", address: vip)], .notFound)
            }),
            ("subnet prefix on the client interface", {
                let a = CIDR("10.254.1.1/24")!
                try await apply([.addAddress(interface: interface, address: a, label: nil)])
                let got = try await addresses(interface).first { $0.address.address == a.address }
                try Self.expect(got?.address.prefixLength == 24, "observed \(String(describing: got))")
                try await apply([.deleteAddress(interface: interface, address: a)])
            }),
            ("IPv6 host address on lo", {
                let a = CIDR("fd00:254::1/128")!
                try await apply([.addAddress(interface: "lo", address: a, label: nil)])
                let got = try await addresses("lo").first { $0.address.address == a.address }
                try Self.expect(got?.address == a, "observed \(String(describing: got))")
                try await apply([.deleteAddress(interface: "lo", address: a)])
            }),
            ("unknown interface refuses the whole batch", {
                let report = try await expectFailure([.addAddress(interface: "lo", address: vip, label: "lo:0"),
                                                      .addAddress(interface: "nosuch0", address: other, label: nil)], .noSuchInterface, at: 1)
                try Self.expect(report.failures[0] != nil, "the valid action should be refused too")
                let present = try await addresses("lo").contains { $0.address.address == vip.address }
                try Self.expect(!present, "nothing may be applied when a batch is refused")
            }),
        ]
    }

    // MARK: sysctls

    var sysctlChecks: [Check] {
        let key = "net.ipv4.conf.\(interface).arp_ignore"
        return [
            ("sysctl set and observe", {
                let before = try await host.observe(sysctls: [key]).sysctls[key]
                try Self.expect(before != nil, "\(key) not observed")
                try await apply([.setSysctl(key: key, value: "1")])
                let after = try await host.observe(sysctls: [key]).sysctls[key]
                try Self.expect(after == "1", "observed \(String(describing: after))")
                try await apply([.setSysctl(key: key, value: before!)])
            }),
            ("unknown sysctl is 'notFound' and refuses the batch", {
                let report = try await expectFailure([.setSysctl(key: key, value: "1"), .setSysctl(key: "net.ipv4.conf.nosuch0.arp_ignore", value: "1")], .notFound, at: 1)
                try Self.expect(report.failures[0] != nil, "the valid action should be refused too")
            }),
            ("a sysctl value the kernel cannot parse is 'invalid'", {
                _ = try await expectFailure([.setSysctl(key: key, value: "lots")], .invalid)
            }),
            ("absent sysctls are absent, not empty", {
                let s = try await host.observe(sysctls: ["net.ipv4.conf.nosuch0.arp_ignore"]).sysctls
                try Self.expect(s.isEmpty, "observed \(s)")
            }),
        ]
    }

    // MARK: the diff against this host

    var diffChecks: [Check] {
        [
            ("real-server plan applies, converges, and is undone from the ledger", {
                let keys = ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
                            "net.ipv4.conf.\(interface).arp_ignore", "net.ipv4.conf.\(interface).arp_announce"]
                let desired = DesiredHostState(addresses: [OwnedAddress(interface: "lo", address: CIDR("10.254.9.200/32")!, label: "lo:0")],
                                               sysctls: Dictionary(uniqueKeysWithValues: keys.map { ($0, $0.hasSuffix("ignore") ? "1" : "2") }))
                let original = try await host.observe(sysctls: keys)
                let actions = HostDiff.actions(desired: desired, observed: original)
                let report = await host.apply(actions)
                try Self.expect(report.succeeded, "apply: \(report.errors)")
                let ledger = Ledger().recording(actions, report, before: original)
                let converged = try await host.observe(sysctls: keys)
                let again = HostDiff.actions(desired: desired, observed: converged, ledger: ledger)
                try Self.expect(again.isEmpty, "not converged, still: \(again)")
                let undo = HostDiff.actions(desired: DesiredHostState(), observed: converged, ledger: ledger)
                try await apply(undo)
                let restored = try await host.observe(sysctls: keys)
                try Self.expect(restored.sysctls == original.sysctls, "sysctls \(restored.sysctls) != \(original.sysctls)")
                try Self.expect(restored.interface(named: "lo")?.addresses == original.interface(named: "lo")?.addresses, "lo addresses not restored")
            }),
            ("foreign addresses are left alone", {
                let foreign = CIDR("10.254.9.9/32")!
                try await apply([.addAddress(interface: "lo", address: foreign, label: "lo:9")])
                let observed = try await host.observe(sysctls: [])
                let actions = HostDiff.actions(desired: DesiredHostState(), observed: observed, ledger: Ledger())
                try Self.expect(actions.isEmpty, "diff touches foreign state: \(actions)")
                try await apply([.deleteAddress(interface: "lo", address: foreign)])
            }),
        ]
    }

    // MARK: IPVS

    func key(_ last: UInt8, _ port: UInt16 = 80, _ p: ServiceProtocol = .tcp) -> IPVSServiceKey {
        IPVSServiceKey(address: .v4(0x0AFE_0000 | UInt32(last)), port: port, protocol: p)
    }

    func dest(_ last: UInt8, _ port: UInt16 = 80, _ f: Forwarding = .dr, weight: Int32 = 1) -> IPVSDestination {
        IPVSDestination(address: .v4(0x0AFE_6400 | UInt32(last)), port: port, forwarding: f, weight: weight)
    }

    var ipvsChecks: [Check] {
        [
            ("every scheduler", {
                let names = ["rr", "wrr", "lc", "wlc", "sh", "mh"]
                let services = names.enumerated().map { IPVSService(key: key(UInt8(10 + $0.offset)), scheduler: $0.element) }
                try await apply(services.map { .addService($0) })
                let t = try await ipvsTable()
                for s in services {
                    try Self.expect(t.entry(s.key)?.service.scheduler == s.scheduler, "\(s.key): \(String(describing: t.entry(s.key)?.service.scheduler))")
                }
                try await apply(services.map { .deleteService($0.key) })
            }),
            ("the service count follows the table, IPv4 only, as IP_VS_SO_GET_INFO", {
                let before = await host.ipvsServiceCount()
                try Self.expect(before != nil, "no count with IPVS present")
                let v4 = [IPVSService(key: key(50), scheduler: "rr"), IPVSService(key: key(51, 443), scheduler: "wrr")]
                let v6 = IPVSService(key: IPVSServiceKey(address: IPAddress("fd00:254::50")!, port: 80, protocol: .tcp), scheduler: "rr", netmask: 128)
                try await apply((v4 + [v6]).map { .addService($0) })
                let during = await host.ipvsServiceCount()
                try await apply((v4 + [v6]).map { .deleteService($0.key) })
                let after = await host.ipvsServiceCount()
                try Self.expect(during == before.map { $0 + 2 } && after == before,
                                "count \(String(describing: before)) → \(String(describing: during)) → \(String(describing: after)), expected +2 and back")
            }),
            ("scheduler flags for sh and mh", {
                let sh = IPVSService(key: key(20), scheduler: "sh", flags: IPVSService.schedulerFlag1 | IPVSService.schedulerFlag2)
                let mh = IPVSService(key: key(21), scheduler: "mh", flags: IPVSService.schedulerFlag1)
                try await apply([.addService(sh), .addService(mh)])
                let t = try await ipvsTable()
                try Self.expect(t.entry(sh.key)?.service.configuration.flags == sh.flags, "sh flags \(String(describing: t.entry(sh.key)?.service.flags))")
                try Self.expect(t.entry(mh.key)?.service.configuration.flags == mh.flags, "mh flags \(String(describing: t.entry(mh.key)?.service.flags))")
                try await apply([.deleteService(sh.key), .deleteService(mh.key)])
            }),
            ("a firewall-mark service with persistence and DR destinations, beside a port service", {
                let fw = IPVSService(key: IPVSServiceKey(fwmark: 0x254, family: .ipv4), scheduler: "wrr",
                                     flags: IPVSService.persistentFlag, timeout: 600)
                let port = IPVSService(key: key(23), scheduler: "rr")
                let d = IPVSDestination(address: .v4(0x0AFE_0166), port: 443, forwarding: .dr, weight: 2)
                try await apply([.addService(fw), .addService(port), .addDestination(fw.key, d)])
                let t = try await ipvsTable()
                try Self.expect(t.entry(fw.key)?.service.configuration == fw.configuration, "observed \(String(describing: t.entry(fw.key)?.service))")
                try Self.expect(t.entry(fw.key)?.destinations.map(\.configuration) == [d], "destinations \(String(describing: t.entry(fw.key)?.destinations))")
                try Self.expect(t.entry(port.key) != nil, "the port service beside it is missing")
                _ = try await expectFailure([.addService(fw)], .exists)
                try await apply([.deleteService(fw.key), .deleteService(port.key)])
                try Self.expect(try await ipvsTable().entry(fw.key) == nil, "not deleted")
            }),
            ("one-packet scheduling (ops) for a UDP service", {
                let ops = IPVSService(key: key(22, 53, .udp), scheduler: "rr", flags: IPVSService.onePacketFlag)
                try await apply([.addService(ops)])
                let t = try await ipvsTable()
                try Self.expect(t.entry(ops.key)?.service.configuration.flags == ops.flags, "ops flags \(String(describing: t.entry(ops.key)?.service.flags))")
                try await apply([.deleteService(ops.key)])
            }),
            ("persistence with timeout and netmask", {
                let s = IPVSService(key: key(30), scheduler: "wrr", flags: IPVSService.persistentFlag, timeout: 3600, netmask: 0xFFFF_FF00)
                try await apply([.addService(s)])
                let got = try await ipvsTable().entry(s.key)?.service.configuration
                try Self.expect(got == s.configuration, "observed \(String(describing: got))")
                try await apply([.deleteService(s.key)])
            }),
            ("UDP and IPv6 services", {
                let udp = IPVSService(key: key(31, 53, .udp), scheduler: "rr")
                let v6 = IPVSService(key: IPVSServiceKey(address: IPAddress("fd00:254::80")!, port: 443, protocol: .tcp), scheduler: "wrr", netmask: 128)
                try await apply([.addService(udp), .addService(v6),
                                 .addDestination(v6.key, IPVSDestination(address: IPAddress("fd00:254::100")!, port: 443, forwarding: .dr, weight: 2))])
                let t = try await ipvsTable()
                try Self.expect(t.entry(udp.key) != nil && t.entry(v6.key)?.destinations.count == 1, "observed \(IPVSWitness.lines(of: t))")
                try await apply([.deleteService(udp.key), .deleteService(v6.key)])
            }),
            ("destinations: direct routing, NAT and tunnel with weights", {
                let s = IPVSService(key: key(40), scheduler: "wrr")
                let ds = [dest(1, 80, .dr, weight: 1), dest(2, 8080, .nat, weight: 5), dest(3, 80, .tun, weight: 0)]
                try await apply([.addService(s)] + ds.map { .addDestination(s.key, $0) })
                let got = try await ipvsTable().entry(s.key)?.destinations.map(\.configuration) ?? []
                for d in ds { try Self.expect(got.contains(d), "missing \(d.endpoint) \(d.forwarding) \(d.weight): \(got)") }
                try await apply([.deleteService(s.key)])
            }),
            ("edit a destination's weight and a service's scheduler", {
                var s = IPVSService(key: key(41), scheduler: "wrr")
                var d = dest(1)
                try await apply([.addService(s), .addDestination(s.key, d)])
                d.weight = 7
                s.scheduler = "wlc"
                try await apply([.editDestination(s.key, d), .editService(s)])
                let e = try await ipvsTable().entry(s.key)
                try Self.expect(e?.service.scheduler == "wlc" && e?.destinations.first?.weight == 7, "observed \(String(describing: e))")
                try await apply([.deleteDestination(s.key, d.endpoint)])
                let empty = try await ipvsTable().entry(s.key)?.destinations ?? [d]
                try Self.expect(empty.isEmpty, "destination not deleted")
                try await apply([.deleteService(s.key)])
            }),
            ("errors are classified", {
                let s = IPVSService(key: key(50), scheduler: "rr")
                _ = try await expectFailure([.deleteService(s.key)], .noSuchService)
                _ = try await expectFailure([.addDestination(s.key, dest(1))], .noSuchService)
                try await apply([.addService(s)])
                _ = try await expectFailure([.addService(s)], .exists)
                _ = try await expectFailure([.editDestination(s.key, dest(9))], .noSuchDestination)
                _ = try await expectFailure([.deleteDestination(s.key, dest(9).endpoint)], .noSuchDestination)
                try await apply([.addDestination(s.key, dest(1))])
                _ = try await expectFailure([.addDestination(s.key, dest(1))], .exists)
                _ = try await expectFailure([.addService(IPVSService(key: key(51), scheduler: "nosuchsched"))], .invalid)
                try await apply([.deleteService(s.key)])
            }),
            ("one failure does not stop the rest of a batch", {
                let a = IPVSService(key: key(52), scheduler: "rr"), b = IPVSService(key: key(53), scheduler: "rr")
                let report = await host.apply([.addService(a), .deleteService(key(54)), .addService(b)])
                try Self.expect(report.failures[0] == nil && report.failures[1]?.kind == .noSuchService && report.failures[2] == nil,
                                "outcomes \(report.failures.map { $0?.kind.rawValue ?? "ok" })")
                try await apply([.deleteService(a.key), .deleteService(b.key)])
            }),
            ("timeouts", {
                let before = try await ipvsTable().timeouts
                let t = IPVSTimeoutConfig(tcp: 7260, tcpFin: 121, udp: 301)
                try await apply([.setTimeouts(t)])
                let got = try await ipvsTable().timeouts
                try Self.expect(got == t, "observed \(got)")
                try await apply([.setTimeouts(before)])
            }),
            ("sync daemons", {
                let master = IPVSSyncDaemon(state: .master, interface: interface, syncID: 51)
                let backup = IPVSSyncDaemon(state: .backup, interface: interface, syncID: 51)
                try await apply([.startSyncDaemon(master), .startSyncDaemon(backup)])
                let running = try await ipvsTable().syncDaemons
                try Self.expect(Set(running) == [master, backup], "observed \(running)")
                _ = try await expectFailure([.startSyncDaemon(master)], .exists)
                try await apply([.stopSyncDaemon(.master), .stopSyncDaemon(.backup)])
                let stopped = try await ipvsTable().syncDaemons
                try Self.expect(stopped.isEmpty, "still running \(stopped)")
                _ = try await expectFailure([.stopSyncDaemon(.master)], .notFound)
            }),
            ("director plan converges and foreign services are left alone", {
                let foreign = IPVSService(key: key(99), scheduler: "lc")
                try await apply([.addService(foreign), .addDestination(foreign.key, dest(9))])
                let wanted = IPVSTable.Entry(service: IPVSService(key: key(60), scheduler: "wrr", flags: IPVSService.persistentFlag, timeout: 3600),
                                             destinations: [dest(1), dest(2)])
                let before = try await ipvsTable()
                let desired = DesiredHostState(ipvs: DesiredIPVS(services: [wanted], timeouts: before.timeouts))
                let observed = try await host.observe(sysctls: [])
                let actions = HostDiff.actions(desired: desired, observed: observed)
                let report = await host.apply(actions)
                try Self.expect(report.succeeded, "apply: \(report.errors)")
                let ledger = Ledger().recording(actions, report, before: observed)
                let again = HostDiff.actions(desired: desired, observed: try await host.observe(sysctls: []), ledger: ledger)
                try Self.expect(again.isEmpty, "not converged: \(again)")
                // Drift: someone deletes a destination and flushes the weights of another.
                try await apply([.deleteDestination(wanted.service.key, dest(1).endpoint), .editDestination(wanted.service.key, dest(2, weight: 0))])
                let repair = HostDiff.actions(desired: desired, observed: try await host.observe(sysctls: []), ledger: ledger)
                try Self.expect(repair.count == 2, "repair should re-add one and re-weight one: \(repair)")
                try await apply(repair)
                // Removing lb's service leaves the foreign one.
                let undo = HostDiff.actions(desired: DesiredHostState(ipvs: DesiredIPVS(services: [], timeouts: before.timeouts)),
                                            observed: try await host.observe(sysctls: []), ledger: ledger)
                try await apply(undo)
                let after = try await ipvsTable()
                try Self.expect(after.entry(wanted.service.key) == nil, "lb's service not removed")
                try Self.expect(after.entry(foreign.key)?.destinations.map(\.configuration) == [dest(9).configuration], "foreign service changed")
                try await apply([.deleteService(foreign.key)])
            }),
        ]
    }

    func ipvsUnavailable() async throws {
        let state = try await host.observe(sysctls: [])
        guard case .unavailable(let reason) = state.ipvs else { throw Failure(detail: "IPVS reported available") }
        try Self.expect(reason.contains("IPVS is not available"), "reason: \(reason)")
        _ = try await expectFailure([.addService(IPVSService(key: key(1), scheduler: "rr"))], .unavailable)
        let count = await host.ipvsServiceCount()
        try Self.expect(count == nil, "a service count (\(String(describing: count))) without IPVS")
    }
}
