import Foundation
import LBClusterView

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

    /// `nodes` nodes as lb-bench draws them: 4 directors holding 2 VIPs and checking 50 real servers over
    /// 2 services, the rest real servers or plain hosts, some dead, some behind, with errors; 200 events.
    static func large(nodes count: Int) -> (ClusterStatus, [ClusterEvent]) {
        let directors = (1...4).map { "d\($0)" }
        let servers = (0..<50).map { "10.0.\($0 / 250).\($0 % 250 + 10)" }
        let destinations = servers.enumerated().map { i, address in
            DestinationHealth(service: i < 25 ? service : webService, endpoint: "\(address):\(i < 25 ? 443 : 80)",
                              health: i % 17 == 3 ? "down" : i % 23 == 5 ? "drain" : "up", weight: 100, active: i)
        }
        var nodes: [NodeStatus] = directors.enumerated().map { i, name in
            NodeStatus(name: name, member: "alive", expected: true, roles: ["director"], version: 40, converged: true, reportedAt: now - 2,
                       vrrp: [VRRPState(name: "vip-ws", routerID: 51, state: i == 0 ? "MASTER" : "BACKUP", priority: 200 - i),
                              VRRPState(name: "vip-api", routerID: 52, state: i == 1 ? "MASTER" : "BACKUP", priority: 150 - i)],
                       activeConnections: 1000 + i, inactiveConnections: 200, destinations: destinations, repairs: ["route": i])
        }
        for i in nodes.count..<count {
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
