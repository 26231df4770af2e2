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

/// `lb-bench health`: the agent's own health service (the checker, its timer and the NIO probes on one
/// event loop, as `lb-agent run` has them) running N TCP checks every interval against a real listener,
/// in network namespaces of its own so nothing leaves the machine. Prints CPU % of one core, RSS, how
/// evenly check starts spread over the interval, and the results.
///
/// Two listeners: `loopback`, one accepting process answering 127.0.x.y in the checker's namespace, where
/// the kernel charges both ends of every handshake to the checker; and `remote`, the listener in a second
/// namespace behind a veth pair whose receive side is steered (RPS) to another CPU than the checker's,
/// so the listener's kernel work is done elsewhere, as a real server's is.
enum HealthBench {
    enum Mode: String { case loopback, remote }

    static func run(checks: Int, interval: Duration, rounds: Int, mode: Mode) async throws -> String {
        // The namespace is entered before any thread starts: this process runs itself again under
        // unshare(1), since a namespace is per thread and the event loops would not follow a late one.
        // In `remote` mode it is pinned to CPU 0, and the listener's side is steered to CPU 1.
        guard ProcessInfo.processInfo.environment["LB_BENCH_NETNS"] != nil else {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: mode == .remote ? "/usr/bin/taskset" : "/usr/bin/unshare")
            child.arguments = (mode == .remote ? ["-c", "0", "/usr/bin/unshare"] : []) + ["--net", "--", CommandLine.arguments[0]] + CommandLine.arguments.dropFirst()
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
        let namespace = "lb-bench-health-\(getpid())"
        let listener: pid_t
        let target: @Sendable (Int) -> IPAddress
        switch mode {
        case .loopback:
            listener = try startListener(port: port)
            target = { i in .v4(0x7F00_0000 | UInt32(i / 250) << 8 | UInt32(i % 250 + 1)) }
        case .remote:
            try remoteListenerNamespace(namespace)
            listener = try spawn(["/usr/sbin/ip", "netns", "exec", namespace, "/usr/bin/taskset", "-c", "1", CommandLine.arguments[0], "health-listener", "\(port)"])
            target = { i in .v4(0x0AC8_0000 | UInt32(i / 250) << 8 | UInt32(i % 250 + 1)) }
            try waitForListener(IPAddress("10.200.0.1")!, port: port)
        }
        defer {
            kill(listener, SIGKILL)
            waitpid(listener, nil, 0)
            if mode == .remote { _ = system("ip netns del \(namespace) 2>/dev/null") }
        }

        // As `lb-agent run` sets it up: one loop for the service, its timer and its sockets.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let probe = RecordingProbe(inner: NIOHealthProbe(group: loop))
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let reconciler = try Reconciler(host: InMemoryHost(), ledgerPath: nil, logger: logger)
        let health = HealthService(probe: probe, loop: loop, reconciler: reconciler, logger: logger)
        var plan = HostPlan(node: "bench")
        let check = HealthCheck(kind: .tcp, intervalMilliseconds: Int(interval / .milliseconds(1)), connectTimeoutMilliseconds: 1000, retries: 3)
        plan.healthChecks = (0..<checks).map { i in
            HealthCheckPlan(service: "10.0.0.1:80/tcp", target: Endpoint(address: target(i), port: port), check: check)
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
        running.cancel()
        try await Task.sleep(for: .seconds(1))
        let floor = await kernelFloor(checks: checks, interval: interval, port: port, target: target)

        // Starts per 100 ms of the interval, folded over the rounds: an even spread is checks / slices.
        let slice = Duration.milliseconds(100)
        let slices = max(1, Int(interval / slice))
        var counts = [Int](repeating: 0, count: slices)
        for t in starts { counts[min(slices - 1, Int((t.truncating(interval)) / slice))] += 1 }
        let mean = Double(starts.count) / Double(slices)
        let sd = (counts.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(slices)).squareRoot()
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        return """
        {"mode": "\(mode.rawValue)", "checks": \(checks), "interval_s": \(Double(interval / .milliseconds(1)) / 1000), "measured_s": \(String(format: "%.1f", seconds)), \
        "probes": \(starts.count), "succeeded": \(ok), "failed": \(failed), \
        "cpu_percent_of_one_core": \(String(format: "%.1f", cpu / seconds * 100)), \
        "user_percent": \(String(format: "%.1f", user / seconds * 100)), "system_percent": \(String(format: "%.1f", system / seconds * 100)), \
        "kernel_floor_percent": \(String(format: "%.1f", floor)), "rss_kb": \(rss), \
        "starts_per_100ms": {"mean": \(String(format: "%.1f", mean)), "min": \(counts.min() ?? 0), "max": \(counts.max() ?? 0), \
        "cv": \(String(format: "%.3f", mean > 0 ? sd / mean : 0))}}
        """
    }

    /// What the same checks cost without lb: `checks` connects to the same targets at the same rate from a
    /// plain loop on one thread (non-blocking connect, poll, SO_ERROR, close with a reset: the system calls
    /// a tcp check cannot do without), as CPU % of one core. On loopback nearly all of it is the kernel's
    /// handshake for both ends, so it is the floor under any checker on this machine.
    static func kernelFloor(checks: Int, interval: Duration, port: Int, target: @escaping @Sendable (Int) -> IPAddress) async -> Double {
        await withCheckedContinuation { (done: CheckedContinuation<Double, Never>) in
            Thread {
                let pause = UInt32(interval / .microseconds(1)) / UInt32(max(1, checks / 10))
                let before = threadCPUSeconds()
                for i in 0..<checks {
                    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                    if !connectIPv4(fd, target(i), port: port), errno == EINPROGRESS {
                        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&p, 1, 1000)
                    }
                    var error: Int32 = 0, length = socklen_t(4)
                    _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    var reset = linger(l_onoff: 1, l_linger: 0)
                    _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
                    close(fd)
                    if i % 10 == 9 { usleep(pause) }
                }
                let perCheck = (threadCPUSeconds() - before) / Double(checks)
                done.resume(returning: perCheck * Double(checks) / (Double(interval / .milliseconds(1)) / 1000) * 100)
            }.start()
        }
    }

