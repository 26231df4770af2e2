import Foundation
import LBKeepalived
import LBSpec
import XCTest

/// Several directors' files become one spec; where they disagree, both places are named.
final class MergeTests: XCTestCase {
    let lvs1 = ("lvs1.conf", Fixtures.director("lvs1", servers: Fixtures.service()))
    let lvs2 = ("lvs2.conf", Fixtures.director("lvs2", address: "192.168.1.101", peer: "192.168.1.100", priority: 99, servers: Fixtures.service()))

    func messages(_ files: [(String, String)], options: KeepalivedImportOptions = .init(cluster: "web")) -> [String] {
        Fixtures.importing(files.map { (name: $0.0, text: $0.1) }, options: options).diagnostics.map(\.description)
    }

    func testOneGroupOneServiceAndRealServersAsNodes() throws {
        let result = Fixtures.importing([lvs1, lvs2].map { (name: $0.0, text: $0.1) })
        XCTAssertEqual(result.diagnostics.map(\.description), [])
        let spec = try XCTUnwrap(result.spec)
        XCTAssertEqual(spec.nodes.map { "\($0.name) \($0.address) \($0.interface)" }, [
            "lvs1 192.168.1.100/24 eth0", "lvs2 192.168.1.101/24 eth0", "rs1 192.168.1.102/24 eth0", "rs2 192.168.1.103/24 eth0",
        ])
        XCTAssertEqual(spec.vips.count, 1)
        XCTAssertEqual(spec.vips[0].vrrp.directors, [Director(node: "lvs1", priority: 100), Director(node: "lvs2", priority: 99)])
        XCTAssertEqual(spec.vips[0].services.count, 1)
        XCTAssertEqual(spec.vips[0].services[0].realServers.map(\.node), ["rs1", "rs2"])
    }

    func testNamesComeFromTheCommandLineElseRouterID() throws {
        let anonymous = ("a.conf", Fixtures.director("lvs1", servers: Fixtures.service()).replacingOccurrences(of: "    router_id lvs1\n", with: ""))
        XCTAssertEqual(messages([anonymous, lvs2]).first, "a.conf:1: error: global_defs has no router_id to name this director; name it with --name NODE=a.conf")
        let named = Fixtures.importing([anonymous, lvs2].map { (name: $0.0, text: $0.1) }, options: .init(cluster: "web", names: ["a.conf": "alpha", "lvs2.conf": "beta"]))
        XCTAssertEqual(try XCTUnwrap(named.spec, "\(named.diagnostics)").vips[0].vrrp.directors.map(\.node), ["alpha", "beta"])
        XCTAssertTrue(messages([lvs1, ("copy.conf", lvs1.1)]).contains(
            "copy.conf:2: error: director name 'lvs1' is also the name of lvs1.conf; give each file its own name with --name NODE=FILE"))
    }

