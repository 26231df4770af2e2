import LBProcess
import LBVRRP

#if canImport(Glibc)
import Glibc
#endif

/// Runs one track script every `interval` until cancelled, handing each result to `report`:
/// `/bin/sh -c COMMAND` through `ChildProcess` (its own process group, killed whole at the timeout, reaped
/// by swift-subprocess, nothing blocking the cooperative pool). As keepalived's vrrp_script_thread, runs
/// start `interval` apart and a run past its timeout is a failure; a run never overlaps the next, which
/// starts when it ends if that is later.
enum TrackScriptRunner {
    /// What one run came to, for the speaker's log.
    struct Result: Sendable {
        var success: Bool
        var detail: String
    }

    static func run(_ script: VRRPTrackScript, clock: any VRRPClock, report: @escaping @Sendable (Result) -> Void) async {
        while !Task.isCancelled {
            let started = clock.now()
            let result = await once(script)
            guard !Task.isCancelled else { return }
            report(result)
            do { try await clock.sleep(until: started + script.interval) } catch { return }
        }
    }

    static func once(_ script: VRRPTrackScript) async -> Result {
        do {
            let run = try await ChildProcess.run("/bin/sh", arguments: ["-c", script.command], budget: script.timeout, outputLimit: 4096)
            switch run.termination {
            case .exited(0): return Result(success: true, detail: "exit status 0")
            case .exited(let code): return Result(success: false, detail: "exit status \(code)")
            case .signaled(let signal) where run.timedOut && signal == SIGKILL:
                return Result(success: false, detail: "timed out after \(VRRPSpeaker.seconds(script.timeout)) s (killed)")
            case .signaled(let signal): return Result(success: false, detail: "killed by signal \(signal)")
            }
        } catch {
            return Result(success: false, detail: "cannot run /bin/sh: \(error)")
        }
    }
}
