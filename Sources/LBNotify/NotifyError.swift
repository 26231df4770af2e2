/// Every failure LBNotify reports: a `code` to branch on and a message for the operator that names the
/// channel, the target, the step and what the other side answered.
public struct NotifyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a comparable value; codes are only ever added, never renamed.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public var description: String { name }

        /// The receiver said no: an SMTP 4xx/5xx answer, an HTTP status that is not 2xx, a script's
        /// non-zero exit.
        public static let refused = Code(name: "refused")
        /// What came back is not the protocol: an SMTP reply that does not parse.
        public static let malformedReply = Code(name: "malformed_reply")
        /// No connection, a connection lost, a TLS handshake that failed, a program that would not start.
        public static let unreachable = Code(name: "unreachable")
        /// The whole exchange took longer than its budget.
        public static let timedOut = Code(name: "timed_out")
        /// A target that cannot be used as written: an address with a line break, a URL that does not parse.
        public static let invalidTarget = Code(name: "invalid_target")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// Text from the other side (a server's answer, a script's output) made safe for one log line: control
/// characters escaped, cut at `limit` characters.
func printable(_ text: String, limit: Int = 300) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        if out.unicodeScalars.count >= limit {
            out += "…"
            break
        }
        if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
            out += scalar == "\t" ? " " : "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}
