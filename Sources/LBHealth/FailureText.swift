#if canImport(Glibc)
import Glibc
#endif

/// Failure reasons in an operator's words, shared by the probes so the same cause reads the same everywhere.
enum FailureText {
    /// "timed out after 3s", "timed out after 1.5s", "timed out after 250ms".
    static func timedOut(after budget: Duration, _ phase: String? = nil) -> String {
        "timed out after \(duration(budget))" + (phase.map { " \($0)" } ?? "")
    }

    /// 3000 ms → "3s", 1500 ms → "1.5s", 250 ms → "250ms": the way durations are written in a spec.
    static func duration(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        var fraction = String(milliseconds % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(milliseconds / 1000).\(fraction)s"
    }

    /// A socket errno as a lower-case phrase: "connection refused", "no route to host".
    static func errno(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case EHOSTUNREACH: return "no route to host"
        case ENETUNREACH: return "network unreachable"
        case ECONNRESET: return "connection reset"
        case ETIMEDOUT: return "connect timed out (kernel)"
        case EADDRNOTAVAIL: return "no local address for this destination"
        case EPIPE: return "connection closed while sending the request"
        case EACCES, EPERM: return "connect not permitted (firewall or route)"
        case EINVAL: return "invalid destination (blackhole route?)"
        default:
            guard let text = strerror(code) else { return "error \(code)" }
            return String(cString: text).lowercased() + " (errno \(code))"
        }
    }
}
