import Foundation
import LBKeepalived
import LBSpec
import LBSpecYAML
import XCTest

/// The exported real-server script, run for real inside a network namespace: it must do what the
/// agent's plan says, twice without harm, and `stop` must undo it.
final class RealServerScriptTests: XCTestCase {
    func testScriptAppliesThePlanIdempotentlyAndStopRestores() throws {
        let spec = try Fixtures.reference()
        let script = try RealServerScript.script(spec, node: "rs1", source: "reference.yaml")
        let dir = try KeepalivedTool.temporaryDirectory(self)
        let path = dir.appendingPathComponent("rs1.sh")
        try script.write(to: path, atomically: true, encoding: .utf8)
        let state = dir.appendingPathComponent("state").path
        let env = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LB_REALSERVER_STATE": state]

        try KeepalivedTool.withNamespace(interfaces: ["eth0"]) { ns in
            func sh(_ args: [String]) throws -> (status: Int32, output: String) {
                try KeepalivedTool.run("/usr/sbin/ip", ["netns", "exec", ns] + args, environment: env)
            }
            func sysctl(_ key: String) throws -> String {
                try sh(["cat", "/proc/sys/net/ipv4/conf/\(key)"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            func loAddresses() throws -> [String] {
                // "1: lo    inet 192.168.1.200/32 scope global lo:0\       valid_lft …": address, scope, label.
                try sh(["ip", "-o", "-4", "addr", "show", "dev", "lo"]).output.split(separator: "\n").map { line in
                    let fields = line.split(whereSeparator: { $0 == " " || $0 == "\\" })
                    let inet = fields.firstIndex(of: "inet") ?? 0
                    return fields[(inet + 1)...].prefix { $0 != "valid_lft" }.joined(separator: " ")
                }
            }
            // A value that differs from the kernel default, to see stop restore it.
            XCTAssertEqual(try sh(["sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/eth0/arp_announce"]).status, 0)

            for _ in 0..<2 {
                let r = try sh(["sh", path.path])
                XCTAssertEqual(r.status, 0, r.output)
                XCTAssertEqual(r.output, "")
                XCTAssertEqual(try loAddresses(), ["127.0.0.1/8 scope host lo", "192.168.1.200/32 scope global lo:0"])
                XCTAssertEqual(try ["all/arp_ignore", "all/arp_announce", "eth0/arp_ignore", "eth0/arp_announce"].map(sysctl), ["1", "2", "1", "2"])
            }
            for _ in 0..<2 {
                let r = try sh(["sh", path.path, "stop"])
                XCTAssertEqual(r.status, 0, r.output)
                XCTAssertEqual(try loAddresses(), ["127.0.0.1/8 scope host lo"])
                XCTAssertEqual(try ["all/arp_ignore", "all/arp_announce", "eth0/arp_ignore", "eth0/arp_announce"].map(sysctl), ["0", "0", "0", "1"])
            }
            let usage = try sh(["sh", path.path, "restart"])
            XCTAssertEqual(usage.status, 2)
            XCTAssertEqual(usage.output, "usage: \(path.path) [start|stop]\n")
        }
    }

    func testScriptFailsLoudlyWithoutTheInterface() throws {
        let script = try RealServerScript.script(try Fixtures.reference(), node: "rs2", source: "reference.yaml")
        let dir = try KeepalivedTool.temporaryDirectory(self)
        let path = dir.appendingPathComponent("rs2.sh")
        try script.write(to: path, atomically: true, encoding: .utf8)
        try KeepalivedTool.withNamespace(interfaces: []) { ns in
            let r = try KeepalivedTool.run("/usr/sbin/ip", ["netns", "exec", ns, "sh", path.path],
                                           environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LB_REALSERVER_STATE": dir.path])
            XCTAssertEqual(r.status, 1)
            XCTAssertEqual(r.output, "\(path.path): cannot write /proc/sys/net/ipv4/conf/eth0/arp_ignore (not root, or no such interface)\n")
            let lo = try KeepalivedTool.run("/usr/sbin/ip", ["netns", "exec", ns, "ip", "-o", "addr", "show", "dev", "lo"])
            XCTAssertFalse(lo.output.contains("192.168.1.200"), "nothing is half-applied")
        }
    }

    func testTunnelAndIPv6RealServers() throws {
        let loaded = SpecLoader.load(yaml: RoundTripTests.mixed, file: "mixed.yaml")
        let spec = try XCTUnwrap(loaded.spec)
        let rs2 = try RealServerScript.script(spec, node: "rs2", source: "mixed.yaml")
        XCTAssertTrue(rs2.contains("modprobe ipip 2>/dev/null || true\n    ip link set tunl0 up\n"), rs2)
        XCTAssertTrue(rs2.contains("/proc/sys/net/ipv4/conf/tunl0/rp_filter 0\n"), rs2)
        XCTAssertTrue(rs2.contains("    ip addr replace 192.0.2.100/32 dev tunl0\n"), rs2)
        XCTAssertTrue(rs2.contains("    ip addr replace 192.0.2.101/32 dev lo label lo:0\n"), rs2)
        let rs1 = try RealServerScript.script(spec, node: "rs1", source: "mixed.yaml")
        XCTAssertTrue(rs1.contains("    ip addr replace 2001:db8::100/128 dev lo\n"), rs1)
        XCTAssertTrue(rs1.contains("sysctls='\n'\n"), "IPv6 has no ARP sysctls:\n\(rs1)")
        XCTAssertThrowsError(try RealServerScript.script(spec, node: "a", source: "mixed.yaml")) { error in
            XCTAssertEqual("\(error)", "node 'a' is a real server of no VIP; nothing to export (for a director use lbctl export keepalived)")
        }
        XCTAssertEqual(RealServerScript.procPath("net.ipv4.conf.eth0.100.arp_ignore"), "/proc/sys/net/ipv4/conf/eth0.100/arp_ignore")
    }
}
