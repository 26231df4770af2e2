#if canImport(Glibc)
import Glibc
#endif
import CEpoll
import HeapModule
import NIOConcurrencyHelpers
import NIOCore

/// `tcp` checks (keepalived's TCP_CHECK: the connect is the check) without a SwiftNIO channel each.
///
/// A channel, its pipeline, its promises and its address caching cost about as much CPU as the kernel's
/// whole handshake, and a tcp check uses none of them: 10,000 checks every 5 s through ClientBootstrap took
/// 12.6 % of a core where the goal is 10 %. So a tcp check is a non-blocking `connect` made on the calling
/// event loop's thread (so the socket belongs to that thread's network namespace, as a channel's would),
/// an answer at once when the kernel has one (a handshake on loopback, a refusal), and otherwise one
/// registration with the single epoll thread every tcp check of the process shares. That thread reports
/// completions back to each probe's event loop in batches, one hop per wake-up rather than per probe,
/// and closes every socket with a reset: the connect was the check, and 2,000 checks a second must not
/// leave 120,000 sockets in TIME_WAIT on the director. http and websocket checks stay on NIO channels.
final class ConnectProbe: @unchecked Sendable {
    static let shared = ConnectProbe()

    /// A socket whose connect is in progress, keyed by its descriptor; `serial` tells a late event or
    /// deadline of a closed socket from the next socket that reuses the descriptor number.
    private struct Waiting {
        var serial: UInt32
        var loop: any EventLoop
        var budget: Duration
        var done: @Sendable (ProbeResult.Outcome) -> Void
    }

    private struct Deadline: Comparable {
        var at: NIODeadline
        var fd: Int32
        var serial: UInt32
        static func < (a: Self, b: Self) -> Bool { a.at < b.at }
        static func == (a: Self, b: Self) -> Bool { a.at == b.at && a.fd == b.fd && a.serial == b.serial }
    }

    private struct State {
        var waiting: [Int32: Waiting] = [:]
        var deadlines = Heap<Deadline>()
        var serial: UInt32 = 0
        /// When the epoll thread's current wait ends by itself: a registration with an earlier deadline
        /// must wake it.
        var sleepingUntil: NIODeadline = .distantFuture
    }

