import AsyncHTTPClient
import LBClusterView
import LBCrypto
import NIOCore
import NIOHTTP1

/// Where one webhook goes and how it is signed.
public struct WebhookTarget: Sendable {
    /// Default of `retries`, as `notifications.webhook.retries`'s.
    public static let defaultRetries = 5

    /// An `http://` or `https://` URL.
    public var url: String
    /// The HMAC-SHA256 key of `X-LB-Signature`; nil sends no signature.
    public var secret: SecretBytes?
    /// Further attempts after a failed one.
    public var retries: Int

    public init(url: String, secret: SecretBytes? = nil, retries: Int = WebhookTarget.defaultRetries) {
        self.url = url
        self.secret = secret
        self.retries = retries
    }

    /// The controller configuration's webhook: the secret read from `secretFile` now (raw bytes less a
    /// trailing newline, refused when group or others may read it: `HMACSHA256.readKey`).
    public init(url: String, secretFile: String, retries: Int) throws {
        self.init(url: url, secret: try HMACSHA256.readKey(at: secretFile), retries: retries)
    }

    /// The URL for logs and errors: scheme, host and port only, since paths and queries often hold the
    /// receiver's token (`https://hooks.example.com/…`).
    public var redacted: String {
        guard let scheme = url.range(of: "://") else { return "(a webhook URL)" }
        var authority = url[scheme.upperBound...].prefix { !"/?#".contains($0) }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let rest = url[scheme.upperBound...].dropFirst(url[scheme.upperBound...].prefix { !"/?#".contains($0) }.count)
        return String(url[..<scheme.upperBound]) + authority + (rest.isEmpty || rest == "/" ? rest : "/…")
    }
}

/// When to try a delivery again: exponential backoff from `base`, doubling, capped at `cap`, each delay
/// drawn between half and all of its step (jitter, so receivers that come back are not hit by every
/// sender at once).
public struct RetryPolicy: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration
    /// Time one attempt may take, from connecting to the end of the answer's head.
    public var attemptTimeout: Duration

    public init(base: Duration = .milliseconds(500), cap: Duration = .seconds(30), attemptTimeout: Duration = .seconds(10)) {
        self.base = base
        self.cap = cap
        self.attemptTimeout = attemptTimeout
    }

    /// The wait after failed attempt `attempt` (1 for the first), `unit` in 0..<1 choosing within the jitter.
    public func delay(after attempt: Int, unit: Double) -> Duration {
        var step = base
        for _ in 1..<max(attempt, 1) where step < cap { step *= 2 }
        step = min(step, cap)
        return step * (0.5 + 0.5 * min(max(unit, 0), 1))
    }

    /// What a status means: 2xx delivered; 408 and 429 (the receiver asks for later) and 5xx tried again;
    /// any other answer, 3xx included (redirects are not followed), is the receiver refusing it.
    public static func verdict(status: Int) -> Verdict {
        switch status {
        case 200..<300: .delivered
        case 408, 429, 500..<600: .retry
        default: .refused
        }
    }

    /// What one attempt's answer means for the delivery.
    public enum Verdict: Sendable, Equatable {
        case delivered
        case retry
        case refused
    }
}

/// What one webhook delivery did.
public struct WebhookReceipt: Sendable, Equatable {
    /// The status of the answer that delivered it.
    public var status: Int
    /// 1 for the first try.
    public var attempts: Int

    public init(status: Int, attempts: Int) {
        self.status = status
        self.attempts = attempts
    }
}

/// POSTs each event as JSON (`NotificationBody`) to one URL with AsyncHTTPClient, signed when the target
/// has a secret, and tries again by `RetryPolicy`.
///
/// Headers: `Content-Type: application/json`, `X-LB-Event: KIND`, `X-LB-Delivery: EVENT-ID` (the same on
/// every attempt, so a receiver can drop repeats; `u` and random hex for an event the history has not
/// numbered), `X-LB-Attempt: N`, and with a secret
/// `X-LB-Signature: sha256=HEX`, the HMAC-SHA256 of the body's exact bytes.
public struct WebhookNotifier: Sendable {
    public let target: WebhookTarget
    public let cluster: String
    public let policy: RetryPolicy
    private let client: HTTPClient

