#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LBCrypto
import LBSpec

/// The signed unit of desired state: a validated spec plus the cluster it is for, a version that only
/// grows, the digest of the previous version, and when it was issued (and optionally when it expires).
///
/// The payload is JSON from `SpecJSON.encoder` (snake_case keys, sorted) with dates as ISO-8601 UTC
/// strings to the second ("2025-11-25T13:14:00Z"); dates are truncated to whole seconds on creation so
/// a document survives a round trip unchanged. See docs/documents.md.
public struct DesiredStateDocument: Sendable, Equatable, Codable {
    /// The DSSE payload type; a different schema gets a different version parameter.
    public static let payloadType = "application/vnd.lb.desired-state+json;version=1"
    /// The largest envelope JSON this module reads: far above any real cluster, far below harm.
    public static let maximumEnvelopeBytes = 16 << 20

    /// Always `spec.cluster`; stored separately so a reader can route a document without the spec.
    public private(set) var cluster: String
    /// Starts at 1 and grows by one per document; rollback is a new version with old content.
    public var version: UInt64
    /// The digest of the previous version's payload; nil for the first document.
    public var previousDigest: DocumentDigest?
    /// Whole seconds; a fraction is dropped on assignment, as the payload could not carry it.
    public var issuedAt: Date {
        didSet { issuedAt = DocumentTime.truncated(issuedAt) }
    }
    /// After this instant agents refuse the document; nil means it never expires. Whole seconds.
    public var expiresAt: Date? {
        didSet { expiresAt = expiresAt.map(DocumentTime.truncated) }
    }
    /// The validated spec; setting it also sets `cluster`.
    public var spec: ClusterSpec {
        didSet { cluster = spec.cluster }
    }

    public init(spec: ClusterSpec, version: UInt64, previousDigest: DocumentDigest? = nil,
                issuedAt: Date, expiresAt: Date? = nil) {
        self.cluster = spec.cluster
        self.version = version
        self.previousDigest = previousDigest
        self.issuedAt = DocumentTime.truncated(issuedAt)
        self.expiresAt = expiresAt.map(DocumentTime.truncated)
        self.spec = spec
    }

    /// The payload bytes to sign. Encoding is deterministic, so one document gives one payload.
    /// Throws `.malformed` for a document agents would refuse anyway (version 0, expiry before issue).
    public func payload() throws -> [UInt8] {
        try checkConsistency()
        return try Array(SpecJSON.encoder(pretty: false).encode(self))
    }

    /// The digest of `payload()`.
    public func digest() throws -> DocumentDigest {
        try DocumentDigest(payload: payload())
    }

    /// Signs the payload with each key. Throws `.malformed` when the payload would not decode back to
    /// this very document (so no agent would see what the operator meant), CryptoError when `keys` is
    /// empty.
    public func signed(by keys: [SigningKey]) throws -> Envelope {
        let payload = try payload()
        guard try Self.decode(payload: payload) == self else {
            throw DocumentRejection.malformed("the payload does not decode back to the same document; some spec field does not survive its JSON form")
        }
        return try Envelope.sign(payload: payload, payloadType: Self.payloadType, keys: keys)
    }

    /// The next version, carrying `spec` and pointing back at this document. For a document that came
    /// out of an envelope, prefer `VerifiedDocument.successor`, which uses the digest of the bytes that
    /// were actually signed.
    public func successor(spec: ClusterSpec, issuedAt: Date, expiresAt: Date? = nil) throws -> DesiredStateDocument {
        try Self.successor(of: version, digest: digest(), spec: spec, issuedAt: issuedAt, expiresAt: expiresAt)
    }

    static func successor(of version: UInt64, digest: DocumentDigest, spec: ClusterSpec,
                          issuedAt: Date, expiresAt: Date?) throws -> DesiredStateDocument {
        guard version < UInt64.max else {
            throw DocumentRejection.malformed("version \(version) cannot grow any further")
        }
        return DesiredStateDocument(spec: spec, version: version + 1, previousDigest: digest,
                                    issuedAt: issuedAt, expiresAt: expiresAt)
    }

    /// Decodes and checks a payload that has already passed signature verification.
    static func decode(payload: [UInt8]) throws(DocumentRejection) -> DesiredStateDocument {
        let document: DesiredStateDocument
        do {
            document = try SpecJSON.decoder().decode(DesiredStateDocument.self, from: Data(payload))
        } catch let error as DecodingError {
            throw .malformed("payload: \(DecodingErrorText.describe(error))")
        } catch {
            throw .malformed("payload: \(error)")
        }
        try document.checkConsistency()
        return document
    }

