import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium (Debian's `chromium`) as tests drive it: one browser per page load, each with a
/// fresh profile directory removed afterwards, killed with its whole process group when it runs too
/// long. Chromium's stderr is noise (GPU, D-Bus, crash reporter), read only to explain a failure.
///
/// Virtual time (`virtualTimeBudget`) runs only while no fetch is pending: with an EventSource open,
/// the budget starts running out when the server ends that response, so a test that streams a live
/// update must end the stream after it, or the dump waits until `timeout`.
public enum Chromium {
    /// Why Chromium could not be run or did not answer; the message says what to do about it.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `$LB_CHROMIUM` when set, else the first of `chromium`, `chromium-browser`, `google-chrome` on PATH.
    public static func binary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["LB_CHROMIUM"], !path.isEmpty {
            guard access(path, X_OK) == 0 else { throw Failure(description: "LB_CHROMIUM=\(path) is not an executable: unset it, or run `make deps`") }
            return path
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 {
                return "\(dir)/\(name)"
            }
        }
        throw Failure(description: "chromium is not installed (looked for chromium, chromium-browser, google-chrome on PATH): run `make deps`")
    }

    /// The DOM after the page loaded (and after `virtualTimeBudget` of virtual time, when given), as HTML.
    /// With `namespace`, the browser runs inside that network namespace (`ip netns exec`), to load a page
    /// served on the namespace's own loopback.
    public static func dumpDOM(url: String, timeout: Duration = .seconds(30), virtualTimeBudget: Duration? = nil,
                               namespace: String? = nil) async throws -> String {
        let out = try await run(["--dump-dom"] + budget(virtualTimeBudget) + [url], timeout: timeout, namespace: namespace)
        return String(decoding: out, as: UTF8.self)
    }

    /// A PNG of the page at `size` written to `path` (its directory must exist).
    public static func screenshot(url: String, to path: String, size: (width: Int, height: Int) = (1400, 1800),
                                  timeout: Duration = .seconds(30), virtualTimeBudget: Duration? = nil, namespace: String? = nil) async throws {
        try? FileManager.default.removeItem(atPath: path)
        _ = try await run(["--screenshot=\(path)", "--window-size=\(size.width),\(size.height)"] + budget(virtualTimeBudget) + [url],
                          timeout: timeout, namespace: namespace)
        guard FileManager.default.fileExists(atPath: path) else { throw Failure(description: "chromium exited without writing \(path)") }
    }

    /// Runs Chromium headless with `arguments` after the fixed flags and returns its standard output;
    /// throws when it exits with a failure or outlives `timeout`.
    public static func run(_ arguments: [String], timeout: Duration, namespace: String? = nil) async throws -> Data {
        let binary = try binary()
        var template = Array("/tmp/lb-chromium.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp: \(String(cString: strerror(errno)))") }
        let dir = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // `ip netns exec` execs the browser itself, so the pid and process group stay the browser's.
        let argv = (namespace.map { ["/usr/sbin/ip", "netns", "exec", $0] } ?? []) + [
            binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(dir)/profile", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-breakpad", "--mute-audio", "--hide-scrollbars",
        ] + arguments

        let pid = try spawn(argv, stdout: "\(dir)/stdout", stderr: "\(dir)/stderr")
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        var exited = false
        while !exited, ContinuousClock.now < deadline, !Task.isCancelled {
            if exitedWithoutReaping(pid) {
                exited = true
            } else {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        // The browser's helpers (zygote, renderers) are in its group and may outlive it: kill them all
        // while the leader is unreaped, so the group id cannot have been reused.
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}

        let stderr = String(decoding: FileManager.default.contents(atPath: "\(dir)/stderr") ?? Data(), as: UTF8.self)
        let tail = stderr.split(separator: "\n").suffix(15).joined(separator: "\n")
        guard exited else {
            let why = Task.isCancelled ? "was cancelled" : "did not finish within \(timeout)"
            throw Failure(description: "chromium \(why) and was killed: \(argv.dropFirst().joined(separator: " "))\n\(tail)")
        }
        // A normal exit has the low 7 bits clear and the code in the next byte (wait(2)).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw Failure(description: "chromium failed (wait status \(status)): \(argv.dropFirst().joined(separator: " "))\n\(tail)")
        }
        return FileManager.default.contents(atPath: "\(dir)/stdout") ?? Data()
    }

    /// Whether `pid` has exited, leaving it a zombie so its process group stays ours until it is reaped.
    static func exitedWithoutReaping(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return errno != EINTR }
        // waitid(2): with WNOHANG and no child ready, si_pid stays 0.
        return info._sifields._sigchld.si_pid == pid
    }

    /// posix_spawn in a process group of its own, stdin from /dev/null, stdout and stderr to files.
    static func spawn(_ argv: [String], stdout: String, stderr: String) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, cargs, environ)
        guard rc == 0 else { throw Failure(description: "cannot run \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    static func budget(_ budget: Duration?) -> [String] {
        guard let budget else { return [] }
        return ["--virtual-time-budget=\(Int(budget / .milliseconds(1)))"]
    }
}
