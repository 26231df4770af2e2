import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LBHost
import LBNetlink
import LBSpec
import LBVRRP
import LBVRRPLab
@testable import LBVRRPRuntime
import XCTest

/// VRRPv3 over IPv6 (RFC 5798) with real speakers of this process in namespaces: adverts to ff02::12
/// from each router's link-local address, the VIP added without duplicate address detection (usable at
/// once, never "tentative"), and on failover an unsolicited neighbour advertisement that moves a
/// client's neighbour entry to the new master, as keepalived's does for IPv6 instances.
final class VRRPIPv6NamespaceTests: XCTestCase {
    static let vip = CIDR("2001:db8:99::200/64")!

    override func setUpWithError() throws {
        guard geteuid() == 0 else {
            XCTFail("VRRPIPv6NamespaceTests need root to create network namespaces; run `make test` as root (CI does)")
            throw XCTSkip("not root")
        }
    }

    func configuration(priority: Int) -> VRRPConfiguration {
        VRRPConfiguration(interface: "eth0", virtualRouterID: 53, version: .v3, priority: priority,
                          advertisementIntervalCentiseconds: 20, virtualAddresses: [Self.vip],
                          gratuitousARP: GratuitousARPSettings(count: 2, repeatDelay: nil))
    }

    /// Whether any of `names` holds the VIP tentative (duplicate address detection running on it).
    func tentative(_ lab: Lab, _ names: [String]) -> Bool {
        names.contains { n in
            shell(["ip", "-n", lab.host(n).namespace, "-o", "-6", "addr", "show", "dev", "eth0"]).output
                .split(separator: "\n").contains { $0.contains("inet6 \(Self.vip.address)/") && $0.contains("tentative") }
        }
    }

    func testAnIPv6VIPMovesWithNeighbourAdvertisements() async throws {
        let lab = try Lab(hosts: ["a", "b"], client: "c")
        addTeardownBlock { lab.destroy() }
        let names = ["a", "b", "c"]
        // The link-local addresses come with the links; they are usable once their own DAD is over.
        XCTAssertNotNil(lab.wait(timeout: 10) {
            names.allSatisfy { n in
                let text = shell(["ip", "-n", lab.host(n).namespace, "-o", "-6", "addr", "show", "dev", "eth0", "scope", "link"]).output
                return text.contains("fe80::") && !text.contains("tentative")
            }
        }, "link-local addresses on every host")
        let nsC = lab.host("c").namespace
        XCTAssertEqual(shell(["ip", "-n", nsC, "addr", "add", "2001:db8:99::50/64", "dev", "eth0", "nodad"]).status, 0)
        let text = { (mac: [UInt8]) in mac.map { String(format: "%02x", $0) }.joined(separator: ":") }
        let logA = LogLines(), logB = LogLines()
        let nsA = lab.host("a").namespace, nsB = lab.host("b").namespace
        let a = VRRPSpeaker(configuration: configuration(priority: 150), host: try NamespaceHost(nsA),
                            transport: try inNamespace(nsA) { try RawSocketTransport(interface: "eth0", family: .ipv6) }, log: logA.append)
        let b = VRRPSpeaker(configuration: configuration(priority: 100), host: try NamespaceHost(nsB),
                            transport: try inNamespace(nsB) { try RawSocketTransport(interface: "eth0", family: .ipv6) }, log: logB.append)
        let runA = Task { try await a.run() }
        let runB = Task { try await b.run() }
        addTeardownBlock { runA.cancel(); runB.cancel() }
        let logs = { "--- a:\n\(logA.text)\n--- b:\n\(logB.text)" }

        XCTAssertNotNil(lab.wait(timeout: 10) { lab.holders(of: Self.vip.address) == ["a"] }, "a (150) holds the VIP\n\(logs())")
        let stateB = await b.state
        XCTAssertEqual(stateB, .backup, "b heard a's adverts over ff02::12\n\(logs())")
        XCTAssertFalse(tentative(lab, ["a", "b"]), "added without duplicate address detection")
        let primary = await a.primaryAddress
        XCTAssertTrue(primary?.isLinkLocal ?? false, "adverts from the link-local address, not \(String(describing: primary))")
        // The client reaches the VIP: its neighbour solicitation is answered by a.
        let reached = shell(["timeout", "5", "ip", "netns", "exec", nsC, "bash", "-c", "echo > /dev/tcp/\(Self.vip.address)/9"]).output
        XCTAssertTrue(reached.contains("Connection refused"), reached + "\n" + logs())
        XCTAssertTrue(shell(["ip", "-n", nsC, "neigh", "show", Self.vip.address.description]).output.contains(text(lab.host("a").mac)))

        // a resigns: b takes over, and its unsolicited neighbour advertisement moves the client's entry.
        shell(["ip", "-n", nsC, "neigh", "replace", Self.vip.address.description, "lladdr", text(lab.host("a").mac), "dev", "eth0", "nud", "stale"])
        runA.cancel()
        _ = try? await runA.value
        let moved = lab.wait(timeout: 5) { lab.holders(of: Self.vip.address) == ["b"] }
        XCTAssertNotNil(moved, "b took the VIP\n\(logs())")
        XCTAssertLessThan(moved ?? 99, 1, "a resign is not a master-down timeout")
        XCTAssertNotNil(lab.wait(timeout: 5) {
            shell(["ip", "-n", nsC, "neigh", "show", Self.vip.address.description]).output.contains(text(lab.host("b").mac))
        }, "the client's neighbour entry moved to b's MAC (unsolicited NA)\n\(shell(["ip", "-n", nsC, "neigh"]).output)\n\(logs())")
        let again = shell(["timeout", "5", "ip", "netns", "exec", nsC, "bash", "-c", "echo > /dev/tcp/\(Self.vip.address)/9"]).output
        XCTAssertTrue(again.contains("Connection refused"), "b answers for the VIP: " + again)
        runB.cancel()
        _ = try? await runB.value
        XCTAssertEqual(lab.holders(of: Self.vip.address), [], "b resigned and took the VIP off")
    }
}
