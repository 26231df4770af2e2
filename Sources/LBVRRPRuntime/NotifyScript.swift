#if canImport(Glibc)
import Glibc
#endif
#if canImport(Dispatch)
import Dispatch
#endif
import LBVRRP

/// Runs keepalived's generic `notify` script for a transition, with the same four arguments keepalived
/// passes: `INSTANCE`, the instance name, the new state (`MASTER`, `BACKUP`, or `STOP` on shutdown) and
/// the priority. The script runs detached; its exit is collected on a dispatch queue so it never blocks
/// the speaker (and never leaves a zombie).
public struct NotifyScript: Sendable {
    public var path: String

    public init(path: String) { self.path = path }

    public func arguments(instance: String, transition: VRRPTransition) -> [String] {
        ["INSTANCE", instance, transition.to.notifyName, String(transition.priority)]
    }

    /// Starts the script; returns its pid, or nil (with the reason) when it cannot be started.
    @discardableResult
    public func run(instance: String, transition: VRRPTransition) -> Result<pid_t, VRRPRuntimeError> {
        let argv = ([path] + arguments(instance: instance, transition: transition)).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, nil, nil, argv, environ)
        guard status == 0 else { return .failure(VRRPRuntimeError("notify script \(path): \(String(cString: strerror(status)))")) }
        let child = pid
        DispatchQueue.global().async {
            var s: Int32 = 0
            while waitpid(child, &s, 0) < 0 && errno == EINTR {}
        }
        return .success(child)
    }
}
