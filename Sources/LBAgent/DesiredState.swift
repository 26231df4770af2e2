import LBHealth
import LBHost
import LBNetlink
import LBSpec

/// Health and drain as inputs of the desired state: what the health checker and the drain tracker
/// feed the reconciler.
public struct ServingState: Sendable, Equatable {
    /// Per service key ("192.168.1.200:80/tcp") and destination, what the checks found so far.
    public var health: [String: [Endpoint: DestinationHealth]]
    /// Per service key, the draining destinations that are done (idle, or past their deadline).
    public var drained: [String: Set<Endpoint>]
    /// Per service key and destination, the weight an exec check with `dynamic_weight` set last (the
    /// command's exit status − 2); a destination without one keeps its planned weight.
    public var weights: [String: [Endpoint: Int]]
    /// What an unknown health means: false in the daemon (left as the kernel has it until the first
    /// result); true where no checks run at all (`lb-agent apply`), so every real server counts as up.
    public var unknownIsUp: Bool

    public init(health: [String: [Endpoint: DestinationHealth]] = [:], drained: [String: Set<Endpoint>] = [:],
                weights: [String: [Endpoint: Int]] = [:], unknownIsUp: Bool = false) {
        self.health = health
        self.drained = drained
        self.weights = weights
        self.unknownIsUp = unknownIsUp
    }

    /// No health checks and no drain progress: every real server up, every draining one at weight 0.
    public static let unchecked = ServingState(unknownIsUp: true)

    public func health(of destination: Endpoint, in service: String) -> DestinationHealth {
        health[service]?[destination] ?? .unknown
    }
}

/// The one place a host plan becomes kernel state: plan ⊗ health ⊗ drain → `DesiredHostState`. Pure.
public enum DesiredState {
    /// keepalived's rules, with lb's drain and its care for restarts:
    /// - a destination whose service has no health check is always up;
    /// - up: held at its planned weight, or at the weight its exec check's exit status set (keepalived's
    ///   misc_dynamic); down: removed, or held at weight 0 with `inhibit_on_failure`;
    /// - not yet checked (unknown): left exactly as the kernel has it, neither added nor removed, so a
    ///   restarted agent flaps nothing and a new director admits a real server at its first success;
    ///   with `alpha` (keepalived's checkers starting failed) unknown is down instead;
    /// - draining: held at weight 0 while the kernel has it, never added back, and removed once the
    ///   drain tracker says it is done;
    /// - without quorum (`quorum`, unknown counting as up unless `alpha`, draining and inhibited not;
    ///   `QuorumTracker` keeps it across compositions for `hysteresis`, and `quorum` nil judges each
    ///   service as first seen): the sorry server is added at weight 1, and removed again when quorum is
    ///   back (held at weight 0 instead with `sorry_server_inhibit`); a sorry server that is also a
    ///   destination keeps that one entry, at weight 1 at least while it is needed.
    public static func compose(_ plan: HostPlan, _ serving: ServingState = .unchecked, quorum: [String: Bool]? = nil) -> DesiredHostState {
        var state = DesiredHostState(plan: plan)
        guard var ipvs = state.ipvs else { return state }
        let checked = checkedDestinations(plan)
        for (i, s) in plan.ipvsServices.enumerated() {
            var part = serve(s, checks: checked[s.key], serving)
            if let sorry = s.sorryServer {
                let up = quorum?[s.key]
                    ?? QuorumTracker.initiallyUp(healthy: part.healthy, quorum: s.quorum, hysteresis: s.hysteresis ?? 0)
                let needed = !up
                if let same = part.want.firstIndex(where: { $0.address == sorry.address && Int($0.port) == sorry.port }) {
                    if needed { part.want[same].weight = max(part.want[same].weight, 1) }
                } else if needed || s.sorryServerInhibit == true {
                    let forwarding = s.sorryServerForwarding ?? s.destinations.first?.forwarding ?? .dr
                    part.want.append(IPVSDestination(address: sorry.address, port: UInt16(sorry.port), forwarding: forwarding, weight: needed ? 1 : 0))
                }
            }
            ipvs.services[i].destinations = part.want
            if !part.conditional.isEmpty { ipvs.conditional[ipvs.services[i].service.key] = part.conditional }
        }
        state.ipvs = ipvs
        return state
    }

    /// Per service key, the real servers that count toward its quorum, by the rules of `compose`: what
    /// `QuorumTracker` is fed.
    public static func healthy(_ plan: HostPlan, _ serving: ServingState) -> [String: Int] {
        let checked = checkedDestinations(plan)
        return Dictionary(plan.ipvsServices.map { ($0.key, serve($0, checks: checked[$0.key], serving).healthy) },
                          uniquingKeysWith: { a, _ in a })
    }

    static func checkedDestinations(_ plan: HostPlan) -> [String: Set<Endpoint>] {
        var checked: [String: Set<Endpoint>] = [:]
        for h in plan.healthChecks { checked[h.service, default: []].insert(h.destination) }
        return checked
    }

    /// One service's destinations without the sorry server, and how many count toward its quorum.
    struct Part {
        var want: [IPVSDestination] = []
        var conditional: [ConditionalDestination] = []
        var healthy = 0
    }

    static func serve(_ s: IPVSServicePlan, checks: Set<Endpoint>?, _ serving: ServingState) -> Part {
        let key = s.key
        var part = Part()
        for d in s.destinations {
            let endpoint = Endpoint(address: d.address, port: d.port)
            var destination = IPVSDestination(address: d.address, port: UInt16(d.port), forwarding: d.forwarding, weight: Int32(d.weight))
            if d.drain {
                if serving.drained[key]?.contains(endpoint) != true {
                    destination.weight = 0
                    part.conditional.append(ConditionalDestination(address: d.address, port: UInt16(d.port), configuration: destination))
                }
                continue
            }
            var health = checks?.contains(endpoint) == true ? serving.health(of: endpoint, in: key) : .up
            if health == .unknown, serving.unknownIsUp { health = .up }
            // alpha: keepalived's checkers start failed, so the server waits for its first success.
            if health == .unknown, s.alpha == true { health = .down }
            switch health {
            case .up:
                if let weight = serving.weights[key]?[endpoint] { destination.weight = Int32(clamping: weight) }
                part.want.append(destination)
                part.healthy += 1
            case .unknown:
                part.conditional.append(ConditionalDestination(address: d.address, port: UInt16(d.port)))
                part.healthy += 1
            case .down:
                if d.inhibitOnFailure {
                    destination.weight = 0
                    part.want.append(destination)
                }
            }
        }
        return part
    }
}
