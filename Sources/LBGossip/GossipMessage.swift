/// A member's identity: a unique name and the "host:port" address its transport reaches it at.
public struct GossipNode: Hashable, Sendable {
    public var name: String
    public var address: String
    public init(name: String, address: String) { self.name = name; self.address = address }
}

/// A signed document as gossip sees it: its version and digest (the bytes are fetched over a stream).
public struct DocumentHead: Hashable, Sendable, CustomStringConvertible {
    public var version: UInt64
    /// SHA-256 of the signed payload (LBDocument's DocumentDigest bytes).
    public var digest: [UInt8]
    public init(version: UInt64, digest: [UInt8]) { self.version = version; self.digest = digest }
    public var description: String { "v\(version)/" + digest.prefix(4).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
}

/// A member's latest report (opaque to gossip), versioned by that member; a higher version replaces a lower.
public struct NodeReport: Equatable, Sendable {
    /// The member the report is about (and from).
    public var node: String
    public var version: UInt64
    public var bytes: [UInt8]
    public init(node: String, version: UInt64, bytes: [UInt8]) { self.node = node; self.version = version; self.bytes = bytes }
}

/// What a member advertises about itself. Roles and agent version change with the incarnation; the
/// document fields follow the head the member holds and only ever grow, without an incarnation bump.
public struct MemberMetadata: Equatable, Sendable {
    public var roles: [String]
    public var agentVersion: String
    /// Version of the signed document this member holds (0: none).
    public var documentVersion: UInt64
    /// Digest of that document (empty: none).
    public var documentDigest: [UInt8]
    public init(roles: [String] = [], agentVersion: String = "", documentVersion: UInt64 = 0, documentDigest: [UInt8] = []) {
        self.roles = roles; self.agentVersion = agentVersion
        self.documentVersion = documentVersion; self.documentDigest = documentDigest
    }
}

/// SWIM member states; raw values are wire numbers (ONLY APPEND).
public enum MemberStatus: UInt8, Sendable, CustomStringConvertible {
    case alive = 0, suspect = 1, dead = 2, left = 3
    public var description: String { ["alive", "suspect", "dead", "left"][Int(rawValue)] }
}

/// One member as this instance sees it.
public struct Member: Equatable, Sendable {
    public var node: GossipNode
    public var incarnation: UInt64
    public var status: MemberStatus
    public var metadata: MemberMetadata
    /// Engine time of the last status change.
    public var since: Duration
}

/// A membership rumour: the unit piggybacked on every packet and exchanged in full syncs.
public struct MemberUpdate: Equatable, Sendable {
    public var node: GossipNode
    public var incarnation: UInt64
    public var status: MemberStatus
    public var metadata: MemberMetadata
    /// Name of the member that raised a suspect/dead rumour (counts Lifeguard confirmations).
    public var origin: String
    public init(node: GossipNode, incarnation: UInt64, status: MemberStatus, metadata: MemberMetadata, origin: String) {
        self.node = node; self.incarnation = incarnation; self.status = status
        self.metadata = metadata; self.origin = origin
    }
}

/// Message types; raw values are wire numbers. ONLY APPEND: never renumber or reuse.
public enum GossipMessageType: UInt8, Sendable {
    case ping = 1, pingRequest = 2, ack = 3, nack = 4, gossip = 5, join = 6, sync = 7
}

/// The body of one packet.
public enum GossipBody: Equatable, Sendable {
    /// Direct probe of `target` (by name, so a reused address is not mistaken for the member).
    case ping(sequence: UInt32, target: String)
    /// Ask the receiver to probe `target` and relay the ack; `timeoutMillis` is the prober's own probe
    /// timeout, so the relay can nack in time whatever its own local health (Lifeguard footnote 5).
    case pingRequest(sequence: UInt32, target: GossipNode, timeoutMillis: UInt32)
    /// Answer to a ping with the same sequence number.
    case ack(sequence: UInt32)
    /// Lifeguard: a relay could not reach the target in time, so the prober's own link is not to blame.
    case nack(sequence: UInt32)
    /// Piggybacked updates only.
    case gossip
    /// A new member asks a seed for the full state (its own alive update rides along).
    case join
    /// Full state exchange (push-pull); `reply` marks the answer so it is not answered again.
    case sync(reply: Bool)

    public var type: GossipMessageType {
        switch self {
        case .ping: .ping
        case .pingRequest: .pingRequest
        case .ack: .ack
        case .nack: .nack
        case .gossip: .gossip
        case .join: .join
        case .sync: .sync
        }
    }
}

/// One datagram or stream message: sender, the head it holds, body, piggybacked updates and reports.
public struct GossipPacket: Equatable, Sendable {
    public var sender: GossipNode
    /// The document the sender holds (nil: none). Riding on every packet, a new head reaches each
    /// member that hears from a holder, with no rumour to queue or retire.
    public var head: DocumentHead?
    public var body: GossipBody
    public var updates: [MemberUpdate]
    public var reports: [NodeReport]
    public init(sender: GossipNode, head: DocumentHead? = nil, body: GossipBody, updates: [MemberUpdate] = [], reports: [NodeReport] = []) {
        self.sender = sender; self.head = head; self.body = body; self.updates = updates; self.reports = reports
    }
}
