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

/// A VIP on another interface than the adverts' (keepalived's `virtual_ipaddress { … dev eth1 }`), with
/// real speakers of this process in namespaces: adverts go over eth0 (the directors' segment), the VIP
/// goes on the master's eth1 (the clients' segment), its gratuitous ARP goes out of eth1 with eth1's MAC
/// and moves a client's neighbour entry there, and an update that moves the VIP back to eth0 takes it off
/// eth1 without a state change.
final class VRRPVIPInterfaceNamespaceTests: XCTestCase {
    static let front = CIDR("10.98.0.200/24")!

    override func setUpWithError() throws {
        guard geteuid() == 0 else {
            XCTFail("VRRPVIPInterfaceNamespaceTests need root to create network namespaces; run `make test` as root (CI does)")
            throw XCTSkip("not root")
        }
    }

    func configuration(priority: Int, on interface: String? = "eth1") -> VRRPConfiguration {
        VRRPConfiguration(interface: "eth0", virtualRouterID: 52, version: .v3, priority: priority,
                          advertisementIntervalCentiseconds: 20, virtualAddresses: [Self.front],
                          vipInterfaces: interface.map { [Self.front.address: $0] } ?? [:],
                          gratuitousARP: GratuitousARPSettings(count: 2, repeatDelay: nil))
    }

    func testTheVIPGoesOnItsOwnInterfaceAndIsAnnouncedThere() async throws {
        let lab = try Lab(hosts: ["a", "b"])
        addTeardownBlock { lab.destroy() }
        let macs = try lab.addSegment(bridge: "br1", interface: "eth1", hosts: ["a", "b"], client: "c", clientAddress: CIDR("10.98.0.50/24")!)
        let text = { (mac: [UInt8]) in mac.map { String(format: "%02x", $0) }.joined(separator: ":") }
        let nsA = lab.host("a").namespace, nsB = lab.host("b").namespace, nsC = lab.host("c").namespace
        let logA = LogLines(), logB = LogLines()
        let a = VRRPSpeaker(configuration: configuration(priority: 150), host: try NamespaceHost(nsA),
                            transport: try inNamespace(nsA) { try RawSocketTransport(interface: "eth0") }, log: logA.append)
        let b = VRRPSpeaker(configuration: configuration(priority: 100), host: try NamespaceHost(nsB),
                            transport: try inNamespace(nsB) { try RawSocketTransport(interface: "eth0") }, log: logB.append)
        let runA = Task { try await a.run() }
        let runB = Task { try await b.run() }
        addTeardownBlock { runA.cancel(); runB.cancel() }
        let logs = { "--- a:\n\(logA.text)\n--- b:\n\(logB.text)" }
        let vip = Self.front.address

        XCTAssertNotNil(lab.wait(timeout: 10) { lab.holders(of: vip, on: "eth1") == ["a"] }, "a (150) holds the VIP on eth1\n\(logs())")
        XCTAssertEqual(lab.holders(of: vip, on: "eth0"), [], "nothing on the advert interface")
        // The client reaches the VIP on its own segment, which carries no VRRP at all: a's kernel answers
        // its ARP on eth1 and refuses the connection (nothing listens), instead of the attempt timing out.
        let reached = shell(["timeout", "5", "ip", "netns", "exec", nsC, "bash", "-c", "echo > /dev/tcp/\(vip)/9"]).output
        XCTAssertTrue(reached.contains("Connection refused"), reached + "\n" + logs())
        XCTAssertTrue(shell(["ip", "-n", nsC, "neigh", "show", vip.description]).output.contains(text(macs["a"]!)), "answered from a's eth1")

        // a steps down: b's gratuitous ARP from its eth1 moves the client's (stale) entry to b's eth1 MAC.
        shell(["ip", "-n", nsC, "neigh", "replace", vip.description, "lladdr", text(macs["a"]!), "dev", "eth0", "nud", "stale"])
        runA.cancel()
        _ = try? await runA.value
        XCTAssertNotNil(lab.wait(timeout: 10) { lab.holders(of: vip, on: "eth1") == ["b"] }, "b took the VIP on eth1\n\(logs())")
        XCTAssertNotNil(lab.wait(timeout: 5) {
            shell(["ip", "-n", nsC, "neigh", "show", vip.description]).output.contains(text(macs["b"]!))
        }, "the client's neighbour entry moved to b's eth1 MAC (gratuitous ARP on eth1)\n\(shell(["ip", "-n", nsC, "neigh"]).output)\n\(logs())")

        // The VIP moves to the advert interface in place: on eth0, off eth1, still MASTER.
        try await b.update(configuration(priority: 100, on: nil))
        XCTAssertEqual(lab.holders(of: vip, on: "eth0"), ["b"], logs())
        XCTAssertEqual(lab.holders(of: vip, on: "eth1"), [], logs())
        let state = await b.state
        XCTAssertEqual(state, .master)
        XCTAssertTrue(logB.text.contains("\(Self.front) eth1 -> eth0"), logs())
        runB.cancel()
        _ = try? await runB.value
        XCTAssertEqual(lab.holders(of: vip, on: "eth0"), [], "b resigned and took the VIP off")
    }
}