    private enum CodingKeys: String, CodingKey {
        case cluster, version, previousDigest, issuedAt, expiresAt, spec
    }

    // Written by hand so the date format belongs to the document, not to whichever encoder is used.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cluster = try container.decode(String.self, forKey: .cluster)
        version = try container.decode(UInt64.self, forKey: .version)
        previousDigest = try container.decodeIfPresent(DocumentDigest.self, forKey: .previousDigest)
        issuedAt = try DocumentTime.decode(from: container, forKey: .issuedAt)
        expiresAt = try container.contains(.expiresAt) ? DocumentTime.decode(from: container, forKey: .expiresAt) : nil
        spec = try container.decode(ClusterSpec.self, forKey: .spec)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cluster, forKey: .cluster)
        try container.encode(version, forKey: .version)
        try container.encodeIfPresent(previousDigest, forKey: .previousDigest)
        try container.encode(DocumentTime.format(issuedAt), forKey: .issuedAt)
        try container.encodeIfPresent(expiresAt.map(DocumentTime.format), forKey: .expiresAt)
        try container.encode(spec, forKey: .spec)
    }

    private func checkConsistency() throws(DocumentRejection) {
        guard version >= 1 else { throw .malformed("version must be at least 1, got 0") }
        guard cluster == spec.cluster else {
            throw .malformed("cluster '\(cluster)' differs from the spec's cluster '\(spec.cluster)'")
        }
        if let expiresAt, expiresAt <= issuedAt {
            throw .malformed("expires_at \(DocumentTime.format(expiresAt)) is not after issued_at \(DocumentTime.format(issuedAt))")
        }
    }
}

/// How documents write instants: ISO-8601 in UTC to the second, "2025-11-25T13:14:00Z".
enum DocumentTime {
    static func truncated(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }

    static func format(_ date: Date) -> String {
        Date.ISO8601FormatStyle().format(date)
    }

    static func decode<Key: CodingKey>(from container: KeyedDecodingContainer<Key>, forKey key: Key) throws -> Date {
        let text = try container.decode(String.self, forKey: key)
        // The parser is lenient (fractions, offsets); requiring the text to be exactly what format()
        // writes keeps one spelling per instant, as docs/documents.md promises.
        guard let date = try? Date.ISO8601FormatStyle().parse(text), format(date) == text else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "'\(text)' is not a UTC time like 2025-11-25T13:14:00Z")
        }
        return date
    }
}

/// Readable one-line descriptions of JSONDecoder failures, naming fields as they appear in the JSON.
enum DecodingErrorText {
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context): "missing field '\(path(context.codingPath + [key]))'"
        case .valueNotFound(_, let context): context.codingPath.isEmpty
            ? "not a JSON object" : "field '\(path(context.codingPath))' is null"
        case .typeMismatch(_, let context): context.codingPath.isEmpty
            ? "not a JSON object" : "field '\(path(context.codingPath))' has the wrong type"
        case .dataCorrupted(let context): context.codingPath.isEmpty
            ? "not valid JSON" : "field '\(path(context.codingPath))' is invalid: \(context.debugDescription)"
        @unknown default: "undecodable"
        }
    }

    // The decoder reports keys after converting them from snake_case; convert back so the name matches
    // the JSON the operator sees.
    private static func path(_ keys: [CodingKey]) -> String {
        let joined = keys.map { $0.intValue.map { "[\($0)]" } ?? "." + snakeCase($0.stringValue) }.joined()
        return joined.hasPrefix(".") ? String(joined.dropFirst()) : joined
    }

    /// The inverse of convertFromSnakeCase for ordinary names: "issuedAt" → "issued_at", "syncID" → "sync_id".
    static func snakeCase(_ name: String) -> String {
        let chars = Array(name)
        var out = ""
        for (index, char) in chars.enumerated() {
            if char.isUppercase, index > 0 {
                let previousIsLower = chars[index - 1].isLowercase || chars[index - 1].isNumber
                let nextIsLower = index + 1 < chars.count && chars[index + 1].isLowercase
                if previousIsLower || (chars[index - 1].isUppercase && nextIsLower) { out += "_" }
            }
            out += char.lowercased()
        }
        return out
    }
}
