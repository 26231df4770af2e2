/// Why a `request` failed; `send` never throws and counts the same causes in `Counters.sendFailed`.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The address is not a numeric "ipv4:port" or "[ipv6]:port".
    case invalidAddress(String)
    /// The transport was shut down before or while the request ran.
    case shutDown
    /// No answer arrived within the timeout.
    case timedOut
    /// The connection could not be made or broke while writing; the text is the system's reason.
    case connectionFailed(String)
    /// The peer closed the stream without answering (its handler returned nil, or it could not open our frame).
    case closedWithoutReply
    /// The answer did not open under the keyring, or was not a response frame.
    case badReply

    /// A sentence for logs.
    public var description: String {
        switch self {
        case .invalidAddress(let text): "not a numeric host:port address: \(text)"
        case .shutDown: "the transport is shut down"
        case .timedOut: "no reply before the timeout"
        case .connectionFailed(let reason): "connection failed: \(reason)"
        case .closedWithoutReply: "the peer closed the stream without replying"
        case .badReply: "the reply did not open under the keyring or was not a response"
        }
    }
}
