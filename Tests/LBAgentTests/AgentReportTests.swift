@testable import LBAgent
import LBHost
import LBNetlink
import LBReport
import LBSpec
import LBVRRP
import XCTest

/// The node report's size bound and shedding, its decoder on hostile bytes, and the metrics exposition.
final class AgentReportTests: XCTestCase {
    func report(services: Int, destinations: Int, error: String? = nil) -> AgentReport {
        AgentReport(
            node: "lvs1", at: 1_700_000_000, version: 42, digest: "0123456789abcdef", converged: true, roles: ["director"],
            vrrp: [.init(name: "VI_51", vrid: 51, state: "MASTER", priority: 100)],
            services: (0..<services).map { s in
                .init(key: "192.168.1.200:\(8000 + s)/tcp", active: 10, inactive: 2, destinations: (0..<destinations).map {
                    .init(endpoint: "192.168.1.\(100 + $0):80", weight: 1, active: 5, inactive: 1, health: "up")
                })
            },
            repairs: ["address": 3, "ipvs_service": 1], error: error, refused: .init(version: 41, reason: "unknown_key", from: "lvs2"))
    }

    func testASmallReportKeepsEverythingAndReadsBack() throws {
        let r = report(services: 1, destinations: 2)
        let bytes = r.encoded()
        XCTAssertLessThanOrEqual(bytes.count, AgentReport.maximumBytes)
        XCTAssertEqual(AgentReport.decode(bytes), r)
    }

    func testALargeReportShedsDetailButKeepsTheSummary() throws {
        let big = report(services: 40, destinations: 8, error: String(repeating: "x", count: 3000))
        let bytes = big.encoded()
        XCTAssertLessThanOrEqual(bytes.count, AgentReport.maximumBytes)
        let back = try XCTUnwrap(AgentReport.decode(bytes))
        XCTAssertEqual(back.version, 42)
        XCTAssertEqual(back.converged, true)
        XCTAssertEqual(back.vrrp, big.vrrp)
        XCTAssertEqual(back.repairs, big.repairs)
        XCTAssertEqual(back.refused?.reason, "unknown_key")
        XCTAssertNil(back.services, "per-service detail is what goes when the report is too large")
        XCTAssertTrue(back.error?.hasPrefix("xxx") ?? false)

        // Medium: per-destination detail goes first, per-service counts stay.
        let medium = report(services: 6, destinations: 8)
        let m = try XCTUnwrap(AgentReport.decode(medium.encoded()))
        XCTAssertEqual(m.services?.count, 6)
        XCTAssertNil(m.services?.first?.destinations)
    }

    func testTheDecoderSurvivesHostileBytes() {
        var rng = SystemRandomNumberGenerator()
        let valid = report(services: 2, destinations: 2).encoded()
        for i in 0..<5_000 {
            var bytes: [UInt8]
            switch i % 3 {
            case 0: bytes = (0..<Int.random(in: 0...1200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1: bytes = Array(valid.prefix(Int.random(in: 0...valid.count, using: &rng)))
            default:
                bytes = valid
                for _ in 0..<Int.random(in: 1...8, using: &rng) { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            }
            _ = AgentReport.decode(bytes)
        }
        XCTAssertNil(AgentReport.decode(Array(#"{"v":2,"n":"x","t":0,"ok":true,"r":[],"vrrp":[],"fix":{}}"#.utf8)), "an unknown format version is skipped")
    }

    func testMetricsAreExposedInPrometheusTextFormat() {
        let metrics = AgentMetrics()
        metrics.recordRefusal(reason: "unknown_key")
        metrics.recordVRRP(name: "VI_51", interface: "eth0", routerID: 51, state: .master, priority: 100)
        let key = IPVSServiceKey(address: IPAddress("192.168.1.200")!, port: 80, protocol: .tcp)
        var service = IPVSService(key: key, scheduler: "wrr")
        var stats = IPVSStats()
        stats.connections = 7
        stats.inPackets = 70
        stats.inBytes = 7000
        service.stats = stats
        var d = IPVSDestination(address: IPAddress("192.168.1.102")!, port: 80, forwarding: .dr, weight: 1)
        d.activeConnections = 3
        metrics.recordIPVS(IPVSTable(services: [.init(service: service, destinations: [d])]), managed: [key])
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        XCTAssertTrue(text.contains(#"lb_documents_refused_total{reason="unknown_key"} 1"#), text)
        XCTAssertTrue(text.contains(#"lb_vrrp_state{iname="VI_51",intf="eth0",vrid="51"} 2"#), text)
        XCTAssertTrue(text.contains(#"lb_ipvs_backend_connections_active{local_address="192.168.1.200",local_port="80",proto="TCP",remote_address="192.168.1.102",remote_port="80"} 3"#), text)
        XCTAssertTrue(text.contains(#"lb_ipvs_connections_total{local_address="192.168.1.200",local_port="80",proto="TCP"} 7"#), text)

        // A destination that is gone leaves the exposition.
        metrics.recordIPVS(IPVSTable(services: [.init(service: service, destinations: [])]), managed: [key])
        XCTAssertFalse(String(decoding: metrics.exposition(), as: UTF8.self).contains("remote_address=\"192.168.1.102\""))
    }
}
