#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LBCrypto
import LBGossip
import LBGossipNet
import XCTest

/// Everything a transport delivered, collected as it arrives so tests can wait without owning the stream.
actor Inbox {
    private(set) var messages: [GossipInbound] = []
    private(set) var finished = false

    /// Drains `stream` until it finishes; one consumer per transport, as AsyncStream requires.
    nonisolated func collect(_ stream: AsyncStream<GossipInbound>) {
        Task {
            for await message in stream { await self.append(message) }
            await self.finish()
        }
    }

    private func append(_ message: GossipInbound) { messages.append(message) }
    private func finish() { finished = true }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; true if it held.
func eventually(within timeout: Duration = .seconds(5), _ condition: @Sendable () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// The messages once `count` have arrived, or whatever arrived by the timeout.
func waitForMessages(_ inbox: Inbox, count: Int, within timeout: Duration = .seconds(5)) async -> [GossipInbound] {
    _ = await eventually(within: timeout) { await inbox.messages.count >= count }
    return await inbox.messages
}

func port(of transport: SealedTransport) -> Int {
    Int(transport.localAddress.split(separator: ":").last!)!
}

func makeKeyring(_ keys: ClusterKey...) -> Keyring {
    try! Keyring(keys: keys)
}

// MARK: Raw sockets, to speak to the transport without the transport's own sealing and framing.

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

/// Sends one datagram from a fresh socket to 127.0.0.1:port.
func rawDatagram(_ bytes: [UInt8], toPort port: Int) {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_DGRAM, 0)
    #endif
    precondition(fd >= 0, "socket failed")
    defer { close(fd) }
    var address = loopback(port: port)
    let sent = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    precondition(sent == bytes.count, "sendto failed")
}

/// A connected TCP socket to 127.0.0.1:port whose reads give up after `readTimeout`.
final class RawConnection {
    let fd: Int32

    init(port: Int, readTimeout: Duration = .seconds(5)) throws {
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw XCTSkip("socket failed") }
        let seconds = readTimeout.components.seconds
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw XCTSkip("connect failed: errno \(errno)") }
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// True when the peer closed (EOF or reset) before the read timeout; false if it still held the
    /// connection open when the timeout passed. Blocks, so tests call it off the cooperative pool's
    /// hot path only briefly.
    func closedByPeer() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }
            if n > 0 { continue }
            return errno == ECONNRESET
        }
    }
}

/// Fails the test unless `condition` comes to hold within `timeout`.
func assertEventually(
    _ message: @autoclosure () -> String = "",
    within timeout: Duration = .seconds(5),
    file: StaticString = #filePath, line: UInt = #line,
    _ condition: @Sendable () async -> Bool
) async {
    if await !eventually(within: timeout, condition) {
        XCTFail("condition did not hold within \(timeout) \(message())", file: file, line: line)
    }
}

/// A plain TCP listener on 127.0.0.1 with a kernel-chosen port, to occupy a port the way another
/// program would.
final class RawListener {
    let fd: Int32
    let port: Int

    init() throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { close(fd); throw XCTSkip("could not open a TCP listener: errno \(errno)") }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// Whether a UDP socket can bind 127.0.0.1:port right now (nothing else holds it).
func udpPortIsFree(_ port: Int) -> Bool {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_DGRAM, 0)
    #endif
    defer { close(fd) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
