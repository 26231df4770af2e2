import LBCrypto
import LBDocument
import LBGossip

/// A signed document this member verified and holds: what the agent applies and what peers fetch.
public struct HeldDocument: Sendable {
    /// Version and digest, as advertised.
    public let head: DocumentHead
    /// The DSSE envelope exactly as signed and fetched (JSON).
    public let envelopeJSON: [UInt8]
    /// The verified document.
    public let verified: VerifiedDocument

    /// A verified document as it was received; its head is its version and digest.
    public init(envelopeJSON: [UInt8], verified: VerifiedDocument) {
        self.head = DocumentHead(version: verified.document.version, digest: verified.digest.bytes)
        self.envelopeJSON = envelopeJSON
        self.verified = verified
    }

    init(head: DocumentHead, envelopeJSON: [UInt8], verified: VerifiedDocument) {
        self.head = head
        self.envelopeJSON = envelopeJSON
        self.verified = verified
    }

    /// Where a member with state directory `directory` keeps its held document.
    public static func path(in directory: String) -> String { directory + "/document.json" }

    /// The document stored in `directory`, verified like a fetched one (the file is not trusted more
    /// than the network); nil when there is none. Throws why a stored document is refused.
    public static func load(from directory: String, policy: TrustPolicy) throws -> HeldDocument? {
        guard let bytes = try AtomicFile.read(path(in: directory), maximumBytes: DesiredStateDocument.maximumEnvelopeBytes) else { return nil }
        let verified = try DesiredStateDocument.verify(json: bytes, policy: policy)
        return HeldDocument(envelopeJSON: bytes, verified: verified)
    }
}

/// A member's view of the cluster changing.
public enum MembershipEvent: Sendable {
    /// A member appeared (`previous` nil) or changed status, incarnation or metadata.
    case changed(Member, previous: MemberStatus?)
    /// A member was forgotten after its reconnect or tombstone window.
    case removed(GossipNode)
}

/// Why a fetched document was not held.
public struct FetchRejection: Sendable, Equatable {
    public var head: DocumentHead
    public var from: String
    /// DocumentRejection's stable reason name, or "unreachable" / "mismatch".
    public var reason: String
    public var message: String
}
