import LBHost
import LBNetlink
import LBSpec
import XCTest

final class HostDiffTests: XCTestCase {
    /// The reference scenario's director plan, from memory.
    func referencePlan(_ node: String) throws -> HostPlan {
        let spec = ClusterSpec(
            cluster: "web",
            nodes: [Node(name: "lvs1", address: CIDR("192.168.1.100/24")!), Node(name: "lvs2", address: CIDR("192.168.1.101/24")!),
                    Node(name: "rs1", address: CIDR("192.168.1.102/24")!), Node(name: "rs2", address: CIDR("192.168.1.103/24")!)],
            vips: [VIP(name: "web", address: CIDR("192.168.1.200/24")!,
                       vrrp: VRRPGroup(routerID: 51, authPassword: "s3cret", directors: [Director(node: "lvs1", priority: 100), Director(node: "lvs2", priority: 99)]),
                       services: [VirtualService(port: 80, persistence: Persistence(timeoutSeconds: 3600),
                                                 healthCheck: HealthCheck(kind: .tcp), realServers: [RealServer(node: "rs1"), RealServer(node: "rs2")])])])
        XCTAssertEqual(SpecValidator.validate(spec).filter { $0.severity == .error }, [])
        return try XCTUnwrap(HostPlanner.plan(spec, node: node))
    }

    func testDirectorFromEmpty() throws {
        let desired = DesiredHostState(plan: try referencePlan("lvs1"))
        let observed = HostState(interfaces: InMemoryHost.defaultInterfaces, ipvs: .available(IPVSTable()))
        let actions = HostDiff.actions(desired: desired, observed: observed)
        let key = IPVSServiceKey(address: IPAddress("192.168.1.200")!, port: 80, protocol: .tcp)
        XCTAssertEqual(actions.map(\.description), [
            "set net.ipv4.vs.expire_nodest_conn = 1",
            "set net.ipv4.vs.expire_quiescent_template = 1",
            "add service 192.168.1.200:80/tcp wrr",
            "add destination 192.168.1.102:80 to 192.168.1.200:80/tcp dr weight 1",
            "add destination 192.168.1.103:80 to 192.168.1.200:80/tcp dr weight 1",
            "set IPVS timeouts tcp 7260 tcpfin 120 udp 300",
            "start sync daemon master on eth0 id 0",
            "start sync daemon backup on eth0 id 0",
        ])
        guard case .addService(let s) = actions[2] else { return XCTFail("third action") }
        XCTAssertEqual(s.key, key)
        XCTAssertTrue(s.isPersistent)
        XCTAssertEqual(s.timeout, 3600)
        XCTAssertEqual(s.netmask, 0xFFFF_FFFF)
    }

    func testRealServerFromEmptyAndConvergence() async throws {
        let desired = DesiredHostState(plan: try referencePlan("rs1"))
        XCTAssertNil(desired.ipvs, "a real server leaves IPVS alone")
        let host = InMemoryHost()
        let before = try await host.observe(sysctls: desired.sysctlKeys(ledger: Ledger()))
        let actions = HostDiff.actions(desired: desired, observed: before)
        XCTAssertEqual(actions.map(\.description), [
            "add address 192.168.1.200/32 to lo label lo:0",
            "set net.ipv4.conf.all.arp_announce = 2",
            "set net.ipv4.conf.all.arp_ignore = 1",
            "set net.ipv4.conf.eth0.arp_announce = 2",
            "set net.ipv4.conf.eth0.arp_ignore = 1",
        ])
        let report = await host.apply(actions)
        XCTAssertTrue(report.succeeded)
        let ledger = Ledger().recording(actions, report, before: before)
        XCTAssertEqual(ledger.sysctlOriginals["net.ipv4.conf.all.arp_ignore"], "0")
        let after = try await host.observe(sysctls: desired.sysctlKeys(ledger: ledger))
        XCTAssertEqual(HostDiff.actions(desired: desired, observed: after, ledger: ledger), [])

        // Drift: the VIP is deleted and a sysctl flipped; one diff repairs both.
        await host.tamper { state, sysctls in
            state.interfaces[0].addresses.removeAll { $0.address.address == IPAddress("192.168.1.200") }
            sysctls["net.ipv4.conf.eth0.arp_ignore"] = "0"
        }
        let drifted = try await host.observe(sysctls: desired.sysctlKeys(ledger: ledger))
        XCTAssertEqual(HostDiff.actions(desired: desired, observed: drifted, ledger: ledger).map(\.description), [
            "add address 192.168.1.200/32 to lo label lo:0",
            "set net.ipv4.conf.eth0.arp_ignore = 1",
        ])
    }

    func testConditionalDestinationsAreNeverAddedNorRemovedButHeldAtTheirSettings() throws {
        var desired = DesiredHostState(plan: try referencePlan("lvs1"))
        let key = IPVSServiceKey(address: IPAddress("192.168.1.200")!, port: 80, protocol: .tcp)
        let rs1 = IPAddress("192.168.1.102")!, rs2 = IPAddress("192.168.1.103")!
        // rs1's health is not known yet (left as it is); rs2 drains (held at weight 0 while it is there).
        desired.ipvs!.services[0].destinations = []
        desired.ipvs!.conditional[key] = [ConditionalDestination(address: rs1, port: 80),
                                          ConditionalDestination(address: rs2, port: 80, configuration: IPVSDestination(address: rs2, port: 80, forwarding: .dr, weight: 0))]
        var table = IPVSTable()
        let service = desired.ipvs!.services[0].service
        table.services = [IPVSTable.Entry(service: service, destinations: [IPVSDestination(address: rs1, port: 80, forwarding: .dr, weight: 7),
                                                                             IPVSDestination(address: rs2, port: 80, forwarding: .dr, weight: 1)])]
        table.timeouts = desired.ipvs!.timeouts
        table.syncDaemons = desired.ipvs!.syncDaemons
        let observed = HostState(interfaces: InMemoryHost.defaultInterfaces, sysctls: ["net.ipv4.vs.expire_quiescent_template": "1", "net.ipv4.vs.expire_nodest_conn": "1"],
                                 ipvs: .available(table))
        XCTAssertEqual(HostDiff.actions(desired: desired, observed: observed).map(\.description),
                       ["edit destination 192.168.1.103:80 of 192.168.1.200:80/tcp dr weight 0"])
        // Gone from the kernel (ipvsadm -C): the service comes back without them.
        table.services = []
        let cleared = HostState(interfaces: InMemoryHost.defaultInterfaces, sysctls: ["net.ipv4.vs.expire_quiescent_template": "1", "net.ipv4.vs.expire_nodest_conn": "1"],
                                ipvs: .available(table))
        XCTAssertEqual(HostDiff.actions(desired: desired, observed: cleared).map(\.description), ["add service 192.168.1.200:80/tcp wrr"])
    }

