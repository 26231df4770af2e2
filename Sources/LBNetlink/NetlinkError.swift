#if canImport(Glibc)
import Glibc
#endif

/// Everything that goes wrong talking to the kernel, in words an operator can act on.
public enum NetlinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kernel refused a request: errno, the kernel's extended-ack text if any, and what was asked.
    case kernel(errno: Int32, message: String?, request: String)
    /// A reply could not be parsed.
    case malformed(String)
    /// Socket-level failure (open, bind, send, receive).
    case system(errno: Int32, call: String)
    /// A generic netlink family is not registered, usually because its module is not loaded.
    case familyNotFound(String)
    /// The receive buffer overflowed and events or replies were lost.
    case overrun

    public var description: String {
        switch self {
        case .kernel(let errno, let message, let request):
            let text = message.map { "\($0) (\(Self.errnoText(errno)))" } ?? Self.errnoText(errno)
            return "\(request): \(text)"
        case .malformed(let detail): return "malformed netlink reply: \(detail)"
        case .system(let errno, let call): return "\(call) failed: \(Self.errnoText(errno))"
        case .familyNotFound(let name):
            return name == IPVSABI.familyName
                ? "IPVS is not available: the ip_vs module is not loaded (modprobe ip_vs), or this kernel has no IPVS"
                : "generic netlink family \(name) is not available"
        case .overrun: return "netlink receive buffer overrun: messages were lost"
        }
    }

    public var errno: Int32? {
        switch self {
        case .kernel(let e, _, _), .system(let e, _): return e
        default: return nil
        }
    }

    public static func errnoText(_ e: Int32) -> String {
        #if canImport(Glibc)
        return String(cString: strerror(e)) + " (errno \(e))"
        #else
        return "errno \(e)"
        #endif
    }
}
