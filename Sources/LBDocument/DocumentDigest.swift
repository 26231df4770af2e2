import LBCrypto

/// "sha256:" followed by 64 lowercase hex digits: SHA-256 over a document's payload bytes exactly as
/// they were signed (not over a re-encoding, which could differ).
public struct DocumentDigest: Hashable, Sendable, Codable, LosslessStringConvertible {
    public static let prefix = "sha256:"

    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// The digest of `payload`.
    public init(payload: [UInt8]) {
        bytes = SHA256.hash(payload)
    }

    /// Parses the text form; only lowercase hex is accepted, so each digest has one spelling.
    public init?(_ description: String) {
        guard description.hasPrefix(Self.prefix) else { return nil }
        let hex = description.dropFirst(Self.prefix.count)
        guard hex.utf8.count == SHA256.byteCount * 2,
              hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
              let bytes = try? Hex.decode(String(hex))
        else { return nil }
        self.bytes = bytes
    }

    public var description: String { Self.prefix + Hex.encode(bytes) }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let digest = DocumentDigest(text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "'\(text)' is not sha256:<64 lowercase hex digits>"))
        }
        self = digest
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
