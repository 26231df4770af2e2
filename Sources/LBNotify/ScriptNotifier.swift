import LBClusterView
import LBProcess
import Logging

/// What one script run did.
public struct ScriptReceipt: Sendable, Equatable {
    /// What the script wrote to its standard output and error, up to `ScriptNotifier.outputLimit`.
    public var output: String
}

/// Runs the controller's `notifications.script` once per event: `SCRIPT KIND NODE VERSION` (an empty
/// string for a field the event has none of), the event as `NotificationBody` JSON and a newline on its
/// standard input, and `LB_EVENT_KIND`, `LB_EVENT_NODE`, `LB_EVENT_VERSION`, `LB_EVENT_MESSAGE` and
/// `LB_CLUSTER` set on top of the controller's environment. Exit status 0 is a delivery.
///
/// `ChildProcess` runs it: its own process group, killed whole at `timeout` or when the delivery is
/// cancelled, and whatever it leaves running in that group killed when it exits; it is reaped, so no
/// zombie stays behind.
public struct ScriptNotifier: Sendable {
    /// Default of `timeout`.
    public static let defaultTimeout: Duration = .seconds(10)
    /// Output kept for the log; the rest is read and dropped so a chatty script cannot stall on a full pipe.
    public static let outputLimit = 16 * 1024

    /// An absolute path; run as it is, not through a shell.
    public let path: String
    public let cluster: String
    public let timeout: Duration
    /// Where the script's output goes, at debug level.
    public let logger: Logger

    public init(path: String, cluster: String, timeout: Duration = ScriptNotifier.defaultTimeout,
                logger: Logger = Logger(label: "lb.notify.script")) {
        self.path = path
        self.cluster = cluster
        self.timeout = timeout
        self.logger = logger
    }

    @discardableResult
    public func deliver(_ event: ClusterEvent) async throws -> ScriptReceipt {
        let version = event.version.map(String.init) ?? ""
        let environment = [
            "LB_EVENT_KIND": event.kind,
            "LB_EVENT_NODE": event.node ?? "",
            "LB_EVENT_VERSION": version,
            "LB_EVENT_MESSAGE": event.message,
            "LB_CLUSTER": cluster,
        ]
        let outcome: ChildProcess.Outcome
        do {
            outcome = try await ChildProcess.run(path, arguments: [event.kind, event.node ?? "", version], environment: environment,
                                                 input: NotificationBody(event: event, cluster: cluster).json() + [UInt8(ascii: "\n")],
                                                 budget: timeout, outputLimit: Self.outputLimit)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw NotifyError(.unreachable, "script \(path): cannot run it: \(printable("\(error)"))")
        }
        var output = String(decoding: outcome.output, as: UTF8.self)
        if outcome.truncated { output += "\n[output cut at \(Self.outputLimit / 1024) KiB]" }
        if !output.isEmpty {
            logger.debug("notify script output", metadata: ["script": "\(path)", "event": "\(event.kind)", "output": "\(output)"])
        }
        if outcome.timedOut {
            throw NotifyError(.timedOut, "script \(path): still running after \(timeout.seconds) s; killed it and its process group")
        }
        guard outcome.termination == .exited(0) else {
            let last = output.split(whereSeparator: \.isNewline).last.map { ": " + printable(String($0), limit: 200) } ?? ""
            throw NotifyError(.refused, "script \(path): \(outcome.termination)\(last)")
        }
        return ScriptReceipt(output: output)
    }
}

extension Duration {
    /// Whole and fractional seconds as an operator reads them: `10`, `0.5`.
    var seconds: String {
        let (s, attoseconds) = components
        guard attoseconds != 0 else { return "\(s)" }
        let millis = Int64((Double(attoseconds) / 1e15).rounded())
        var fraction = String(millis)
        fraction = String(repeating: "0", count: max(0, 3 - fraction.count)) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(s)" : "\(s).\(fraction)"
    }
}