    /// `client` is the caller's, and stays open; it should not follow redirects (`makeClient()`).
    public init(target: WebhookTarget, cluster: String, client: HTTPClient, policy: RetryPolicy = RetryPolicy()) {
        self.target = target
        self.cluster = cluster
        self.client = client
        self.policy = policy
    }

    /// A client for webhooks: no redirects (a POST's body and signature go only where configured),
    /// connections kept for a minute. The caller shuts it down.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(10)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Delivers `event`, trying again while the receiver cannot take it, up to `target.retries` more times.
    @discardableResult
    public func deliver(_ event: ClusterEvent) async throws -> WebhookReceipt {
        let body = NotificationBody(event: event, cluster: cluster).json()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "User-Agent", value: "lb-controller")
        headers.add(name: "X-LB-Event", value: event.kind)
        // The history's id names the event; one not stored yet (id 0) gets a random name, so that receivers
        // dropping repeats do not drop it as a repeat of another unstored one.
        headers.add(name: "X-LB-Delivery", value: event.id != 0 ? String(event.id) : "u" + Hex.encode(SecureRandom.bytes(count: 8)))
        if let secret = target.secret {
            headers.add(name: "X-LB-Signature", value: "sha256=" + Hex.encode(HMACSHA256.authenticationCode(for: body, key: secret)))
        }
        let attempts = 1 + max(target.retries, 0)
        var lastProblem = ""
        for attempt in 1...attempts {
            if attempt > 1 {
                try await Task.sleep(for: policy.delay(after: attempt - 1, unit: Double.random(in: 0..<1)))
            }
            var request = HTTPClientRequest(url: target.url)
            request.method = .POST
            request.headers = headers
            request.headers.add(name: "X-LB-Attempt", value: String(attempt))
            request.body = .bytes(ByteBuffer(bytes: body))
            let status: Int
            do {
                let response = try await client.execute(request, timeout: .init(policy.attemptTimeout))
                status = Int(response.status.code)
                lastProblem = "answered \(response.status.code) \(printable(response.status.reasonPhrase))"
                    + (try await Self.snippet(of: response.body))
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as HTTPClientError where Self.isUnusable(error) {
                throw NotifyError(.invalidTarget, "webhook \(target.redacted): the URL cannot be used: \(error)")
            } catch {
                lastProblem = Self.describe(error)
                if Task.isCancelled { throw CancellationError() }
                continue
            }
            switch RetryPolicy.verdict(status: status) {
            case .delivered:
                return WebhookReceipt(status: status, attempts: attempt)
            case .refused:
                throw NotifyError(.refused, "webhook \(target.redacted): \(lastProblem)"
                                  + (attempt > 1 ? " on attempt \(attempt)" : "") + "; not tried again")
            case .retry:
                continue
            }
        }
        let code: NotifyError.Code = lastProblem.hasPrefix("answered") ? .refused : .unreachable
        throw NotifyError(code, "webhook \(target.redacted): \(lastProblem)" + (attempts > 1 ? " (\(attempts) attempts)" : ""))
    }

    /// The start of an answer's body, for the operator: `: {"error": …}`, or nothing when it is empty.
    /// Reads at most a little more than it keeps.
    static func snippet(of body: HTTPClientResponse.Body) async throws -> String {
        var kept: [UInt8] = []
        for try await chunk in body {
            kept += chunk.readableBytesView.prefix(200 - kept.count)
            if kept.count >= 200 { break }
        }
        let text = String(decoding: kept, as: UTF8.self).trimmingSpaces()
        return text.isEmpty ? "" : ": " + printable(text, limit: 160)
    }

    /// A URL that no attempt can fix.
    static func isUnusable(_ error: HTTPClientError) -> Bool {
        [.invalidURL, .emptyHost, .emptyScheme].contains(error) || "\(error)".contains("unsupportedScheme")
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            "no answer in time (\(error))"
        default:
            printable("\(error)")
        }
    }
}