    func testReAddsAfterAFlushComeInTheOrderTheKernelsTrashFindsAtItsHead() {
        // 30 services of 4 destinations, listed by the kernel in an order of its own (its hash buckets).
        let keys = (0..<30).map { IPVSServiceKey(address: IPAddress("10.0.0.1")!, port: UInt16(1000 + $0), protocol: .tcp) }
        let listed = keys.shuffled()
        var lastSeen = IPVSTable()
        lastSeen.services = listed.map { key in
            IPVSTable.Entry(service: IPVSService(key: key, scheduler: "wrr"),
                            destinations: (1...4).shuffled().map { IPVSDestination(address: .v4(0x0A00_0100 | UInt32($0)), port: key.port, forwarding: .dr, weight: 1) })
        }
        let desired = DesiredHostState(ipvs: DesiredIPVS(services: keys.map { key in
            IPVSTable.Entry(service: IPVSService(key: key, scheduler: "wrr"),
                            destinations: (1...4).map { IPVSDestination(address: .v4(0x0A00_0100 | UInt32($0)), port: key.port, forwarding: .dr, weight: 1) })
        }, timeouts: IPVSTimeoutConfig(tcp: 7260, tcpFin: 120, udp: 300)))
        let actions = HostDiff.actions(desired: desired, observed: HostState(ipvs: .available(IPVSTable())))
        let order = try! XCTUnwrap(HostDiff.trashOrder(actions, lastSeen: lastSeen))
        XCTAssertEqual(order.sorted(), Array(actions.indices), "a permutation")
        let reordered = order.map { actions[$0] }
        XCTAssertEqual(reordered.last, actions.last, "what follows the services keeps its place")

        // The kernel's trash after `ipvsadm -C`: each destination pushed on the head in listing order.
        // Re-adding one walks from the head to it.
        func walk(_ sequence: [HostAction]) -> Int {
            var trash: [String] = []
            for e in lastSeen.services { for d in e.destinations { trash.insert("\(e.service.key) \(d.endpoint)", at: 0) } }
            var steps = 0
            var added = Set<IPVSServiceKey>()
            for a in sequence {
                switch a {
                case .addService(let s): added.insert(s.key)
                case .addDestination(let k, let d):
                    XCTAssertTrue(added.contains(k), "a destination before its service")
                    let i = trash.firstIndex(of: "\(k) \(d.endpoint)")!
                    steps += i + 1
                    trash.remove(at: i)
                default: break
                }
            }
            return steps
        }
        XCTAssertEqual(walk(reordered), 120, "every destination found at the head")
        XCTAssertGreaterThan(walk(actions), 2_000, "the plan's order walks most of the list each time")
        XCTAssertNil(HostDiff.trashOrder(actions, lastSeen: IPVSTable()), "nothing seen before: the diff's order")
    }

    func testWrongLabelOrPrefixIsReplaced() {
        let want = OwnedAddress(interface: "lo", address: CIDR("192.168.1.200/32")!, label: "lo:0")
        var observed = HostState(interfaces: InMemoryHost.defaultInterfaces, ipvs: .unavailable("none"))
        observed.interfaces[0].addresses.append(.init(address: CIDR("192.168.1.200/24")!, label: "lo"))
        let actions = HostDiff.actions(desired: DesiredHostState(addresses: [want]), observed: observed)
        XCTAssertEqual(actions, [.deleteAddress(interface: "lo", address: CIDR("192.168.1.200/24")!),
                                 .addAddress(interface: "lo", address: want.address, label: "lo:0")])
    }

    func testForeignServicesAndDaemonsAreNeverTouched() {
        let foreign = IPVSService(key: IPVSServiceKey(address: IPAddress("10.0.0.1")!, port: 53, protocol: .udp), scheduler: "rr")
        let table = IPVSTable(services: [.init(service: foreign)], syncDaemons: [IPVSSyncDaemon(state: .master, interface: "eth0", syncID: 9)])
        let observed = HostState(interfaces: InMemoryHost.defaultInterfaces, ipvs: .available(table))
        XCTAssertEqual(HostDiff.actions(desired: DesiredHostState(), observed: observed), [])
        XCTAssertEqual(HostDiff.actions(desired: DesiredHostState(ipvs: DesiredIPVS(services: [], timeouts: table.timeouts)), observed: observed), [])
    }

    func testWithoutIPVSNoIPVSActionsAreInvented() throws {
        let desired = DesiredHostState(plan: try referencePlan("lvs1"))
        let observed = HostState(interfaces: InMemoryHost.defaultInterfaces, ipvs: .unavailable("IPVS is not available"))
        XCTAssertEqual(HostDiff.actions(desired: desired, observed: observed), [])
    }
}
