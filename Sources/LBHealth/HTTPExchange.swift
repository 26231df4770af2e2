import Crypto
import LBSpec
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// One HTTP/1.1 request of a probe and how its answer is judged: an `http` or `https` GET of one URL or a
/// `websocket` upgrade. A value, so the judging is tested without sockets.
struct HTTPExchange: Sendable {
    /// What the answer must show.
    enum Expectation: Sendable, Equatable {
        /// `http`, `https`: a status in these ranges and, when set, this MD5 of the body (lower-case hex).
        case status([ClosedRange<Int>], digest: String?)
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

    /// Whether the verdict waits for the body: only a digest needs it.
    var readsBody: Bool {
        if case .status(_, digest: .some) = expectation { return true }
        return false
    }

    /// The GET of the check's first URL (`path` and `expect_status` in the short form).
    static func get(_ check: HealthCheck, address: IPAddress, port: Int) -> HTTPExchange {
        get(check, url: check.fetches[0], address: address, port: port)
    }

    /// `GET path` with `Connection: close`: one request per connection, as keepalived's HTTP_GET.
    static func get(_ check: HealthCheck, url: HTTPURLCheck, address: IPAddress, port: Int) -> HTTPExchange {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.path)
        head.headers.add(name: "Host", value: url.host ?? hostHeader(check, address: address, port: port))
        head.headers.add(name: "User-Agent", value: "lb-agent")
        head.headers.add(name: "Connection", value: "close")
        return HTTPExchange(request: head, expectation: .status(url.status, digest: url.digest?.lowercased()))
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
        let paths = check.kind == .websocket ? [check.path] : check.fetches.map(\.path)
        for path in paths {
            if !path.hasPrefix("/") { return "path \"\(path)\" does not start with /" }
            if path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
                return "path contains spaces or control characters"
            }
        }
        for host in [check.host] + check.urls.map(\.host) {
            if let host, host.isEmpty || host.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                return "host header is empty or contains control characters"
            }
        }
        return nil
    }

    /// The verdict on the head of the answer. A success of an exchange that `readsBody` is provisional:
    /// the body's digest decides (`judge(bodyDigest:)`).
    func judge(_ head: HTTPResponseHead) -> ProbeResult.Outcome {
        let code = Int(head.status.code)
        switch expectation {
        case .status(let accepted, _):
            guard accepted.contains(where: { $0.contains(code) }) else {
                return .failure("HTTP \(code) (expected \(HTTPURLCheck(path: "/", status: accepted).statusText))")
            }
            return .success
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

    /// The verdict on the body's MD5, as keepalived's digest compares it.
    func judge(bodyDigest: Insecure.MD5Digest) -> ProbeResult.Outcome {
        guard case .status(_, digest: let expected?) = expectation else { return .success }
        let got = bodyDigest.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
        return got == expected ? .success : .failure("body digest \(got) (expected \(expected))")
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
