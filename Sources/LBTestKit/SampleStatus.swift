import Foundation
import LBClusterView

/// A large cluster's status for benchmarks and scale tests: four directors sharing two VIPs, fifty real
/// servers with health up, down and draining, `nodes` in all with some dead, lagging or in error, and
/// 200 events over the last hour.
public enum SampleStatus {
    public static func cluster(nodes count: Int) -> (ClusterStatus, [ClusterEvent]) {
        let now = Date()
        let directors = (1...4).map { "d\($0)" }
        let destinations = (0..<50).map { i in
            DestinationHealth(service: i < 25 ? "tcp 192.168.1.200:443" : "tcp 192.168.1.201:80", endpoint: "10.0.0.\(i + 10):\(i < 25 ? 443 : 80)",
                              health: i % 17 == 3 ? "down" : i % 23 == 5 ? "drain" : "up", weight: 100, active: i)
        }
        var nodes = directors.enumerated().map { i, name in
            NodeStatus(name: name, member: "alive", address: "10.99.0.\(i + 1)", expected: true, roles: ["director"], version: 40, converged: true,
                       reportedAt: now - 2,
                       vrrp: [VRRPState(name: "vip-ws", routerID: 51, state: i == 0 ? "MASTER" : "BACKUP", priority: 200 - i),
                              VRRPState(name: "vip-api", routerID: 52, state: i == 1 ? "MASTER" : "BACKUP", priority: 150 - i)],
                       activeConnections: 1000 + i, inactiveConnections: 200, destinations: destinations, repairs: ["route": i])
        }
        for i in nodes.count..<max(count, nodes.count) {
            nodes.append(NodeStatus(name: "n\(i)", member: i % 97 == 0 ? "dead" : i % 89 == 0 ? "suspect" : "alive", address: "10.1.\(i / 250).\(i % 250)",
                                    expected: i % 50 != 1, roles: i < 54 ? ["real-server"] : ["host"], version: i % 31 == 0 ? 39 : 40,
                                    converged: i % 13 != 0, reportedAt: now - Double(i % 60), activeConnections: i % 100,
                                    repairs: i % 7 == 0 ? ["address": 1] : [:], lastError: i % 31 == 0 ? "refused v40: stale signature" : nil))
        }
        let status = ClusterStatus(
            cluster: "bench", controller: "c1", generatedAt: now,
            head: VersionSummary(version: 40, digest: "sha256:" + String(repeating: "ab", count: 32), previous: nil, acceptedAt: now - 900,
                                 signers: ["ops"], summary: "bench"),
            nodes: nodes,
            vips: [VIPStatus(name: "vip-ws", address: "192.168.1.200", routerID: 51, master: "d1", masters: ["d1"], directors: directors),
                   VIPStatus(name: "vip-api", address: "192.168.1.201", routerID: 52, master: "d2", masters: ["d2"], directors: directors)],
            convergence: [Convergence(version: 40, converged: nodes.filter { $0.version == 40 && $0.converged }.map(\.name),
                                      applying: nodes.filter { $0.version == 40 && !$0.converged }.map(\.name),
                                      pending: nodes.filter { $0.version == 39 }.map { Laggard(node: $0.name, version: 39, reason: $0.lastError) },
                                      complete: false)])
        let kinds = ClusterEvent.Kind.allCases
        let events = (0..<200).map { i in
            ClusterEvent(id: Int64(i), at: now - Double(3600 - i * 18), kind: kinds[i % kinds.count], node: "n\(i + 4)", message: "event \(i)")
        }
        return (status, events)
    }
}
