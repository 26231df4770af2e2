#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Envelope {
    /// The largest envelope JSON `init(json:)` reads unless told otherwise.
    public static let defaultMaximumJSONBytes = 16 << 20
    /// More signatures than this make an envelope malformed: each costs up to one verification per
    /// trusted key, so the count must be bounded before any is checked.
    public static let maximumSignatures = 32

    /// Decodes the DSSE JSON form strictly: fields `payload`, `payloadType` and `signatures` (each with
    /// `sig` and optional `keyid`) are required, base64 must be valid (standard or URL-safe), and at
    /// least one signature must be present. Unknown fields are ignored, as the DSSE spec allows.
    public init(json: [UInt8], maximumBytes: Int = Envelope.defaultMaximumJSONBytes) throws {
        guard json.count <= maximumBytes else {
            throw Self.malformed("envelope is \(json.count) bytes, over the limit of \(maximumBytes)")
        }
        let wire: WireEnvelope
        do {
            wire = try JSONDecoder().decode(WireEnvelope.self, from: Data(json))
        } catch let error as DecodingError {
            throw Self.malformed(Self.describe(error))
        } catch {
            throw Self.malformed("not valid JSON")
        }
        try self.init(wire: wire)
    }

    private init(wire: WireEnvelope) throws {
        guard !wire.signatures.isEmpty else { throw Self.malformed("envelope has no signatures") }
        guard wire.signatures.count <= Self.maximumSignatures else {
            throw Self.malformed("envelope has \(wire.signatures.count) signatures, over the limit of \(Self.maximumSignatures)")
        }
        let payload = try Self.base64(wire.payload, field: "payload")
        let signatures = try wire.signatures.enumerated().map { index, signature in
            Signature(keyID: signature.keyid, bytes: try Self.base64(signature.sig, field: "signatures[\(index)].sig"))
        }
        self.init(payloadType: wire.payloadType, payload: payload, signatures: signatures)
    }

    /// The DSSE JSON form with sorted keys and standard base64, so equal envelopes give equal bytes.
    public func jsonEncoded(pretty: Bool = false) -> [UInt8] {
        let wire = WireEnvelope(
            payload: Base64.encode(payload), payloadType: payloadType,
            signatures: signatures.map { WireSignature(keyid: $0.keyID, sig: Base64.encode($0.bytes)) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                                          : [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try Array(encoder.encode(wire))
        } catch {
            preconditionFailure("encoding strings and arrays as JSON cannot fail: \(error)")
        }
    }

    private static func base64(_ text: String, field: String) throws -> [UInt8] {
        do {
            return try Base64.decode(text)
        } catch {
            throw malformed("field '\(field)' is not valid base64")
        }
    }

    private static func malformed(_ detail: String) -> CryptoError {
        CryptoError(.malformedEnvelope, "malformed DSSE envelope: \(detail)")
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [CodingKey], _ last: CodingKey? = nil) -> String {
            let keys = codingPath + (last.map { [$0] } ?? [])
            let rendered = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return rendered.hasPrefix(".") ? String(rendered.dropFirst()) : rendered
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field '\(path(context.codingPath, key))'"
        case .valueNotFound(_, let context):
            return context.codingPath.isEmpty ? "not a JSON object" : "field '\(path(context.codingPath))' is null"
        case .typeMismatch(_, let context):
            return context.codingPath.isEmpty ? "not a JSON object" : "field '\(path(context.codingPath))' has the wrong type"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "field '\(path(context.codingPath))' is invalid"
        @unknown default: return "not a DSSE envelope"
        }
    }
}

private struct WireEnvelope: Codable {
    var payload: String
    var payloadType: String
    var signatures: [WireSignature]
}

private struct WireSignature: Codable {
    var keyid: String?
    var sig: String
}
