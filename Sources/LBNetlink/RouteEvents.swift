#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Address and link changes as the kernel announces them (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
/// RTNLGRP_IPV6_IFADDR), so drift is seen the moment it happens rather than at the next poll.
public enum RouteEvents {
    /// Subscribes before returning, so no change made after this call is missed. The stream ends
    /// with an error if the kernel drops events (the caller should then re-read the full state).
    public static func subscribe() throws(NetlinkError) -> AsyncThrowingStream<RouteEvent, Error> {
        let socket = try NetlinkSocket(protocol: NL.route, groups: [RT.groupLink, RT.groupIPv4Addr, RT.groupIPv6Addr])
        let box = SocketBox(socket)
        return AsyncThrowingStream { continuation in
            let stop = StopFlag()
            continuation.onTermination = { _ in stop.set() }
            // A dedicated thread: the read blocks, and blocking belongs nowhere near the cooperative pool.
            DispatchQueue(label: "lb.netlink.events").async {
                while !stop.isSet {
                    guard box.socket.poll(milliseconds: 200) else { continue }
                    do {
                        for m in try box.socket.receive() {
                            if let event = try RouteEvent.decode(m) { continuation.yield(event) }
                        }
                    } catch {
                        continuation.finish(throwing: error)
                        return
                    }
                }
                continuation.finish()
            }
        }
    }
}

/// The socket moves to the reader thread once and is used only there.
private final class SocketBox: @unchecked Sendable {
    let socket: NetlinkSocket
    init(_ socket: NetlinkSocket) { self.socket = socket }
}

private final class StopFlag: @unchecked Sendable {
    private var value = false
    private let lock = PThreadMutex()
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// A pthread mutex, so the module needs no Foundation.
final class PThreadMutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
