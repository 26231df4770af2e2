#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of the sd_notify protocol (sd_notify(3)): a `NAME=value` assignment.
public struct SystemdState: Sendable, Equatable, CustomStringConvertible {
    /// The assignment as sent, without its newline.
    public let assignment: String

    /// Startup is finished: for `Type=notify`, the unit becomes active.
    public static let ready = SystemdState(assignment: "READY=1")
    /// Shutdown has begun, so systemd shows the unit as deactivating rather than failing.
    public static let stopping = SystemdState(assignment: "STOPPING=1")
    /// A keep-alive for `WatchdogSec=`.
    public static let watchdog = SystemdState(assignment: "WATCHDOG=1")

    /// Free text `systemctl status` shows. One line: a newline would end the assignment early, so any
    /// is replaced by a space.
    public static func status(_ text: String) -> SystemdState {
        SystemdState(assignment: "STATUS=" + text.map { $0.isNewline ? " " : String($0) }.joined())
    }

    public var description: String { assignment }
}

/// Why a notification could not be sent.
public struct SystemdNotifyError: Error, Equatable, CustomStringConvertible {
    public var description: String
}

/// The sender half of sd_notify(3), without libsystemd: a unix datagram socket and one datagram per
/// notification, its assignments separated by newlines. `NOTIFY_SOCKET` names a file system socket
/// (`/run/systemd/notify`) or, starting with `@`, one in the abstract namespace. systemd tells the
/// sender apart by the credentials the kernel attaches, so nothing identifies it in the message.
/// Sending never blocks for long (systemd reads its socket at once) and is safe from any thread.
public final class SystemdNotifier: Sendable {
    /// The socket's name as `NOTIFY_SOCKET` gave it.
    public let socketName: String
    private let fd: Int32
    private let address: sockaddr_un
    private let addressLength: socklen_t

    /// A sender to the socket `name`; throws when the name is not one sd_notify accepts (a vsock
    /// address, a relative path, too long) or no socket can be made.
    public init(socket name: String) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        switch bytes.first {
        case UInt8(ascii: "/"):
            // A path needs its terminating NUL inside sun_path.
            guard bytes.count < capacity else {
                throw SystemdNotifyError(description: "NOTIFY_SOCKET \(name) is longer than the \(capacity - 1) bytes a socket path may have")
            }
        case UInt8(ascii: "@"):
            // An abstract name is the bytes after a leading NUL, exactly as long as the address says.
            bytes[0] = 0
            guard bytes.count <= capacity else {
                throw SystemdNotifyError(description: "NOTIFY_SOCKET \(name) is longer than the \(capacity) bytes an abstract socket name may have")
            }
        default:
            throw SystemdNotifyError(description: "NOTIFY_SOCKET '\(name)' is neither an absolute socket path nor an abstract name starting with '@'")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path.copyBytes(from: bytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        self.addressLength = socklen_t(pathOffset + bytes.count + (bytes[0] == 0 ? 0 : 1))
        self.address = address
        #if canImport(Darwin)
        let type = SOCK_DGRAM
        #else
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #endif
        let fd = socket(AF_UNIX, type, 0)
        guard fd >= 0 else {
            throw SystemdNotifyError(description: "cannot make a unix datagram socket for NOTIFY_SOCKET: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        self.socketName = name
    }

    deinit { close(fd) }

    /// Sends `states` as one datagram, so systemd sees them together (READY with its STATUS).
    public func send(_ states: [SystemdState]) throws {
        let message = Array(states.map { $0.assignment + "\n" }.joined().utf8)
        var address = self.address
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                message.withUnsafeBytes { body in
                    sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL), sockaddrPointer, addressLength)
                }
            }
        }
        guard sent == message.count else {
            let reason = sent < 0 ? String(cString: strerror(errno)) : "sent \(sent) of \(message.count) bytes"
            throw SystemdNotifyError(description: "cannot notify systemd at \(socketName): \(reason)")
        }
    }

    /// Sends one state.
    public func send(_ state: SystemdState) throws { try send([state]) }
}
