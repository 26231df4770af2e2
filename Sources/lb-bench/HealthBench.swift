import Foundation
import LBAgent
import LBHealth
import LBHost
import LBSpec
import Logging
import NIOConcurrencyHelpers
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// `lb-bench health`: the agent's own health service (the checker, the scheduler loop and the NIO
/// probes, as `lb-agent run` has them) running N TCP checks every interval against a real listener, in
/// a network namespace of its own so nothing leaves the machine: 127.0.x.y are N destinations on the
/// namespace's loopback, all answered by one accepting process (a child, so its CPU is not counted).
/// Prints CPU % of one core, RSS, how evenly check starts spread over the interval, and the results.
enum HealthBench {
    static func run(checks: Int, interval: Duration, rounds: Int) async throws -> String {
        // The namespace is entered before any thread starts: this process runs itself again under
        // unshare(1), since a namespace is per thread and the event loops would not follow a late one.
        guard ProcessInfo.processInfo.environment["LB_BENCH_NETNS"] != nil else {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            child.arguments = ["--net", "--", CommandLine.arguments[0]] + CommandLine.arguments.dropFirst()
            child.environment = ProcessInfo.processInfo.environment.merging(["LB_BENCH_NETNS": "1"]) { $1 }
            let out = Pipe()
            child.standardOutput = out
            try child.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            child.waitUntilExit()
            guard child.terminationStatus == 0 else { throw BenchError("the namespaced run failed: \(String(decoding: data, as: UTF8.self))") }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard system("ip link set lo up") == 0 else { throw BenchError("cannot bring lo up in the bench's namespace") }
        let port = 8080
        let listener = try startListener(port: port)
        defer { kill(listener, SIGKILL); waitpid(listener, nil, 0) }

        // As `lb-agent run` sets it up: one loop for the service, its timer and its sockets.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let probe = RecordingProbe(inner: NIOHealthProbe(group: loop))
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let reconciler = try Reconciler(host: InMemoryHost(), ledgerPath: nil, logger: logger)
        let health = HealthService(probe: probe, loop: loop, reconciler: reconciler, logger: logger)
        var plan = HostPlan(node: "bench")
        let check = HealthCheck(kind: .tcp, intervalMilliseconds: Int(interval / .milliseconds(1)), connectTimeoutMilliseconds: 1000, retries: 3)
        plan.healthChecks = (0..<checks).map { i in
            let target = Endpoint(address: .v4(0x7F00_0000 | UInt32(i / 250) << 8 | UInt32(i % 250 + 1)), port: port)
            return HealthCheckPlan(service: "10.0.0.1:80/tcp", target: target, check: check)
        }
        await health.setPlan(plan)
        let running = Task { try await health.run() }
        defer { running.cancel() }

        // The first round and one interval to settle, then `rounds` intervals measured.
        try await Task.sleep(for: .seconds(1) + interval)
        let start = ContinuousClock.now
        let (user0, system0) = cpuSeconds()
        probe.reset(at: start)
        try await Task.sleep(for: interval * rounds)
        let wall = ContinuousClock.now - start
        let (user1, system1) = cpuSeconds()
        let user = user1 - user0, system = system1 - system0
        let cpu = user + system
        let (starts, ok, failed) = probe.take()
        let rss = StartupPages.residentKB()

        // Starts per 100 ms of the interval, folded over the rounds: an even spread is checks / slices.
        let slice = Duration.milliseconds(100)
        let slices = max(1, Int(interval / slice))
        var counts = [Int](repeating: 0, count: slices)
        for t in starts { counts[min(slices - 1, Int((t.truncating(interval)) / slice))] += 1 }
        let mean = Double(starts.count) / Double(slices)
        let sd = (counts.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(slices)).squareRoot()
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        return """
        {"checks": \(checks), "interval_s": \(Double(interval / .milliseconds(1)) / 1000), "measured_s": \(String(format: "%.1f", seconds)), \
        "probes": \(starts.count), "succeeded": \(ok), "failed": \(failed), \
        "cpu_percent_of_one_core": \(String(format: "%.1f", cpu / seconds * 100)), \
        "user_percent": \(String(format: "%.1f", user / seconds * 100)), "system_percent": \(String(format: "%.1f", system / seconds * 100)), "rss_kb": \(rss), \
        "starts_per_100ms": {"mean": \(String(format: "%.1f", mean)), "min": \(counts.min() ?? 0), "max": \(counts.max() ?? 0), \
        "cv": \(String(format: "%.3f", mean > 0 ? sd / mean : 0))}}
        """
    }

    /// The accepting side, a child process: accept and close, as fast as connections come.
    static func startListener(port: Int) throws -> pid_t {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = INADDR_ANY
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 4096) == 0 else { throw BenchError("cannot listen on port \(port): \(String(cString: strerror(errno)))") }
        let pid = fork()
        guard pid >= 0 else { throw BenchError("fork: \(String(cString: strerror(errno)))") }
        if pid == 0 {
            while true {
                let c = accept(fd, nil, nil)
                if c >= 0 { close(c) }
            }
        }
        close(fd)
        return pid
    }

    /// User and system CPU seconds of this process so far. On loopback the kernel's work for both ends
    /// of each connection (the listener's handshake too) runs in the connecting process's system time.
    static func cpuSeconds() -> (user: Double, system: Double) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return (Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6, Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6)
    }
}

/// The real probe, with the start time and outcome of every probe noted.
final class RecordingProbe: HealthProbe {
    let inner: NIOHealthProbe
    private let state = NIOLockedValueBox<(since: ContinuousClock.Instant?, starts: [Duration], ok: Int, failed: Int)>((nil, [], 0, 0))

    init(inner: NIOHealthProbe) { self.inner = inner }

    func reset(at instant: ContinuousClock.Instant) { state.withLockedValue { $0 = (instant, [], 0, 0) } }

    func take() -> (starts: [Duration], ok: Int, failed: Int) {
        state.withLockedValue { s in (s.starts, s.ok, s.failed) }
    }

    func probe(_ check: HealthCheck, target: Endpoint) async -> ProbeResult {
        await withCheckedContinuation { c in start(check, target: target) { c.resume(returning: $0) } }
    }

    func start(_ check: HealthCheck, target: Endpoint, done: @escaping @Sendable (ProbeResult) -> Void) {
        let started = ContinuousClock.now
        inner.start(check, target: target) { [state] result in
            state.withLockedValue { s in
                guard let since = s.since else { return }
                s.starts.append(started - since)
                if result.outcome == .success { s.ok += 1 } else { s.failed += 1 }
            }
            done(result)
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension Duration {
    /// The remainder after whole `interval`s.
    func truncating(_ interval: Duration) -> Duration {
        let n = self / interval
        return self - interval * Int(n)
    }
}
