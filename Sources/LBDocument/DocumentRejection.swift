#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a desired-state document was refused (or, for `invalidPolicy`, why no document could be
/// accepted). Every case says exactly what was found and what was required.
public enum DocumentRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The envelope or its payload cannot be read: bad JSON, bad base64, missing fields, too large.
    case malformed(String)
    /// The signatures hold but the payload is not a desired-state document of this version.
    case wrongPayloadType(got: String, expected: String)
    /// A signature names a trusted key but does not verify under it: tampering or corruption.
    case badSignature(keyID: String)
    /// No signature verifies under any trusted key; `keyID` is the first signature's key id hint.
    case unknownKey(keyID: String)
    /// Fewer distinct trusted keys signed than the policy requires.
    case belowThreshold(valid: Int, required: Int)
    /// The document is for another cluster.
    case wrongCluster(got: String, expected: String)
    /// The version is below the policy's floor.
    case belowMinimumVersion(got: UInt64, minimum: UInt64)
    /// The version is older than the document already held: a replay or a stale copy.
    case olderThanHead(got: UInt64, held: UInt64)
    /// Same version as the held document but different content: someone signed two documents with
    /// one version number.
    case equivocation(version: UInt64, got: DocumentDigest, held: DocumentDigest)
    /// The document's expiry time has passed.
    case expired(expiresAt: Date, now: Date)
    /// The trust policy itself is unusable, so it would refuse every document.
    case invalidPolicy(String)

    /// A short stable name for counters and reports ("bad_signature", "older_than_head", ...).
    public var reason: String {
        switch self {
        case .malformed: "malformed"
        case .wrongPayloadType: "wrong_payload_type"
        case .badSignature: "bad_signature"
        case .unknownKey: "unknown_key"
        case .belowThreshold: "below_threshold"
        case .wrongCluster: "wrong_cluster"
        case .belowMinimumVersion: "below_minimum_version"
        case .olderThanHead: "older_than_head"
        case .equivocation: "equivocation"
        case .expired: "expired"
        case .invalidPolicy: "invalid_policy"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let detail):
            "malformed document: \(detail)"
        case .wrongPayloadType(let got, let expected):
            "wrong payload type '\(got)', expected '\(expected)'"
        case .badSignature(let keyID):
            "signature by trusted key \(keyID) does not verify; the document was altered or corrupted"
        case .unknownKey(let keyID):
            "no signature is by a trusted key (first key id: \(keyID.isEmpty ? "none given" : keyID))"
        case .belowThreshold(let valid, let required):
            "signed by \(valid) of the \(required) required trusted keys"
        case .wrongCluster(let got, let expected):
            "document is for cluster '\(got)', this node belongs to '\(expected)'"
        case .belowMinimumVersion(let got, let minimum):
            "version \(got) is below the minimum version \(minimum)"
        case .olderThanHead(let got, let held):
            "version \(got) is older than the held version \(held) (replayed or stale)"
        case .equivocation(let version, let got, let held):
            "version \(version) with digest \(got) conflicts with the held version \(version) with digest \(held); two different documents carry one version"
        case .expired(let expiresAt, let now):
            "document expired at \(DocumentTime.format(expiresAt)) (now \(DocumentTime.format(now)))"
        case .invalidPolicy(let detail):
            "invalid trust policy: \(detail)"
        }
    }
}
