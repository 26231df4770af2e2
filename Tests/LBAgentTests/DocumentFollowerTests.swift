@testable import LBAgent
import LBCrypto
import LBDocument
import LBGossipService
import LBHost
import LBSpec
import LBVRRP
import LBVRRPRuntime
import Logging
import XCTest

/// A transport that sends nothing anywhere: unit tests must never put VRRP on a real interface.
final class SilentTransport: VRRPTransport, @unchecked Sendable {
    func startReceiving(_ receive: @escaping @Sendable ([UInt8]) -> Void) throws {}
    func send(_ vrrp: [UInt8], from source: IPAddress, to destination: IPAddress) throws {}
    func sendGratuitousARP(for addresses: [IPAddress], count: Int, on interface: String) throws {}
    func close() {}
}

/// Documents into the daemon's parts: the follower, the reconciler and the VRRP supervisor together,
/// on the in-memory host.
final class DocumentFollowerTests: XCTestCase {
    let signer = SigningKey.generate()

    func held(_ spec: ClusterSpec, version: UInt64) throws -> HeldDocument {
        try Fixtures.held(spec, version: version, signer: signer)
    }

    func parts(node: String) throws -> (DocumentFollower, Reconciler, VRRPSupervisor, InMemoryHost) {
        let host = InMemoryHost()
        // The director's interface needs an address to send adverts from.
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let reconciler = try Reconciler(host: host, ledgerPath: nil, logger: logger)
        let vrrp = VRRPSupervisor(makeHost: { host }, transport: { _ in SilentTransport() }, logger: logger)
        return (DocumentFollower(node: node, reconciler: reconciler, vrrp: vrrp, gossip: nil, logger: logger), reconciler, vrrp, host)
    }

    func testANewPriorityIsHandedToTheRunningSpeakerAndARouterIDChangeRestartsIt() async throws {
        let (follower, reconciler, vrrp, _) = try parts(node: "lvs1")
        await follower.accept(try held(Fixtures.reference(), version: 1))
        let firstRunning = await vrrp.running["eth0/51"]?.speaker
        let first = try XCTUnwrap(firstRunning)
        let target1 = await reconciler.engine.target
        XCTAssertEqual(target1?.version, 1)
        XCTAssertEqual(target1?.state.ipvs?.services.count, 1)

        var spec = Fixtures.reference()
        spec.vips[0].vrrp.directors[0].priority = 110
        await follower.accept(try held(spec, version: 2))
        let secondRunning = await vrrp.running["eth0/51"]?.speaker
        let second = try XCTUnwrap(secondRunning)
        XCTAssertTrue(first === second, "a new priority goes to the running speaker: no restart, no transition")
        let priority = await second.configuration.priority
        XCTAssertEqual(priority, 110)

        spec.vips[0].vrrp.routerID = 52
        await follower.accept(try held(spec, version: 3))
        let keys = await vrrp.running.keys.sorted()
        XCTAssertEqual(keys, ["eth0/52"], "a new router id is a new instance; the old one stops")
    }

    func testAnInvalidSpecOrAnOlderVersionChangesNothing() async throws {
        let (follower, reconciler, _, _) = try parts(node: "rs1")
        await follower.accept(try held(Fixtures.reference(), version: 5))
        var broken = Fixtures.reference()
        broken.vips[0].services[0].realServers[0].weight = -1
        await follower.accept(try held(broken, version: 6))
        let snapshot = await follower.snapshot
        XCTAssertEqual(snapshot.version, 5)
        XCTAssertEqual(snapshot.refused?.version, 6)
        XCTAssertEqual(snapshot.refused?.reason, "invalid_spec")
        let target = await reconciler.engine.target
        XCTAssertEqual(target?.version, 5)

        await follower.accept(try held(Fixtures.reference(), version: 4))
        let after = await follower.snapshot
        XCTAssertEqual(after.version, 5, "an older version is never acted on")
    }

    func testANodeMissingFromTheDocumentHoldsNothing() async throws {
        let (follower, reconciler, _, host) = try parts(node: "rs1")
        await follower.accept(try held(Fixtures.reference(), version: 1))
        await reconciler.pass(.full)
        var spec = Fixtures.reference()
        spec.nodes.removeAll { $0.name == "rs1" }
        spec.vips[0].services[0].realServers.removeAll { $0.node == "rs1" }
        await follower.accept(try held(spec, version: 2))
        await reconciler.pass(.full)
        let state = try await host.observe(sysctls: [])
        XCTAssertFalse(state.interface(named: "lo")!.addresses.contains { $0.address.address == IPAddress("192.168.1.200")! },
                       "a node taken out of the cluster gives back what lb made there")
    }
}
