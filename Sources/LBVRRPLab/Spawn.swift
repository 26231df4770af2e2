#if canImport(Glibc)
import Glibc
#endif
import LBHostConformance

/// A process the lab started, in its own process group so that SIGKILL reaches every process it forked
/// (keepalived runs its VRRP child beside the parent; killing only the parent makes the child resign
/// cleanly, which is a SIGTERM, not a crash).
public final class Daemon: @unchecked Sendable {
    public let pid: pid_t
    public let name: String
    public let logPath: String
    private var status: Int32?

    init(pid: pid_t, name: String, logPath: String) {
        self.pid = pid
        self.name = name
        self.logPath = logPath
    }

    /// Starts `arguments` with output (both streams) appended to `logPath`, stdin from /dev/null, default
    /// signal dispositions, in a new process group.
    public static func spawn(_ name: String, _ arguments: [String], logPath: String) throws -> Daemon {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setpgroup(&attr, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, arguments[0], &actions, &attr, argv, environ)
        guard rc == 0 else { throw LabError("cannot start \(arguments.joined(separator: " ")): \(String(cString: strerror(rc)))") }
        return Daemon(pid: pid, name: name, logPath: logPath)
    }

    /// Sends `signal` to the main process only (keepalived's parent forwards SIGTERM to its children).
    public func signal(_ signal: Int32) { _ = Glibc.kill(pid, signal) }

    /// SIGKILL to the whole process group: a crash of everything this daemon is.
    public func crash() { _ = Glibc.kill(-pid, SIGKILL) }

    /// Whether the main process has exited (reaping it if so).
    public var hasExited: Bool {
        if status != nil { return true }
        var s: Int32 = 0
        if waitpid(pid, &s, WNOHANG) == pid { status = s; return true }
        return false
    }

    /// The exit code, or 128 + signal; nil while running.
    public var exitCode: Int32? {
        guard hasExited, let s = status else { return nil }
        return (s & 0x7F) == 0 ? (s >> 8) & 0xFF : 128 + (s & 0x7F)
    }

    /// Waits up to `timeout` seconds for the main process to exit; true when it did.
    @discardableResult
    public func waitForExit(timeout: Double) -> Bool {
        let end = Lab.now() + timeout
        while Lab.now() < end {
            if hasExited { return true }
            usleep(5_000)
        }
        return hasExited
    }

    /// Kills the whole group if still running and reaps the main process.
    public func stop() {
        if !hasExited {
            crash()
            waitForExit(timeout: 5)
        }
        _ = Glibc.kill(-pid, SIGKILL)  // any child left behind in the group
    }

    /// Everything the daemon wrote so far.
    public var output: String { Lab.read(logPath) ?? "" }
}

/// A lab step that failed, with what was being done.
public struct LabError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a short command to completion and returns its exit status and output (both streams).
@discardableResult
public func shell(_ arguments: [String]) -> (status: Int32, output: String) {
    do {
        let r = try Subprocess.run(arguments[0], Array(arguments.dropFirst()))
        return (r.status, r.output)
    } catch {
        return (-1, error.description)
    }
}
