import LBProcess
import Logging

/// Runs one quorum_up or quorum_down command: `/bin/sh -c COMMAND lb-quorum`, with `LB_SERVICE` (the
/// service key) and `LB_QUORUM` (`up` or `down`) set on top of the agent's environment. keepalived runs
/// the script as written, with no arguments; the two variables are lb's. `ChildProcess` runs it: its own
/// process group, killed whole at the timeout, reaped, output capped. Async all the way, so neither an
/// event loop nor the cooperative pool waits for it.
public enum QuorumScript {
    /// How long a quorum script may run (keepalived does not wait for it at all).
    public static let defaultTimeout: Duration = .seconds(10)
    /// keepalived's system_call_script at shutdown gives it one second (TIMER_HZ).
    public static let stoppingTimeout: Duration = .seconds(1)
    static let outputLimit = 16 * 1024

    public static func run(_ action: QuorumTracker.Action, budget: Duration, logger: Logger) async {
        let which = action.up ? "quorum_up" : "quorum_down"
        do {
            let outcome = try await ChildProcess.run("/bin/sh", arguments: ["-c", action.command, "lb-quorum"],
                                                     environment: ["LB_SERVICE": action.service, "LB_QUORUM": action.up ? "up" : "down"],
                                                     budget: budget, outputLimit: outputLimit)
            let output = String(decoding: outcome.output, as: UTF8.self)
            let metadata: Logger.Metadata = ["service": "\(action.service)", "command": "\(action.command)", "output": "\(output)"]
            if outcome.timedOut {
                logger.warning("\(which) of \(action.service) still running after \(budget); killed it and its process group", metadata: metadata)
            } else if outcome.termination != .exited(0) {
                logger.warning("\(which) of \(action.service): \(outcome.termination)", metadata: metadata)
            } else {
                logger.info("\(which) of \(action.service) done", metadata: metadata)
            }
        } catch {
            logger.error("\(which) of \(action.service): cannot run it: \(error)", metadata: ["command": "\(action.command)"])
        }
    }
}
