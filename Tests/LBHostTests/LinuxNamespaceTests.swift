import Foundation
import XCTest

/// The host layer against this machine's real kernel, each test in network namespaces it makes and removes.
final class LinuxNamespaceTests: XCTestCase {
    static var products: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent() }

    override func setUpWithError() throws {
        // CI runs as root; a silent skip would hide that the kernel was never exercised.
        guard geteuid() == 0 else {
            XCTFail("LinuxNamespaceTests need root to create network namespaces; run `make test` as root (CI does)")
            throw XCTSkip("not root")
        }
    }

    @discardableResult
    func sh(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A namespace with lo up and an `eth0` (one end of a veth pair), removed when the test ends.
    func namespace() throws -> String {
        let name = "lbtest-\(UUID().uuidString.prefix(8).lowercased())"
        addTeardownBlock { [self] in _ = try? self.sh(["ip", "netns", "del", name]) }
        for cmd in [["ip", "netns", "add", name], ["ip", "-n", name, "link", "set", "lo", "up"],
                    ["ip", "-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"],
                    ["ip", "-n", name, "link", "set", "eth0", "up"]] {
            let (status, output) = try sh(cmd)
            XCTAssertEqual(status, 0, "\(cmd.joined(separator: " ")): \(output)")
        }
        return name
    }

    func testConformanceSuiteAgainstTheKernel() throws {
        let ns = try namespace()
        let (status, output) = try sh(["ip", "netns", "exec", ns, Self.products.appendingPathComponent("lb-hostcheck").path, "--events"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("ok rtnetlink events see an address added by ip"), output)
        XCTAssertTrue(output.contains("ok ipvs unavailable is reported and refused"), output)
        XCTAssertFalse(output.contains("FAIL"), output)
    }

    func testHostcheckRefusesTheMachinesOwnNamespace() throws {
        let (status, output) = try sh([Self.products.appendingPathComponent("lb-hostcheck").path])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(output.contains("refusing to change this host"), output)
    }

    func testInspectShowsLabelsAndSysctlsPerNamespace() throws {
        let a = try namespace(), b = try namespace()
        try sh(["ip", "-n", a, "addr", "add", "192.168.1.200/32", "dev", "lo", "label", "lo:0"])
        try sh(["ip", "netns", "exec", a, "sysctl", "-qw", "net.ipv4.conf.eth0.arp_ignore=1"])
        let agent = Self.products.appendingPathComponent("lb-agent").path
        let (sa, textA) = try sh(["ip", "netns", "exec", a, agent, "inspect"])
        XCTAssertEqual(sa, 0, textA)
        XCTAssertTrue(textA.contains("      192.168.1.200/32 label lo:0\n"), textA)
        XCTAssertTrue(textA.contains("  net.ipv4.conf.eth0.arp_ignore = 1\n"), textA)
        XCTAssertTrue(textA.contains("ipvs: not available: IPVS is not available"), textA)

        let (sb, jsonB) = try sh(["ip", "netns", "exec", b, agent, "inspect", "--output", "json"])
        XCTAssertEqual(sb, 0, jsonB)
        let state = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(jsonB.utf8)) as? [String: Any])
        let sysctls = try XCTUnwrap(state["sysctls"] as? [String: String])
        XCTAssertEqual(sysctls["net.ipv4.conf.eth0.arp_ignore"], "0", "a sysctl set in one namespace leaked into another")
        let ipvs = try XCTUnwrap(state["ipvs"] as? [String: Any])
        XCTAssertEqual(ipvs["available"] as? Bool, false)
        XCTAssertFalse(jsonB.contains("192.168.1.200"), "an address of one namespace leaked into another")
    }
}
