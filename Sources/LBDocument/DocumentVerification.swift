#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LBCrypto
import LBSpec

/// A document whose envelope passed every check of a trust policy.
public struct VerifiedDocument: Sendable {
    public let document: DesiredStateDocument
    /// The envelope as received, for storing and passing on unchanged.
    public let envelope: Envelope
    /// The digest of the payload bytes as signed.
    public let digest: DocumentDigest
    /// The trusted keys whose signatures verified, each once.
    public let signers: [PublicKey]
    /// True when this is the document the policy already held (same version and digest): nothing new.
    public let isCurrentHead: Bool

    /// This document as a policy head.
    public var head: TrustPolicy.Head { .init(version: document.version, digest: digest) }

    /// The next version, carrying `spec` and chained to this document's signed payload. A rollback is
    /// `successor(spec: older.document.spec, ...)`.
    public func successor(spec: ClusterSpec, issuedAt: Date, expiresAt: Date? = nil) throws -> DesiredStateDocument {
        try DesiredStateDocument.successor(of: document.version, digest: digest, spec: spec,
                                           issuedAt: issuedAt, expiresAt: expiresAt)
    }
}

extension DesiredStateDocument {
    /// Reads envelope JSON of at most `maximumEnvelopeBytes`, mapping every decoding failure to
    /// `.malformed`.
    public static func decodeEnvelope(json: [UInt8]) throws(DocumentRejection) -> Envelope {
        do {
            return try Envelope(json: json, maximumBytes: maximumEnvelopeBytes)
        } catch let error as CryptoError {
            throw .malformed(error.message)
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// Decodes envelope JSON and verifies it; see `verify(_:policy:now:)`.
    public static func verify(json: [UInt8], policy: TrustPolicy, now: Date? = nil) throws(DocumentRejection) -> VerifiedDocument {
        try verify(decodeEnvelope(json: json), policy: policy, now: now)
    }

    /// Accepts the envelope only if enough distinct trusted keys signed it, it carries a desired-state
    /// payload for the expected cluster, its version is new (or is exactly the held document), and it
    /// has not expired at `now` (default: the policy's clock). Signatures by untrusted keys, and
    /// failed signatures, are ignored once the threshold is met. The payload is parsed only after its
    /// signatures hold, so unauthenticated input never reaches the JSON decoder beyond the envelope.
    public static func verify(_ envelope: Envelope, policy: TrustPolicy, now: Date? = nil) throws(DocumentRejection) -> VerifiedDocument {
        let signers = try checkSignatures(envelope, policy: policy)
        guard envelope.payloadType == payloadType else {
            throw .wrongPayloadType(got: envelope.payloadType, expected: payloadType)
        }
        let document = try decode(payload: envelope.payload)
        let digest = DocumentDigest(payload: envelope.payload)
        if let expected = policy.expectedCluster, document.cluster != expected {
            throw .wrongCluster(got: document.cluster, expected: expected)
        }
        let isCurrentHead = try checkVersion(document.version, digest: digest, policy: policy)
        let instant = now ?? policy.clock()
        if let expiresAt = document.expiresAt, instant >= expiresAt {
            throw .expired(expiresAt: expiresAt, now: instant)
        }
        return VerifiedDocument(document: document, envelope: envelope, digest: digest,
                                signers: signers, isCurrentHead: isCurrentHead)
    }

    // When the threshold is missed, the most telling reason wins: a trusted key whose signature fails
    // points at tampering; no trusted signer at all points at a forged or foreign document.
    private static func checkSignatures(_ envelope: Envelope, policy: TrustPolicy) throws(DocumentRejection) -> [PublicKey] {
        let check = envelope.verify(trusting: policy.trustedKeys)
        guard check.validSigners.count < policy.threshold else { return check.validSigners }
        if let failed = check.failedKeyIDs.first { throw .badSignature(keyID: failed) }
        if check.validSigners.isEmpty, let unknown = check.unmatchedKeyIDs.first { throw .unknownKey(keyID: unknown) }
        throw .belowThreshold(valid: check.validSigners.count, required: policy.threshold)
    }

    /// Returns whether the document is the held head itself.
    private static func checkVersion(_ version: UInt64, digest: DocumentDigest, policy: TrustPolicy) throws(DocumentRejection) -> Bool {
        if let minimum = policy.minimumVersion, version < minimum {
            throw .belowMinimumVersion(got: version, minimum: minimum)
        }
        guard let head = policy.head else { return false }
        if version < head.version { throw .olderThanHead(got: version, held: head.version) }
        guard version == head.version else { return false }
        guard digest == head.digest else { throw .equivocation(version: version, got: digest, held: head.digest) }
        return true
    }
}