    /// connect(2) to an IPv4 address (the bench's targets are all IPv4); false with errno set when it did not
    /// connect at once.
    static func connectIPv4(_ fd: Int32, _ address: IPAddress, port: Int) -> Bool {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = UInt16(port).bigEndian
        if case .v4(let v) = address { a.sin_addr.s_addr = v.bigEndian }
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    /// User plus system CPU seconds of the calling thread (RUSAGE_THREAD).
    static func threadCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// A second namespace behind a veth pair: 10.200.0.0/16 is local there (any address answers), and
    /// what it receives is processed on CPU 1 (RPS), away from the checker pinned to CPU 0.
    static func remoteListenerNamespace(_ ns: String) throws {
        let commands = [
            "ip netns add \(ns)",
            "ip link add hc0 type veth peer name hc1 netns \(ns)",
            "ip addr add 10.199.0.1/30 dev hc0", "ip link set hc0 up", "ip route add 10.200.0.0/16 via 10.199.0.2",
            "ip -n \(ns) link set lo up", "ip -n \(ns) addr add 10.199.0.2/30 dev hc1", "ip -n \(ns) link set hc1 up",
            "ip -n \(ns) route add local 10.200.0.0/16 dev lo",
            "ip netns exec \(ns) sh -c 'echo 2 > /sys/class/net/hc1/queues/rx-0/rps_cpus'",
        ]
        for c in commands where system(c) != 0 {
            _ = system("ip netns del \(ns) 2>/dev/null")
            throw BenchError("cannot set up the listener's namespace: \(c)")
        }
    }

    static func spawn(_ argv: [String]) throws -> pid_t {
        var pid: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        guard posix_spawn(&pid, argv[0], nil, nil, cargs, environ) == 0 else { throw BenchError("cannot run \(argv[0])") }
        return pid
    }

    /// Until a connect to the listener succeeds (a few milliseconds), at most 5 s.
    static func waitForListener(_ address: IPAddress, port: Int) throws {
        for _ in 0..<500 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let ok = connectIPv4(fd, address, port: port)
            close(fd)
            if ok { return }
            usleep(10_000)
        }
        throw BenchError("the listener did not come up")
    }

    /// `lb-bench health-listener PORT`: the accepting side in the remote namespace.
    static func listen(port: Int) throws -> Never {
        acceptForever(try listeningSocket(port: port))
    }

    static func listeningSocket(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = INADDR_ANY
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, Glibc.listen(fd, 4096) == 0 else { throw BenchError("cannot listen on port \(port): \(String(cString: strerror(errno)))") }
        return fd
    }

    static func acceptForever(_ fd: Int32) -> Never {
        while true {
            let c = accept(fd, nil, nil)
            if c >= 0 { close(c) }
        }
    }

    /// The accepting side, a child process: accept and close, as fast as connections come.
    static func startListener(port: Int) throws -> pid_t {
        let fd = try listeningSocket(port: port)
        let pid = fork()
        guard pid >= 0 else { throw BenchError("fork: \(String(cString: strerror(errno)))") }
        if pid == 0 { acceptForever(fd) }
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