    func testDirectorAddressFromPeersOrTheCommandLine() throws {
        // lvs2 does not say its own address, but lvs1 sends to it: the one peer nobody else has.
        let quiet = ("lvs2.conf", lvs2.1.replacingOccurrences(of: "    unicast_src_ip 192.168.1.101\n", with: ""))
        let derived = Fixtures.importing([lvs1, quiet].map { (name: $0.0, text: $0.1) })
        XCTAssertEqual(derived.spec?.nodes[1].address.description, "192.168.1.101/24")
        XCTAssertEqual(derived.diagnostics.map(\.description), [
            "lvs2.conf:6: warning: no unicast_src_ip: took 192.168.1.101 as director 'lvs2''s address, the unicast peer the other directors list and nobody else has",
        ])
        // Multicast files say nothing; --address does.
        let multicast = [lvs1, lvs2].map { f in
            (name: f.0, text: f.1.replacingOccurrences(of: #"    unicast_src_ip 192\.168\.1\.10[01]\n    unicast_peer \{\n        192\.168\.1\.10[01]\n    \}\n"#, with: "", options: .regularExpression))
        }
        XCTAssertEqual(Fixtures.importing(multicast).diagnostics.map(\.description), [
            "lvs1.conf:6: error: cannot tell the address of director 'lvs1': its keepalived.conf has no unicast_src_ip or mcast_src_ip; pass --address lvs1=IP/PREFIX",
            "lvs2.conf:6: error: cannot tell the address of director 'lvs2': its keepalived.conf has no unicast_src_ip or mcast_src_ip; pass --address lvs2=IP/PREFIX",
        ])
        let given = Fixtures.importing(multicast, options: .init(cluster: "web", addresses: ["lvs1": CIDR("192.168.1.100")!, "lvs2": CIDR("192.168.1.101/16")!]))
        let spec = try XCTUnwrap(given.spec, "\(given.diagnostics)")
        XCTAssertEqual(spec.nodes.map(\.address.description), ["192.168.1.100/24", "192.168.1.101/16", "192.168.1.102/24", "192.168.1.103/24"])
        XCTAssertFalse(spec.vips[0].vrrp.unicast)
    }

    func testGroupDisagreementsNameBothPlaces() {
        let other = ("lvs2.conf", lvs2.1
            .replacingOccurrences(of: "advert_int 1", with: "advert_int 2")
            .replacingOccurrences(of: "192.168.1.200/24", with: "192.168.1.200/24\n        192.168.1.201/24"))
        XCTAssertEqual(messages([lvs1, other]), [
            "lvs2.conf:11: error: vrrp_instance VI_1 (virtual_router_id 51) has advert_int 2 but VI_1 at lvs1.conf:11 has advert_int 1; the directors of one VRRP group need the same setting",
            "lvs2.conf:17: error: virtual_ipaddress of virtual_router_id 51 differs between directors (192.168.1.201/24 only here); a VRRP group moves the same VIPs on every director",
        ])
    }

    func testServiceDisagreementsNameBothPlaces() {
        let other = ("lvs2.conf", lvs2.1
            .replacingOccurrences(of: "lb_algo wrr", with: "lb_algo rr")
            .replacingOccurrences(of: "real_server 192.168.1.103 80 {\n        weight 1", with: "real_server 192.168.1.103 80 {\n        weight 2"))
        XCTAssertEqual(messages([lvs1, other]), [
            "lvs2.conf:20: error: virtual_server 192.168.1.200:80/tcp has 192.168.1.102:80 weight 1, 192.168.1.103:80 weight 2 here but 192.168.1.102:80 weight 1, 192.168.1.103:80 weight 1 at lvs1.conf:20; every director needs the same service",
            "lvs2.conf:21: error: virtual_server 192.168.1.200:80/tcp has rr here but wrr at lvs1.conf:21; every director needs the same service",
        ])
    }

    /// inhibit_on_failure is compared per real server: on the virtual_server or on each server says the same.
    func testInhibitOnFailureMustAgreeAcrossDirectors() {
        // A check, since inhibit_on_failure without one is a warning of its own.
        let check = "        TCP_CHECK {\n        }\n"
        let lvs1 = ("lvs1.conf", Fixtures.director("lvs1", servers: Fixtures.service(check: check)))
        let lvs2 = Fixtures.director("lvs2", address: "192.168.1.101", peer: "192.168.1.100", priority: 99, servers: Fixtures.service(check: check))
        let everyServer = ("lvs2.conf", lvs2.replacingOccurrences(of: "        weight 1\n", with: "        weight 1\n        inhibit_on_failure\n"))
        let onService = ("lvs1.conf", lvs1.1.replacingOccurrences(of: "    protocol TCP\n", with: "    protocol TCP\n    inhibit_on_failure\n"))
        XCTAssertEqual(messages([onService, everyServer]), [])
        XCTAssertEqual(messages([lvs1, everyServer]), [
            "lvs2.conf:20: error: virtual_server 192.168.1.200:80/tcp has 192.168.1.102:80 weight 1 inhibit_on_failure, 192.168.1.103:80 weight 1 inhibit_on_failure here but 192.168.1.102:80 weight 1, 192.168.1.103:80 weight 1 at lvs1.conf:20; every director needs the same service",
        ])
    }

    func testClusterWideSettingsMustAgree() {
        let other = ("lvs2.conf", lvs2.1
            .replacingOccurrences(of: "lvs_timeouts tcp 7260", with: "lvs_timeouts tcp 900")
            .replacingOccurrences(of: "lvs_sync_daemon eth0 id 0", with: "lvs_sync_daemon eth0 id 5"))
        XCTAssertEqual(messages([lvs1, other]), [
            "lvs2.conf:3: error: lvs_timeouts tcp 900 tcpfin 120 udp 300 differ from tcp 7260 tcpfin 120 udp 300 at lvs1.conf:3; lb sets the same timeouts on every director",
            "lvs2.conf:4: error: lvs_sync_daemon id 5 differs from id 0 at lvs1.conf:4; directors must share the sync id",
        ])
    }

    func testStateIsInformationalButAContradictionIsWarned() {
        let master = ("lvs2.conf", lvs2.1.replacingOccurrences(of: "state BACKUP", with: "state MASTER"))
        XCTAssertEqual(messages([lvs1, master]), [
            "lvs2.conf:7: warning: state MASTER with priority 99, lower than BACKUP lvs1 (priority 100 at lvs1.conf:10): the priority decides, so lvs1 becomes master",
        ])
    }

    func testServicesNeedAVIPAndEveryDirectorGetsThem() {
        let stray = ("lvs1.conf", lvs1.1 + Fixtures.service(port: 443).replacingOccurrences(of: "192.168.1.200 443", with: "192.168.1.50 443"))
        let without = ("lvs2.conf", Fixtures.director("lvs2", address: "192.168.1.101", peer: "192.168.1.100", priority: 99))
        XCTAssertEqual(messages([stray, without]), [
            "lvs1.conf:31: error: virtual_server 192.168.1.50:443/tcp is on no VIP: lb runs services on VIPs that a vrrp_instance moves; add 192.168.1.50 to a virtual_ipaddress",
            "lvs2.conf:6: warning: lvs2.conf has no virtual_server 192.168.1.200:80/tcp (defined at lvs1.conf:20); lb sets it up on every director of VIP 192.168.1.200, 'lvs2' included",
        ])
    }

    func testARealServerWithADirectorsAddressIsThatNode() throws {
        // lvs2 directs the second VIP and serves the first.
        let a = ("a.conf", Fixtures.director("lvs1", peer: nil, servers: Fixtures.service(servers: ["192.168.1.101", "192.168.1.103"])))
        let b = ("b.conf", Fixtures.director("lvs2", address: "192.168.1.101", peer: nil, vip: "192.168.1.201/24")
            .replacingOccurrences(of: "virtual_router_id 51", with: "virtual_router_id 52"))
        let result = Fixtures.importing([a, b].map { (name: $0.0, text: $0.1) })
        let spec = try XCTUnwrap(result.spec, "\(result.diagnostics)")
        XCTAssertEqual(spec.nodes.map(\.name), ["lvs1", "lvs2", "rs1"])
        XCTAssertEqual(spec.vips[0].services[0].realServers.map(\.node), ["lvs2", "rs1"])
    }
}

extension MergeTests {
    func testAnAddressForNoDirectorIsAnError() {
        let r = Fixtures.importing([lvs1, lvs2].map { (name: $0.0, text: $0.1) }, options: .init(cluster: "web", addresses: ["lvs9": CIDR("10.0.0.1")!]))
        XCTAssertEqual(r.diagnostics.map(\.description), ["lvs1.conf:1: error: --address lvs9=…: no director is named lvs9 (the directors are lvs1, lvs2)"])
    }
}
