import Subprocess

#if canImport(Glibc)
import Glibc
#endif

/// A child program run to its end under one deadline: the exec health check's command and the
/// controller's notify script.
///
/// Built on swift-subprocess rather than posix_spawn, a pipe channel and our own reaping: on Linux it
/// spawns with posix_spawn (signal dispositions and mask reset, every other descriptor closed, the process
/// group set by the spawn itself), learns of the exit through a pidfd on one shared epoll thread, reads the
/// pipe on one shared epoll thread, and reaps with waitid; there is no thread per child and nothing blocks
/// the cooperative pool. What it does not do for us is what both callers need on top: one deadline for
/// the whole run, the kill of the whole process group, and a cap on output that drops the rest rather than
/// failing; those are here.
public enum ChildProcess {
    /// How the child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exit status \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// What one run came to.
    public struct Outcome: Sendable, Equatable {
        public var termination: Termination
        /// Standard output and standard error together, in the order written, up to the output limit.
        public var output: [UInt8]
        /// The child wrote more than the limit; the rest was read and dropped.
        public var truncated: Bool
        /// The deadline came first and the group was killed.
        public var timedOut: Bool
        /// The child's pid, which is also its process group's id.
        public var processID: Int32
    }

    /// Runs `executable` (a path, not looked up in PATH) with `arguments` in its own process group, the
    /// environment inherited with `environment` set on top, `input` on its standard input (nil: none), and
    /// kills the whole group at `budget` or when the calling task is cancelled. Whatever the child left
    /// running in its group (`sleep 100 &`) is killed when it ends too, exit 0 or not. Throws only when the
    /// program cannot be started.
    public static func run(_ executable: String, arguments: [String] = [], environment: [String: String] = [:],
                           input: [UInt8]? = nil, budget: Duration, outputLimit: Int) async throws -> Outcome {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        var options = PlatformOptions()
        // Its own process group (pgid = its pid), so a kill reaches every process it started, not only the shell.
        options.processGroupID = 0
        // If the calling task is cancelled (the daemon shutting down), the whole group goes too.
        options.teardownSequence = [.send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(1))]
        var overrides: [Environment.Key: String?] = [:]
        for (key, value) in environment { overrides[Environment.Key(stringLiteral: key)] = value }
        let limits = Limits(deadline: deadline, clock: clock, outputLimit: outputLimit)
        let result: ExecutionResult<Captured, SequenceOutput, CombinedErrorOutput>
        if let input {
            ignoreSIGPIPE()
            result = try await Subprocess.run(
                .path(.init(executable)), arguments: .init(arguments), environment: .inherit.updating(overrides),
                platformOptions: options, input: .inputWriter, output: .sequence, error: .combinedWithOutput
            ) { execution in
                await supervise(execution, limits) {
                    // A child that never reads its input, or exits first, is not an error of the run:
                    // the exit status still decides, so a failed write only ends the input.
                    _ = try? await execution.standardInputWriter.write(input)
                    try? await execution.standardInputWriter.finish()
                }
            }
        } else {
            result = try await Subprocess.run(
                .path(.init(executable)), arguments: .init(arguments), environment: .inherit.updating(overrides),
                platformOptions: options, input: .none, output: .sequence, error: .combinedWithOutput
            ) { execution in
                await supervise(execution, limits, feed: nil)
            }
        }
        let captured = result.closureResult
        let termination: Termination
        switch result.terminationStatus {
        case .exited(let code): termination = .exited(code)
        case .signaled(let signal): termination = .signaled(signal)
        }
        return Outcome(termination: termination, output: captured.bytes, truncated: captured.truncated,
                       timedOut: captured.killedAtDeadline, processID: result.processIdentifier.value)
    }

    private struct Limits: Sendable {
        var deadline: ContinuousClock.Instant
        var clock: ContinuousClock
        var outputLimit: Int
    }

    /// What the body of `Subprocess.run` hands back: what it kept of the output.
    private struct Captured: Sendable {
        var bytes: [UInt8] = []
        var truncated = false
        var killedAtDeadline = false
    }

    /// Feeds the input, reads the output until it ends, waits for the child to exit, and kills the group at
    /// the deadline if any of that takes longer. Returns before swift-subprocess reaps the child, which is
    /// what makes the last kill safe: an exited but unreaped leader still holds its pid, so `-pgid` cannot
    /// name anyone else's group.
    private static func supervise<Input: InputProtocol>(_ execution: Execution<Input, SequenceOutput, CombinedErrorOutput>,
                                                        _ limits: Limits, feed: (@Sendable () async -> Void)?) async -> Captured {
        let group = execution.processIdentifier.value
        let (deadline, clock) = (limits.deadline, limits.clock)
        let captured = await withTaskGroup(of: Bool.self) { tasks -> Captured in
            tasks.addTask {
                // A sleep, not a thread: the only thing waiting on the deadline is this suspended task.
                guard (try? await Task.sleep(until: deadline, clock: clock)) != nil else { return false }
                kill(-group, SIGKILL)
                return true
            }
            if let feed {
                tasks.addTask {
                    await feed()
                    return false
                }
            }
            var captured = Captured()
            do {
                for try await chunk in execution.standardOutput {
                    chunk.withUnsafeBytes { bytes in
                        let room = limits.outputLimit - captured.bytes.count
                        captured.bytes.append(contentsOf: bytes.prefix(max(room, 0)))
                        if bytes.count > room { captured.truncated = true }
                    }
                }
            } catch {
                // A failed read ends the capture, not the run: the exit status still decides.
            }
            // The output ends when every writer is gone, or when the child exits while a background child
            // still holds the pipe (swift-subprocess stops reading then). A child that closed its output and
            // runs on is waited for here: signal 0 sends nothing, and this teardown step waits for the exit
            // until the deadline, then kills the group.
            let left = max(deadline - clock.now, .zero)
            await execution.teardown(using: [.send(signal: Signal(rawValue: 0), toProcessGroup: true,
                                                    allowedDurationToNextStep: left)])
            // Whatever the child left behind in its group (`sleep 100 &`) goes with it, exit 0 or not; and
            // with it any reader of the input, so a write still waiting on a full pipe fails now.
            kill(-group, SIGKILL)
            tasks.cancelAll()
            for await fired in tasks where fired { captured.killedAtDeadline = true }
            // The teardown's own last step is a kill at the deadline too.
            if clock.now >= deadline { captured.killedAtDeadline = true }
            return captured
        }
        return captured
    }

    /// Writing to a pipe whose reader has exited raises SIGPIPE, which would end this process; ignored, the
    /// write fails with EPIPE instead. SwiftNIO ignores it the same way on Linux as soon as it opens a socket.
    private static func ignoreSIGPIPE() {
        _ = ignoredSIGPIPE
    }

    private static let ignoredSIGPIPE: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()
}
