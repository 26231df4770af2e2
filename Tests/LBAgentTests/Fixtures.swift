import Foundation
import LBCrypto
import LBDocument
import LBGossipService
import LBSpec

/// The reference scenario as values, and scratch space.
enum Fixtures {
    static func reference() -> ClusterSpec {
        ClusterSpec(
            cluster: "web",
            nodes: [Node(name: "lvs1", address: CIDR("192.168.1.100/24")!), Node(name: "lvs2", address: CIDR("192.168.1.101/24")!),
                    Node(name: "rs1", address: CIDR("192.168.1.102/24")!), Node(name: "rs2", address: CIDR("192.168.1.103/24")!)],
            vips: [VIP(name: "web", address: CIDR("192.168.1.200/24")!,
                       vrrp: VRRPGroup(routerID: 51, authPassword: "s3cret", directors: [Director(node: "lvs1", priority: 100), Director(node: "lvs2", priority: 99)]),
                       services: [VirtualService(port: 80, persistence: Persistence(timeoutSeconds: 3600),
                                                 healthCheck: HealthCheck(kind: .tcp), realServers: [RealServer(node: "rs1"), RealServer(node: "rs2")])])])
    }

    /// `spec` signed by `signer` and verified, as gossip hands a document to the follower.
    static func held(_ spec: ClusterSpec, version: UInt64, signer: SigningKey) throws -> HeldDocument {
        let json = try DesiredStateDocument(spec: spec, version: version, issuedAt: Date()).signed(by: [signer]).jsonEncoded()
        let policy = try TrustPolicy(trustedKeys: [signer.publicKey], expectedCluster: spec.cluster)
        return HeldDocument(envelopeJSON: json, verified: try DesiredStateDocument.verify(json: json, policy: policy))
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "lb-agent-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
