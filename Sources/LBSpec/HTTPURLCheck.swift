/// One URL an http or https check fetches: keepalived's `url { path; status_code; digest; virtualhost }`.
public struct HTTPURLCheck: Codable, Sendable, Equatable {
    public var path: String
    /// The statuses that pass, as inclusive ranges (`200` is 200...200); keepalived's default is any 2xx.
    public var status: [ClosedRange<Int>]
    /// The MD5 of the body, 32 lower-case hex digits; nil: the body is not read.
    public var digest: String?
    /// This URL's Host header (and TLS server name); nil takes the check's `host`.
    public var host: String?

    public static let defaultStatus = [200...299]

    public init(path: String, status: [ClosedRange<Int>] = HTTPURLCheck.defaultStatus, digest: String? = nil, host: String? = nil) {
        self.path = path
        self.status = status
        self.digest = digest
        self.host = host
    }

    public func accepts(_ code: Int) -> Bool { status.contains { $0.contains(code) } }

    /// `200-299 301`, keepalived's and the spec's way of writing `status`.
    public var statusText: String {
        status.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: " ")
    }

    /// `200`, `200-299`: one code or an inclusive range of codes; nil for anything else.
    public static func statusRange(_ text: Substring) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let ends = parts.compactMap { $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) ? Int($0) : nil }
        guard ends.count == parts.count, ends.count >= 1, ends[0] <= ends[ends.count - 1] else { return nil }
        return ends[0]...ends[ends.count - 1]
    }
}

extension HealthCheck {
    /// What an http or https check fetches, in order: `urls`, or the one URL `path` and `expectStatus` say.
    public var fetches: [HTTPURLCheck] {
        urls.isEmpty ? [HTTPURLCheck(path: path, status: [expectStatus...expectStatus])] : urls
    }

    /// Whether the check speaks HTTP requests of `path` or `urls` (http, https, websocket).
    public var isHTTP: Bool { kind == .http || kind == .https || kind == .websocket }
}

// The keys added for keepalived's checkers are written only when set, and optional when read: a spec that
// does not use them has the JSON it had before they existed, so documents signed then decode and keep their digest.
extension HealthCheck: Codable {
    enum CodingKeys: String, CodingKey {
        case kind, port, path, expectStatus, host, command, intervalMilliseconds, connectTimeoutMilliseconds, retries
        case retryDelayMilliseconds, urls, sni, verifyCertificate, caFile, dynamicWeight
        case payload, requireReply, reply, minReplyLength, maxReplyLength, queryType, queryName, heloName
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(Kind.self, forKey: .kind)
        port = try c.decodeIfPresent(Int.self, forKey: .port)
        path = try c.decode(String.self, forKey: .path)
        expectStatus = try c.decode(Int.self, forKey: .expectStatus)
        host = try c.decodeIfPresent(String.self, forKey: .host)
        command = try c.decodeIfPresent(String.self, forKey: .command)
        intervalMilliseconds = try c.decode(Int.self, forKey: .intervalMilliseconds)
        connectTimeoutMilliseconds = try c.decode(Int.self, forKey: .connectTimeoutMilliseconds)
        retries = try c.decode(Int.self, forKey: .retries)
        retryDelayMilliseconds = try c.decode(Int.self, forKey: .retryDelayMilliseconds)
        urls = try c.decodeIfPresent([HTTPURLCheck].self, forKey: .urls) ?? []
        sni = try c.decodeIfPresent(Bool.self, forKey: .sni) ?? false
        verifyCertificate = try c.decodeIfPresent(Bool.self, forKey: .verifyCertificate) ?? false
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        dynamicWeight = try c.decodeIfPresent(Bool.self, forKey: .dynamicWeight) ?? false
        payload = try c.decodeIfPresent(String.self, forKey: .payload)
        requireReply = try c.decodeIfPresent(Bool.self, forKey: .requireReply) ?? false
        reply = try c.decodeIfPresent(String.self, forKey: .reply)
        minReplyLength = try c.decodeIfPresent(Int.self, forKey: .minReplyLength)
        maxReplyLength = try c.decodeIfPresent(Int.self, forKey: .maxReplyLength)
        queryType = try c.decodeIfPresent(String.self, forKey: .queryType)
        queryName = try c.decodeIfPresent(String.self, forKey: .queryName)
        heloName = try c.decodeIfPresent(String.self, forKey: .heloName)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encodeIfPresent(port, forKey: .port)
        try c.encode(path, forKey: .path)
        try c.encode(expectStatus, forKey: .expectStatus)
        try c.encodeIfPresent(host, forKey: .host)
        try c.encodeIfPresent(command, forKey: .command)
        try c.encode(intervalMilliseconds, forKey: .intervalMilliseconds)
        try c.encode(connectTimeoutMilliseconds, forKey: .connectTimeoutMilliseconds)
        try c.encode(retries, forKey: .retries)
        try c.encode(retryDelayMilliseconds, forKey: .retryDelayMilliseconds)
        if !urls.isEmpty { try c.encode(urls, forKey: .urls) }
        if sni { try c.encode(true, forKey: .sni) }
        if verifyCertificate { try c.encode(true, forKey: .verifyCertificate) }
        try c.encodeIfPresent(caFile, forKey: .caFile)
        if dynamicWeight { try c.encode(true, forKey: .dynamicWeight) }
        try c.encodeIfPresent(payload, forKey: .payload)
        if requireReply { try c.encode(true, forKey: .requireReply) }
        try c.encodeIfPresent(reply, forKey: .reply)
        try c.encodeIfPresent(minReplyLength, forKey: .minReplyLength)
        try c.encodeIfPresent(maxReplyLength, forKey: .maxReplyLength)
        try c.encodeIfPresent(queryType, forKey: .queryType)
        try c.encodeIfPresent(queryName, forKey: .queryName)
        try c.encodeIfPresent(heloName, forKey: .heloName)
    }
}
