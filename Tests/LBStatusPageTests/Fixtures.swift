import Foundation
import LBClusterView
import LBTestKit

/// A small cluster with something of everything: two directors sharing two VIPs, three real servers one
/// of which lags behind the head with a hostile error message, a controller and a stranger outside the
/// spec, health both up and down, a version still converging and a recent timeline.
enum Fixtures {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)
    static let hostile = "<script>document.body.setAttribute('data-pwned','1')</script><img src=x onerror=\"document.title='pwned'\">"
    static let service = "tcp 192.168.1.200:443"
    static let webService = "tcp 192.168.1.201:80"

    static func status(splitBrain: Bool = false, rs2: String = "alive") -> ClusterStatus {
        let head = VersionSummary(version: 12, digest: "sha256:0123456789abcdef0123456789abcdef", previous: "sha256:fe", acceptedAt: now - 600,
                                  signers: ["ops-alice", "ops-bob"], summary: "weight of rs2 to 50")
        let d1 = NodeStatus(name: "d1", member: "alive", address: "10.99.0.1", expected: true, roles: ["director"], version: 12, converged: true,
                            reportedAt: now - 3,
                            vrrp: [VRRPState(name: "vip-ws", routerID: 51, state: "MASTER", priority: 150),
                                   VRRPState(name: "vip-api", routerID: 52, state: "BACKUP", priority: 100)],
                            activeConnections: 120, inactiveConnections: 30,
                            destinations: [DestinationHealth(service: service, endpoint: "10.0.0.11:443", health: "up", weight: 100, active: 60),
                                           DestinationHealth(service: service, endpoint: "10.0.0.12:443", health: rs2 == "alive" ? "up" : "down", weight: 50, active: 0),
                                           DestinationHealth(service: webService, endpoint: "10.0.0.11:80", health: "drain", weight: 0, active: 2)],
                            repairs: ["route": 2, "address": 1])
        let d2 = NodeStatus(name: "d2", member: "alive", address: "10.99.0.2", expected: true, roles: ["director"], version: 12, converged: true,
                            reportedAt: now - 4,
                            vrrp: [VRRPState(name: "vip-ws", routerID: 51, state: splitBrain ? "MASTER" : "BACKUP", priority: 100),
                                   VRRPState(name: "vip-api", routerID: 52, state: "MASTER", priority: 150)],
                            destinations: [DestinationHealth(service: service, endpoint: "10.0.0.11:443", health: "up", weight: 100, active: 0),
                                           DestinationHealth(service: service, endpoint: "10.0.0.12:443", health: "down", weight: 50, active: 0)])
        let nodes = [
            NodeStatus(name: "stranger", member: "alive", expected: false, version: 10),
            d1, d2,
            NodeStatus(name: "rs1", member: "alive", expected: true, roles: ["real-server"], version: 12, converged: true, reportedAt: now - 2),
            NodeStatus(name: "rs2", member: rs2, expected: true, roles: ["real-server"], version: 12, converged: false, reportedAt: now - 90),
            NodeStatus(name: "rs3", member: "alive", expected: true, roles: ["real-server"], version: 11, converged: true, reportedAt: now - 5,
                       lastError: hostile),
            NodeStatus(name: "c1", member: "alive", expected: false, roles: ["controller"]),
        ]
        let vips = [
            VIPStatus(name: "vip-ws", address: "192.168.1.200", routerID: 51, master: "d1", masters: splitBrain ? ["d1", "d2"] : ["d1"], directors: ["d1", "d2"]),
            VIPStatus(name: "vip-api", address: "192.168.1.201", routerID: 52, master: "d2", masters: ["d2"], directors: ["d2", "d1"]),
        ]
        let convergence = [
            Convergence(version: 12, converged: ["d1", "d2", "rs1"], applying: ["rs2"],
                        pending: [Laggard(node: "rs3", version: 11, reason: "refused: signature by unknown key")], complete: false),
            Convergence(version: 11, converged: ["d1", "d2", "rs1", "rs2", "rs3"], applying: [], pending: [], complete: true),
        ]
        let alarms = splitBrain
            ? [Alarm(id: "split-brain/vip-ws", kind: "split-brain", since: now - 20, message: "vip-ws has 2 masters: d1, d2", nodes: ["d1", "d2"])]
            : []
        return ClusterStatus(cluster: "lab", controller: "c1", generatedAt: now, head: head, nodes: nodes, vips: vips,
                             convergence: convergence, alarms: alarms)
    }

    static var events: [ClusterEvent] {
        [
            ClusterEvent(id: 1, at: now - 2400, kind: .applied, version: 11, message: "v11 accepted"),
            ClusterEvent(id: 2, at: now - 2300, kind: .converged, version: 11, message: "v11 converged on 5 nodes"),
            ClusterEvent(id: 3, at: now - 600, kind: .applied, version: 12, message: "v12 accepted"),
            ClusterEvent(id: 4, at: now - 590, kind: .refused, node: "rs3", version: 12, message: "signature by unknown key"),
            ClusterEvent(id: 5, at: now - 300, kind: .serverDown, node: "d2", message: "10.0.0.12:443 down"),
            ClusterEvent(id: 6, at: now - 120, kind: .driftRepaired, node: "d1", message: "route re-added"),
            ClusterEvent(id: 7, at: now - 60, kind: .vrrp, node: "d1", message: "vip-ws BACKUP -> MASTER"),
        ]
    }

    /// `nodes` nodes as lb-bench draws them: the benchmark's cluster (`lb-bench status-page`), so the test and the figure measure one page.
    static func large(nodes count: Int) -> (ClusterStatus, [ClusterEvent]) { SampleStatus.cluster(nodes: count) }
}
