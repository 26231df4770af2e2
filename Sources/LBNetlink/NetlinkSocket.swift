#if canImport(Glibc)
import Glibc
#endif

/// One request to send: what to ask and how to describe it if the kernel says no.
public struct NetlinkRequest: Sendable {
    public var type: UInt16
    public var flags: UInt16
    public var payload: [UInt8]
    /// For error messages: "add address 192.168.1.200/32 to lo".
    public var description: String
    public var isDump: Bool { flags & NL.fDump == NL.fDump }

    public init(type: UInt16, flags: UInt16, payload: [UInt8], description: String) {
        self.type = type
        self.flags = flags
        self.payload = payload
        self.description = description
    }
}

/// A netlink socket speaking request/acknowledge. Not thread-safe: one owner (an actor) uses it.
///
/// Requests go out many per `send`, and their acknowledgements are matched by sequence number and
/// port id, so thousands of changes cost a handful of system calls.
public final class NetlinkSocket {
    let fd: Int32
    public let portID: UInt32
    private var sequence: UInt32
    private var buffer: [UInt8]
    /// Requests per send; bounded so acknowledgements never overflow the receive buffer.
    static let maxBatchBytes = 64 << 10

    public init(protocol proto: Int32, groups: [UInt32] = []) throws(NetlinkError) {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), proto)
        guard fd >= 0 else { throw .system(errno: Glibc.errno, call: "socket(AF_NETLINK)") }
        self.fd = fd
        var one: Int32 = 1
        // Extended acks carry the kernel's own explanation; capped acks keep them small.
        _ = setsockopt(fd, NL.solNetlink, NL.extAck, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, NL.solNetlink, NL.capAck, &one, socklen_t(MemoryLayout<Int32>.size))
        var size: Int32 = 4 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var address = SockaddrNL()
        address.family = UInt16(AF_NETLINK)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<SockaddrNL>.size)) }
        }
        guard bound == 0 else {
            let e = Glibc.errno
            close(fd)
            throw .system(errno: e, call: "bind(AF_NETLINK)")
        }
        var length = socklen_t(MemoryLayout<SockaddrNL>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        portID = address.portID
        for var group in groups {
            guard setsockopt(fd, NL.solNetlink, NL.addMembership, &group, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
                let e = Glibc.errno
                close(fd)
                throw .system(errno: e, call: "join netlink group \(group)")
            }
        }
        sequence = UInt32(truncatingIfNeeded: time(nil))
        buffer = [UInt8](repeating: 0, count: 1 << 20)
    }

    deinit { close(fd) }

    /// Sends every request and returns, in order, each one's replies or the kernel's refusal.
    /// One refusal does not stop the others.
    public func execute(_ requests: [NetlinkRequest]) throws(NetlinkError) -> [Result<[NetlinkMessage], NetlinkError>] {
        var results = [Result<[NetlinkMessage], NetlinkError>?](repeating: nil, count: requests.count)
        var index = 0
        while index < requests.count {
            // A dump runs alone: the kernel serves one dump per socket at a time.
            // Dumps batch with dumps, changes with changes, so one kind's replies never wait on the other's.
            let dump = requests[index].isDump
            var batch: [Int] = []
            var bytes = 0
            while index + batch.count < requests.count, requests[index + batch.count].isDump == dump {
                let size = requests[index + batch.count].payload.count + NL.headerSize
                if !batch.isEmpty && bytes + size > Self.maxBatchBytes { break }
                batch.append(index + batch.count)
                bytes += size
            }
            try run(batch, of: requests, into: &results)
            if dump {
                // The kernel runs one dump per socket at a time. A small dump finishes while its request
                // is processed, so the next starts at once; one that spans several reads makes the
                // following requests of the batch fail with EBUSY. Those are retried one by one.
                for i in batch {
                    if case .failure(let e) = results[i]!, e.errno == EBUSY { try run([i], of: requests, into: &results) }
                }
            }
            index += batch.count
        }
        return results.map { $0! }
    }

    /// Convenience for one request: its replies, or the kernel's refusal as a thrown error.
    public func execute(_ request: NetlinkRequest) throws(NetlinkError) -> [NetlinkMessage] {
        try execute([request])[0].get()
    }

    private func run(_ batch: [Int], of requests: [NetlinkRequest], into results: inout [Result<[NetlinkMessage], NetlinkError>?]) throws(NetlinkError) {
        var bySequence: [UInt32: Int] = [:]
        var wire: [UInt8] = []
        for i in batch {
            sequence &+= 1
            bySequence[sequence] = i
            let r = requests[i]
            let flags = r.flags | NL.fRequest | (r.isDump ? 0 : NL.fAck)
            wire += NetlinkMessage(type: r.type, flags: flags, sequence: sequence, portID: portID, payload: r.payload).encoded()
        }
        try sendAll(wire)
        var replies: [Int: [NetlinkMessage]] = [:]
        var pending = Set(batch)
        while !pending.isEmpty {
            for message in try receive() {
                guard message.portID == portID || message.portID == 0, let i = bySequence[message.sequence], pending.contains(i) else { continue }
                switch message.type {
                case NL.msgError:
                    let (code, text) = try Self.parseError(message)
                    results[i] = code == 0 ? .success(replies[i] ?? []) : .failure(.kernel(errno: -code, message: text, request: requests[i].description))
                    pending.remove(i)
                case NL.msgDone:
                    results[i] = .success(replies[i] ?? [])
                    pending.remove(i)
                case NL.msgOverrun:
                    throw .overrun
                case NL.msgNoop:
                    continue
                default:
                    replies[i, default: []].append(message)
                }
            }
        }
    }

    private func sendAll(_ bytes: [UInt8]) throws(NetlinkError) {
        var kernel = SockaddrNL()
        kernel.family = UInt16(AF_NETLINK)
        let sent = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &kernel) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<SockaddrNL>.size))
                }
            }
        }
        guard sent == bytes.count else { throw .system(errno: Glibc.errno, call: "sendto(netlink)") }
    }

    /// Blocks for the next datagram (bounded by SO_RCVTIMEO) and splits it into messages.
    func receive() throws(NetlinkError) -> [NetlinkMessage] {
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_TRUNC)) }
            if n < 0 {
                let e = Glibc.errno
                if e == EINTR { continue }
                if e == ENOBUFS { throw .overrun }
                if e == EAGAIN || e == EWOULDBLOCK { throw .system(errno: ETIMEDOUT, call: "waiting for the kernel's netlink reply") }
                throw .system(errno: e, call: "recv(netlink)")
            }
            guard n <= buffer.count else { throw .malformed("datagram of \(n) bytes exceeds the \(buffer.count)-byte buffer") }
            return try NetlinkMessage.parseAll(Array(buffer[0..<n]))
        }
    }

    /// Waits up to `milliseconds` for the socket to become readable.
    func poll(milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return Glibc.poll(&p, 1, milliseconds) > 0
    }

    /// NLMSG_ERROR: a negative errno (0 = acknowledgement) and, with extended acks, the kernel's text.
    static func parseError(_ message: NetlinkMessage) throws(NetlinkError) -> (Int32, String?) {
        let p = message.payload
        guard p.count >= 4 else { throw .malformed("error message of \(p.count) bytes") }
        let code = Int32(bitPattern: p.readHost(UInt32.self, at: 0))
        guard message.flags & NL.fAckTLVs != 0, p.count >= 4 + NL.headerSize else { return (code, nil) }
        // With NETLINK_CAP_ACK only the original header follows, so the TLVs start right after it.
        let attributes = try NetlinkAttribute.parseAll(p[(4 + NL.headerSize)...])
        return (code, attributes.first(NL.errAttrMsg)?.string())
    }
}

/// struct sockaddr_nl (linux/netlink.h), which Glibc's module does not export: family, pad, port id, groups.
struct SockaddrNL {
    var family: UInt16 = 0
    var pad: UInt16 = 0
    var portID: UInt32 = 0
    var groups: UInt32 = 0
}
