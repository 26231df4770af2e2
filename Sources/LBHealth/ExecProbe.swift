import LBProcess
import LBSpec

#if canImport(Glibc)
import Glibc
#endif

/// The `exec` check (keepalived's MISC_CHECK): `/bin/sh -c '<command> "$@"' lb-check ADDRESS PORT`, so the
/// command text gets the real server's address (IPv6 without brackets) and the check's target port as its
/// last two arguments, `$0` reads `lb-check` in the shell's messages, and the command needs no quoting of
/// ours. Exit status 0 passes. `ChildProcess` runs it: its own process group, one deadline for the whole
/// run, the whole group killed at it, output capped.
///
/// With `dynamic_weight` (keepalived's misc_dynamic, check_misc.c): 0 passes at the planned weight, 1
/// fails, and 2–255 pass with weight status − 2.
enum ExecProbe {
    struct Run: Sendable {
        var outcome: ProbeResult.Outcome
        var output: String
        var weight: Int? = nil
    }

    static func run(_ command: String, address: IPAddress, port: Int, budget: Duration, dynamicWeight: Bool = false) async -> Run {
        guard !command.isEmpty else { return Run(outcome: .failure("no command to run"), output: "") }
        do {
            let run = try await ChildProcess.run("/bin/sh", arguments: ["-c", command + " \"$@\"", "lb-check", "\(address)", String(port)],
                                                 budget: budget, outputLimit: ProbeLimits.execOutputBytes)
            var output = String(decoding: run.output, as: UTF8.self)
            if run.truncated { output += "\n[output cut at \(ProbeLimits.execOutputBytes / 1024) KiB]" }
            if dynamicWeight, case .exited(let code) = run.termination, (2...255).contains(code) {
                return Run(outcome: .success, output: output, weight: Int(code) - 2)
            }
            return Run(outcome: verdict(run.termination, timedOut: run.timedOut, budget: budget), output: output)
        } catch {
            return Run(outcome: .failure("could not run the command: \(error)"), output: "")
        }
    }

    static func verdict(_ termination: ChildProcess.Termination, timedOut: Bool, budget: Duration) -> ProbeResult.Outcome {
        switch termination {
        case .exited(0):
            return .success
        case .exited(let code):
            return .failure("exit status \(code)")
        case .signaled(let signal):
            if signal == SIGKILL && timedOut { return .failure(FailureText.timedOut(after: budget, "(killed)")) }
            return .failure("killed by signal \(signal)")
        }
    }
}
