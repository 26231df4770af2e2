import LBSpec
import Subprocess

#if canImport(Glibc)
import Glibc
#endif

/// The `exec` check (keepalived's MISC_CHECK): `/bin/sh -c '<command> "$@"' lb-check ADDRESS PORT`, so the
/// command text gets the real server's address (IPv6 without brackets) and the check's target port as its
/// last two arguments, `$0` reads `lb-check` in the shell's messages, and the command needs no quoting of
/// ours. Exit status 0 passes.
///
/// Built on swift-subprocess rather than posix_spawn, a pipe channel and our own reaping: on Linux it
/// spawns with posix_spawn (signal dispositions and mask reset, every other descriptor closed, the process
/// group set by the spawn itself), learns of the exit through a pidfd on one shared epoll thread, reads the
/// pipe on one shared epoll thread, and reaps with waitid; there is no thread per child and nothing blocks
/// the cooperative pool. What it does not do for us is what a health check needs on top: one deadline for
/// the whole run, the kill of the whole process group, and a cap on output that drops the rest rather than
/// failing; those are here.
enum ExecProbe {
    struct Run: Sendable {
        var outcome: ProbeResult.Outcome
        var output: String
    }

    /// What the body of `Subprocess.run` hands back: what it kept of the output.
    private struct Captured: Sendable {
        var bytes: [UInt8] = []
        var truncated = false
    }

    static func run(_ command: String, address: IPAddress, port: Int, budget: Duration) async -> Run {
        guard !command.isEmpty else { return Run(outcome: .failure("no command to run"), output: "") }
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        var options = PlatformOptions()
        // Its own process group (pgid = its pid), so a kill reaches every process it started, not only the shell.
        options.processGroupID = 0
        // If the probing task is cancelled (the agent shutting down), the whole group goes too.
        options.teardownSequence = [.send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(1))]
        do {
            let result = try await Subprocess.run(
                .path("/bin/sh"),
                arguments: ["-c", command + " \"$@\"", "lb-check", "\(address)", String(port)],
                platformOptions: options,
                input: .none,
                output: .sequence,
                error: .combinedWithOutput
            ) { execution in
                await supervise(execution, until: deadline, clock: clock)
            }
            let captured = result.closureResult
            var output = String(decoding: captured.bytes, as: UTF8.self)
            if captured.truncated { output += "\n[output cut at \(ProbeLimits.execOutputBytes / 1024) KiB]" }
            return Run(outcome: verdict(result.terminationStatus, timedOut: clock.now >= deadline, budget: budget),
                       output: output)
        } catch {
            return Run(outcome: .failure("could not run the command: \(error)"), output: "")
        }
    }

    static func verdict(_ status: TerminationStatus, timedOut: Bool, budget: Duration) -> ProbeResult.Outcome {
        switch status {
        case .exited(0):
            return .success
        case .exited(let code):
            return .failure("exit status \(code)")
        case .signaled(let signal):
            if signal == SIGKILL && timedOut { return .failure(FailureText.timedOut(after: budget, "(killed)")) }
            return .failure("killed by signal \(signal)")
        }
    }

    /// Reads the output until it ends, waits for the shell to exit, and kills the group at the deadline if
    /// either takes longer. Returns before swift-subprocess reaps the shell, which is what makes the last
    /// kill safe: an exited but unreaped leader still holds its pid, so `-pgid` cannot name anyone else's
    /// group.
    private static func supervise(_ execution: Execution<NoInput, SequenceOutput, CombinedErrorOutput>,
                                  until deadline: ContinuousClock.Instant, clock: ContinuousClock) async -> Captured {
        let group = execution.processIdentifier.value
        let captured = await withTaskGroup(of: Void.self) { tasks -> Captured in
            tasks.addTask {
                // A sleep, not a thread: the only thing waiting on the deadline is this suspended task.
                guard (try? await Task.sleep(until: deadline, clock: clock)) != nil else { return }
                kill(-group, SIGKILL)
            }
            var captured = Captured()
            do {
                for try await chunk in execution.standardOutput {
                    chunk.withUnsafeBytes { bytes in
                        let room = ProbeLimits.execOutputBytes - captured.bytes.count
                        captured.bytes.append(contentsOf: bytes.prefix(max(room, 0)))
                        if bytes.count > room { captured.truncated = true }
                    }
                }
            } catch {
                // A failed read ends the capture, not the check: the exit status still decides.
            }
            // The output ends when every writer is gone, or when the shell exits while a background child
            // still holds the pipe (swift-subprocess stops reading then). A shell that closed its output and
            // runs on is waited for here: signal 0 sends nothing, and this teardown step waits for the exit
            // until the deadline, then kills the group.
            let left = max(deadline - clock.now, .zero)
            await execution.teardown(using: [.send(signal: Signal(rawValue: 0), toProcessGroup: true,
                                                    allowedDurationToNextStep: left)])
            tasks.cancelAll()
            return captured
        }
        // Whatever the command left behind in its group (`sleep 100 &`) goes with it, exit 0 or not.
        kill(-group, SIGKILL)
        return captured
    }
}
