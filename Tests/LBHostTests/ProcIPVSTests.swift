#if canImport(Glibc)
import Glibc
#endif
@testable import LBHost
import LBNetlink
import LBSpec
import XCTest

final class ProcIPVSTests: XCTestCase {
    /// The layout of ip_vs_info_seq_show (net/netfilter/ipvs/ip_vs_ctl.c).
    let listing = """
    IP Virtual Server version 1.2.1 (size=4096)
    Prot LocalAddress:Port Scheduler Flags
      -> RemoteAddress:Port Forward Weight ActiveConn InActConn
    TCP  C0A801C8:0050 wrr persistent 3600 FFFFFF00
      -> C0A80167:1F90      Masq    0      0          0
      -> C0A80166:0050      Route   3      2          7
    UDP  C0A801C8:0035 sh 
    FWM  00000001 wlc 
      -> 0A000001:0050      Route   1      0          0
    TCP  [fd00:0254:0000:0000:0000:0000:0000:0080]:01BB wrr 
      -> [fd00:0254:0000:0000:0000:0000:0000:0100]:01BB      Tunnel  2      0          0

    """

    func testParsesServicesAndDestinations() throws {
        let parsed = try XCTUnwrap(ProcIPVS.parse(listing))
        let web = IPVSServiceKey(address: IPAddress("192.168.1.200")!, port: 80, protocol: .tcp)
        let dns = IPVSServiceKey(address: IPAddress("192.168.1.200")!, port: 53, protocol: .udp)
        let v6 = IPVSServiceKey(address: IPAddress("fd00:254::80")!, port: 443, protocol: .tcp)
        XCTAssertEqual(Set(parsed.keys), [web, dns, v6], "the listing cannot key firewall-mark services; LinuxHost reads netlink when it has one")
        XCTAssertEqual(parsed[web]?.map(\.configuration), [
            IPVSDestination(address: IPAddress("192.168.1.103")!, port: 8080, forwarding: .nat, weight: 0),
            IPVSDestination(address: IPAddress("192.168.1.102")!, port: 80, forwarding: .dr, weight: 3),
        ])
        XCTAssertEqual(parsed[web]?[1].activeConnections, 2)
        XCTAssertEqual(parsed[web]?[1].inactiveConnections, 7)
        XCTAssertEqual(parsed[dns], [])
        XCTAssertEqual(parsed[v6]?.first?.forwarding, .tun)
        XCTAssertEqual(parsed[v6]?.first?.address, IPAddress("fd00:254::100"))
    }

    func testAFirewallMarkServiceSendsTheReaderToNetlink() {
        XCTAssertTrue(ProcIPVS.listsFirewallMarks(Array(listing.utf8)))
        XCTAssertFalse(ProcIPVS.listsFirewallMarks(Array("Prot LocalAddress:Port Scheduler Flags\nTCP  C0A801C8:0050 wrr \n".utf8)))
        XCTAssertFalse(ProcIPVS.listsFirewallMarks([]))
    }

    func testAMangledServiceLineRefusesTheListing() {
        XCTAssertNil(ProcIPVS.parse("TCP  nonsense wrr\n"))
    }
}

extension ProcIPVSTests {
    func testServicesCarryScheduleAndPersistence() throws {
        let table = try XCTUnwrap(ProcIPVS.parseTable(bytes: Array(listing.utf8)))
        XCTAssertEqual(table.map { "\($0.service.key)" }, ["192.168.1.200:80/tcp", "192.168.1.200:53/udp", "[fd00:254::80]:443/tcp"])
        let web = table[0].service
        XCTAssertEqual(web.scheduler, "wrr")
        XCTAssertTrue(web.isPersistent)
        XCTAssertEqual(web.timeout, 3600, "the listing's raw number (jiffies in the kernel); LinuxHost rereads persistent services through netlink")
        XCTAssertEqual(web.netmask, 0xFFFF_FF00)
        XCTAssertEqual(table[1].service.scheduler, "sh")
        XCTAssertFalse(table[1].service.isPersistent)
        XCTAssertEqual(table[2].service.netmask, 128)
        XCTAssertEqual(table[2].destinations.count, 1, "the FWM service's destination must not leak into its neighbours")
        XCTAssertEqual(table[1].destinations.count, 0)
    }
}

extension ProcIPVSTests {
    /// A service flushed between the listing and the netlink read (`ipvsadm -C` under a running agent).
    func testAServiceDeletedBetweenTheTwoReadsIsGoneNotChanged() throws {
        let listed = try XCTUnwrap(ProcIPVS.parseTable(bytes: Array(listing.utf8)))
        let persistent = try XCTUnwrap(listed.firstIndex { $0.service.isPersistent })
        let request = "GET_SERVICE \(listed[persistent].service.key)"
        let refined = try LinuxHost.refine(listed, [persistent], [.failure(.kernel(errno: ESRCH, message: nil, request: request))])
        XCTAssertEqual(refined.map(\.service.key), listed.map(\.service.key).filter { $0 != listed[persistent].service.key },
                       "not kept with the listing's timeout in jiffies, which the diff would take for a changed service")

        var fromNetlink = listed[persistent].service
        fromNetlink.timeout = 3600
        XCTAssertEqual(try LinuxHost.refine(listed, [persistent], [.success(fromNetlink)])[persistent].service, fromNetlink)
        XCTAssertThrowsError(try LinuxHost.refine(listed, [persistent], [.failure(.kernel(errno: EPERM, message: nil, request: request))]))
    }
}
