#if canImport(Glibc)
import Glibc
#endif
#if canImport(Dispatch)
import Dispatch
#endif
import LBSpec
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
        Self.spawn(path, [path] + arguments(instance: instance, transition: transition), what: "notify script \(path)")
    }

    /// The command of `scripts` for the state `transition` enters, if any: `/bin/sh -c COMMAND`, as lb runs
    /// track scripts, detached in the same way.
    public static func runStateScript(_ scripts: StateScripts, transition: VRRPTransition) -> Result<pid_t, VRRPRuntimeError>? {
        let command: String?
        switch transition.to {
        case .master: command = scripts.master
        case .backup: command = scripts.backup
        case .fault: command = scripts.fault
        case .initialize: command = scripts.stop
        }
        guard let command else { return nil }
        let state = transition.to.notifyName.lowercased()
        return spawn("/bin/sh", ["/bin/sh", "-c", command], what: "\(state) script '\(command)'")
    }

    static func spawn(_ path: String, _ arguments: [String], what: String) -> Result<pid_t, VRRPRuntimeError> {
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, nil, nil, argv, environ)
        guard status == 0 else { return .failure(VRRPRuntimeError("\(what): \(String(cString: strerror(status)))")) }
        let child = pid
        DispatchQueue.global().async {
            var s: Int32 = 0
            while waitpid(child, &s, 0) < 0 && errno == EINTR {}
        }
        return .success(child)
    }
}
