import LBHost
import LBNetlink
import LBSpec

/// What the health checks say of one real server, as a director sees it.
public enum DestinationHealth: String, Sendable, Equatable, Codable {
    /// No result yet: the destination is left as the plan (or the kernel) has it, so a restart never flaps.
    case unknown
    case up
    case down
}

/// Health and drain as inputs of the desired state: what the health checker and drain feed the
/// reconciler. Until health checks run, every destination is `unknown`, which counts as healthy.
public struct ServingState: Sendable, Equatable {
    /// Per service key ("192.168.1.200:80/tcp") and destination.
    public var health: [String: [Endpoint: DestinationHealth]]

    public init(health: [String: [Endpoint: DestinationHealth]] = [:]) {
        self.health = health
    }

    public func health(of destination: Endpoint, in service: String) -> DestinationHealth {
        health[service]?[destination] ?? .unknown
    }
}

/// The one place a host plan becomes kernel state: plan ⊗ health ⊗ drain → `DesiredHostState`. Pure.
public enum DesiredState {
    /// A destination that is down is removed from its service (keepalived's default); unknown counts as up.
    public static func compose(_ plan: HostPlan, _ serving: ServingState = ServingState()) -> DesiredHostState {
        var plan = plan
        for i in plan.ipvsServices.indices {
            let key = plan.ipvsServices[i].key
            plan.ipvsServices[i].destinations.removeAll {
                serving.health(of: Endpoint(address: $0.address, port: $0.port), in: key) == .down
            }
        }
        return DesiredHostState(plan: plan)
    }
}