    private let epoll: Int32
    private let wake: Int32
    private let state = NIOLockedValueBox(State())
    /// Why the epoll thread could not start, reported by every probe instead of a check result.
    private var unavailable: String?  // written only in init

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wake = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard epoll >= 0, wake >= 0 else {
            unavailable = "cannot start tcp checks: \(FailureText.errno(errno))"
            return
        }
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: UInt64.max))
        _ = epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event)
        unavailable = nil
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            Unmanaged<ConnectProbe>.fromOpaque(raw!).takeUnretainedValue().run()
            return nil
        }, Unmanaged.passUnretained(self).toOpaque())
        if status == 0 { pthread_detach(thread) } else { unavailable = "cannot start tcp checks: pthread_create \(status)" }
    }

    /// Connects to `address` within `budget`; `done` runs on `loop`, exactly once.
    func start(_ address: SocketAddress, budget: Duration, on loop: any EventLoop,
               done: @escaping @Sendable (ProbeResult.Outcome) -> Void) {
        guard loop.inEventLoop else {
            // The socket is made on the loop's thread: that thread's network namespace is the probe's.
            loop.execute { self.start(address, budget: budget, on: loop, done: done) }
            return
        }
        if let unavailable { return done(.failure(unavailable)) }
        let fd = socket(Int32(address.protocol.rawValue), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return done(.failure("cannot open a socket: \(FailureText.errno(errno))")) }
        let connected = address.withSockAddr { connect(fd, $0, socklen_t($1)) } == 0
        let code = errno
        if connected { return done(Self.finish(fd, error: 0)) }
        guard code == EINPROGRESS else { return done(Self.finish(fd, error: code)) }
        // On loopback the whole handshake has run by the time connect returns (the answer waits in the
        // socket's backlog, which returning processes): one poll saves the epoll thread and a hop.
        var now = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        if poll(&now, 1, 0) == 1 { return done(Self.finish(fd, error: Self.socketError(fd))) }

        let registered = state.withLockedValue { s -> Bool in
            s.serial &+= 1
            // Registered under the lock so the epoll thread never sees an event for a socket it does not know.
            var event = epoll_event(events: EPOLLOUT.rawValue, data: epoll_data_t(u64: UInt64(s.serial) << 32 | UInt64(UInt32(bitPattern: fd))))
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else { return false }
            let deadline = NIODeadline.now() + TimeAmount(budget)
            s.waiting[fd] = Waiting(serial: s.serial, loop: loop, budget: budget, done: done)
            s.deadlines.insert(Deadline(at: deadline, fd: fd, serial: s.serial))
            guard deadline < s.sleepingUntil else { return true }
            s.sleepingUntil = deadline
            var one: UInt64 = 1
            _ = write(wake, &one, 8)
            return true
        }
        if !registered { done(Self.finish(fd, error: errno)) }
    }

    /// The epoll thread: completions and deadlines, handed to each probe's loop in one batch per wake-up.
    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        var finished: [(Waiting, ProbeResult.Outcome)] = []
        while true {
            let timeout = state.withLockedValue { s -> Int32 in
                guard let first = s.deadlines.min?.at else { s.sleepingUntil = .distantFuture; return -1 }
                s.sleepingUntil = first
                // Rounded up to the next millisecond: a deadline is never reported early.
                let nanoseconds = max(0, (first - .now()).nanoseconds)
                return Int32(min(Int64(Int32.max), (nanoseconds + 999_999) / 1_000_000))
            }
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), timeout) }
            var ready: [(Int32, Waiting)] = []
            var expired: [(Int32, Waiting)] = []
            var woken = false
            state.withLockedValue { s in
                for event in events.prefix(Int(max(count, 0))) {
                    guard event.data.u64 != UInt64.max else { woken = true; continue }
                    let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: event.data.u64))
                    guard let w = s.waiting[fd], w.serial == UInt32(event.data.u64 >> 32) else { continue }
                    s.waiting[fd] = nil
                    ready.append((fd, w))
                }
                let now = NIODeadline.now()
                while let first = s.deadlines.min, first.at <= now {
                    s.deadlines.removeMin()
                    guard let w = s.waiting[first.fd], w.serial == first.serial else { continue }
                    s.waiting[first.fd] = nil
                    expired.append((first.fd, w))
                }
            }
            if woken {
                var drained: UInt64 = 0
                _ = read(wake, &drained, 8)
            }
            for (fd, w) in ready { finished.append((w, Self.finish(fd, error: Self.socketError(fd)))) }
            for (fd, w) in expired {
                close(fd)  // still connecting: nothing to reset
                finished.append((w, .failure(FailureText.timedOut(after: w.budget))))
            }
            deliver(&finished)
        }
    }

    /// One `execute` per event loop for everything that finished in this wake-up.
    private func deliver(_ finished: inout [(Waiting, ProbeResult.Outcome)]) {
        while let (first, _) = finished.first {
            let loop = first.loop
            let batch = finished.filter { $0.0.loop === loop }
            finished.removeAll { $0.0.loop === loop }
            loop.execute { for (w, outcome) in batch { w.done(outcome) } }
        }
    }

    /// How the connect of a socket that is ready ended: 0, or the errno it failed with.
    private static func socketError(_ fd: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 ? error : errno
    }

    /// Closes the socket with a reset and says what its connect came to.
    private static func finish(_ fd: Int32, error: Int32) -> ProbeResult.Outcome {
        var reset = linger(l_onoff: 1, l_linger: 0)
        if error == 0 { _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size)) }
        close(fd)
        return error == 0 ? .success : .failure(FailureText.errno(error))
    }
}
