import LBSpec
import NIOHTTP1
import NIOWebSocket

/// One HTTP/1.1 request of a probe and how the head of its answer is judged: an `http` GET or a
/// `websocket` upgrade. A value, so the judging is tested without sockets.
struct HTTPExchange: Sendable {
    /// What the answer's head must show.
    enum Expectation: Sendable, Equatable {
        /// `http`: exactly this status.
        case status(Int)
        /// `websocket`: this status (101 unless the spec says otherwise) and the RFC 6455 §4.2.2 headers,
        /// `Sec-WebSocket-Accept` computed from `key`.
        case upgrade(status: Int, key: String)
    }

    var request: HTTPRequestHead
    var expectation: Expectation

    /// Whether a passing answer is followed by a WebSocket close frame, so the server sees a clean goodbye.
    var closesWebSocket: Bool {
        if case .upgrade = expectation { return true }
        return false
    }

    /// `GET path` with `Connection: close`: one request per connection, as keepalived's HTTP_GET.
    static func get(_ check: HealthCheck, address: IPAddress, port: Int) -> HTTPExchange {
        var head = baseRequest(check, address: address, port: port)
        head.headers.add(name: "Connection", value: "close")
        return HTTPExchange(request: head, expectation: .status(check.expectStatus))
    }

    /// An HTTP/1.1 upgrade of `path` with a fresh random 16-byte key (RFC 6455 §4.1), so that a server or a
    /// cache replaying an old answer cannot pass.
    static func upgrade(_ check: HealthCheck, address: IPAddress, port: Int,
                        key: String = NIOWebSocketClientUpgrader.randomRequestKey()) -> HTTPExchange {
        var head = baseRequest(check, address: address, port: port)
        head.headers.add(name: "Connection", value: "Upgrade")
        head.headers.add(name: "Upgrade", value: "websocket")
        head.headers.add(name: "Sec-WebSocket-Key", value: key)
        head.headers.add(name: "Sec-WebSocket-Version", value: "13")
        return HTTPExchange(request: head, expectation: .upgrade(status: check.expectStatus, key: key))
    }

    /// `check.host` as written (keepalived's `virtualhost` is sent verbatim too), else the address, IPv6 in
    /// brackets, with `:port` unless it is 80 (RFC 9110 §7.2).
    static func hostHeader(_ check: HealthCheck, address: IPAddress, port: Int) -> String {
        if let host = check.host { return host }
        let name = address.family == .ipv6 ? "[\(address)]" : "\(address)"
        return port == 80 ? name : "\(name):\(port)"
    }

    /// Why the request cannot be sent at all, or nil. Spaces or control characters in the path would split
    /// the request line, and CR or LF in the Host header would add header lines of its own.
    static func unsendable(_ check: HealthCheck) -> String? {
        if !check.path.hasPrefix("/") { return "path \"\(check.path)\" does not start with /" }
        if check.path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            return "path contains spaces or control characters"
        }
        if let host = check.host, host.isEmpty || host.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            return "host header is empty or contains control characters"
        }
        return nil
    }

    /// The verdict on the head of the answer; the body is never needed.
    func judge(_ head: HTTPResponseHead) -> ProbeResult.Outcome {
        let code = Int(head.status.code)
        switch expectation {
        case .status(let expected):
            return code == expected ? .success : .failure("HTTP \(code) (expected \(expected))")
        case .upgrade(let expected, let key):
            guard code == expected else { return .failure("answered \(code) instead of \(expected)") }
            guard Self.hasToken("websocket", in: head.headers[canonicalForm: "Upgrade"]) else {
                return .failure("no Upgrade: websocket header")
            }
            guard Self.hasToken("upgrade", in: head.headers[canonicalForm: "Connection"]) else {
                return .failure("no Connection: Upgrade header")
            }
            let accept = head.headers["Sec-WebSocket-Accept"]
            guard !accept.isEmpty else { return .failure("no Sec-WebSocket-Accept header") }
            // NIO's own client upgrader holds the RFC 6455 check (base64 of SHA-1 of key + GUID, exactly one
            // header); its SHA-1 is internal, and this keeps swift-crypto out of the agent.
            let verifier = NIOWebSocketClientUpgrader(requestKey: key) { channel, _ in
                channel.eventLoop.makeSucceededVoidFuture()
            }
            guard verifier.shouldAllowUpgrade(upgradeResponse: head) else {
                return .failure("Sec-WebSocket-Accept does not match the key")
            }
            return .success
        }
    }

    private static func baseRequest(_ check: HealthCheck, address: IPAddress, port: Int) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: check.path)
        head.headers.add(name: "Host", value: hostHeader(check, address: address, port: port))
        head.headers.add(name: "User-Agent", value: "lb-agent")
        return head
    }

    /// Header tokens compare case-insensitively (RFC 9110 §7.8 for Upgrade, §7.6.1 for Connection).
    private static func hasToken(_ token: String, in values: [Substring]) -> Bool {
        values.contains { $0.lowercased() == token }
    }
}
