import LBSpec

/// Per service, whether it has quorum (keepalived's `quorum_state_up`), kept from one composition to
/// the next so `hysteresis` can hold it, and the `quorum_up` / `quorum_down` commands each change runs.
/// Pure: fed the healthy counts `DesiredState.healthy` works out, it returns what to run; the shell
/// (`DocumentFollower`) runs it. keepalived counts weight (ipwrapper.c, `weigh_live_realservers`); lb
/// counts healthy real servers, as its `quorum` does.
public struct QuorumTracker: Sendable, Equatable {
    /// One command to run for a change of one service's quorum.
    public struct Action: Sendable, Equatable {
        /// The service key ("192.168.1.200:80/tcp").
        public var service: String
        /// true: the service gained quorum (quorum_up); false: lost it, went away or the agent stops (quorum_down).
        public var up: Bool
        /// The spec's command, run by `/bin/sh -c`.
        public var command: String
        public var reason: Reason
    }

    /// Why an action runs; the raw value is what the log says.
    public enum Reason: String, Sendable, Equatable {
        case gained = "gained quorum"
        case lost = "lost quorum"
        case startingDown = "starting with quorum down"
        case removed = "removed from the plan"
        case stopping = "the agent stops"
    }

    /// What the tracker needs of a service: its settings as the last plan had them.
    struct Settings: Sendable, Equatable {
        var quorum: Int
        var hysteresis: Int
        var quorumUp: String?
        var quorumDown: String?
        var omega: Bool
        var hasSorryServer: Bool

        init(_ s: IPVSServicePlan) {
            quorum = s.quorum
            hysteresis = s.hysteresis ?? 0
            quorumUp = s.quorumUp
            quorumDown = s.quorumDown
            omega = s.omega == true
            hasSorryServer = s.sorryServer != nil
        }
    }

    /// Per service key, whether it has quorum now.
    public private(set) var up: [String: Bool] = [:]
    private var settings: [String: Settings] = [:]

    public init() {}

    /// keepalived's set_quorum_states: a service first seen has quorum only at `quorum + hysteresis`.
    static func initiallyUp(healthy: Int, quorum: Int, hysteresis: Int) -> Bool {
        healthy >= quorum + hysteresis
    }

    /// One composition: `healthy` per service key of `plan`. Returns the commands to run, in plan order.
    public mutating func update(_ plan: HostPlan, healthy: [String: Int]) -> [Action] {
        var actions: [Action] = []
        var seen = Set<String>()
        for s in plan.ipvsServices {
            let key = s.key
            seen.insert(key)
            let now = Settings(s)
            settings[key] = now
            let count = healthy[key] ?? 0
            guard let wasUp = up[key] else {
                let isUp = Self.initiallyUp(healthy: count, quorum: now.quorum, hysteresis: now.hysteresis)
                up[key] = isUp
                // update_quorum_state(init): starting down runs quorum_down only when a sorry server is put in.
                if !isUp, now.hasSorryServer, let c = now.quorumDown {
                    actions.append(Action(service: key, up: false, command: c, reason: .startingDown))
                }
                continue
            }
            // update_quorum_state: the band is above the quorum while down, below it while up.
            let threshold = now.quorum + (wasUp ? -1 : 1) * now.hysteresis
            if !wasUp && count >= threshold {
                up[key] = true
                if let c = now.quorumUp { actions.append(Action(service: key, up: true, command: c, reason: .gained)) }
            } else if wasUp && (count == 0 || count < threshold) {
                up[key] = false
                if let c = now.quorumDown { actions.append(Action(service: key, up: false, command: c, reason: .lost)) }
            }
        }
        // clear_diff_services → clear_service_vs(vs, false): a service gone from the plan loses its servers,
        // so one that had quorum loses it and runs quorum_down, omega or not.
        for key in up.keys.sorted() where !seen.contains(key) {
            if up[key] == true, let c = settings[key]?.quorumDown {
                actions.append(Action(service: key, up: false, command: c, reason: .removed))
            }
            up[key] = nil
            settings[key] = nil
        }
        return actions
    }

    /// The agent stops: keepalived's update_vs_notifies(stopping) runs quorum_down of every service with
    /// omega, whether it had quorum or not, and nothing for the others.
    public mutating func stop() -> [Action] {
        let actions = settings.keys.sorted().compactMap { key -> Action? in
            guard let s = settings[key], s.omega, let c = s.quorumDown else { return nil }
            return Action(service: key, up: false, command: c, reason: .stopping)
        }
        up = [:]
        settings = [:]
        return actions
    }
}
