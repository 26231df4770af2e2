#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LBCrypto

/// What a node accepts: which operator keys it trusts and how many must sign, which cluster it is in,
/// and the newest document it already holds.
public struct TrustPolicy: Sendable {
    /// The version and payload digest of the document a node currently holds.
    public struct Head: Sendable, Equatable {
        public var version: UInt64
        public var digest: DocumentDigest

        public init(version: UInt64, digest: DocumentDigest) {
            self.version = version
            self.digest = digest
        }
    }

    /// The operator keys whose signatures count, without duplicates.
    public let trustedKeys: [PublicKey]
    /// How many distinct trusted keys must sign: at least 1, at most `trustedKeys.count`.
    public let threshold: Int
    /// When set, documents for any other cluster are refused.
    public var expectedCluster: String?
    /// When set, documents below this version are refused, even with no head (a floor that survives
    /// the loss of the state directory).
    public var minimumVersion: UInt64?
    /// The held document: older versions are refused, and the same version only with the same digest.
    public var head: Head?
    /// The time used for expiry when `verify` is not given one.
    public var clock: @Sendable () -> Date

    public init(trustedKeys: [PublicKey], threshold: Int = 1, expectedCluster: String? = nil,
                minimumVersion: UInt64? = nil, head: Head? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }) throws(DocumentRejection) {
        var seen = Set<PublicKey>()
        let distinct = trustedKeys.filter { seen.insert($0).inserted }
        guard !distinct.isEmpty else { throw .invalidPolicy("no trusted keys") }
        guard threshold >= 1 else { throw .invalidPolicy("threshold must be at least 1, got \(threshold)") }
        guard threshold <= distinct.count else {
            throw .invalidPolicy("threshold \(threshold) exceeds the \(distinct.count) distinct trusted keys")
        }
        self.trustedKeys = distinct
        self.threshold = threshold
        self.expectedCluster = expectedCluster
        self.minimumVersion = minimumVersion
        self.head = head
        self.clock = clock
    }

    /// Records an accepted document as the held one, so the same policy refuses anything older.
    public mutating func advance(to verified: VerifiedDocument) {
        head = verified.head
    }
}
