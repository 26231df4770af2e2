/// Every member an instance knows, by name: a shared snapshot plus this instance's own changes.
///
/// A simulator of 10,000 members would otherwise hold 10,000 private copies of a 10,000-entry table
/// (gigabytes); starting every instance from one snapshot, each pays only for what it has seen change.
/// A daemon holds one instance, where the overlay is folded back into the snapshot once it grows past
/// a quarter of it, so lookups stay two hash probes at most.
public struct MemberTable: Sendable {
    var base: [String: Member]
    var overlay: [String: Member?] = [:]
    /// Members present (not removed).
    public private(set) var count: Int

    /// An empty table.
    public init() { base = [:]; count = 0 }

    /// A table that shares `snapshot`'s storage until it changes.
    init(snapshot: [String: Member]) { base = snapshot; count = snapshot.count }

    /// The member with this name, if known.
    public subscript(name: String) -> Member? {
        if let o = overlay[name] { return o }
        return base[name]
    }

    /// Stores or removes (nil) a member.
    mutating func set(_ m: Member?, name: String) {
        let had = self[name] != nil
        count += (m != nil ? 1 : 0) - (had ? 1 : 0)
        overlay[name] = .some(m)
        if overlay.count > 64 && overlay.count > base.count / 4 { compact() }
    }

    mutating func compact() {
        for (name, m) in overlay { base[name] = m }
        overlay = [:]
    }

    /// Every member, in no particular order.
    public var values: [Member] {
        var out: [Member] = []
        out.reserveCapacity(count)
        for (name, m) in base where overlay[name] == nil { out.append(m) }
        for case let m? in overlay.values { out.append(m) }
        return out
    }
}

/// A membership every instance of a simulation starts from, built once and shared (see MemberTable).
public struct MembershipSnapshot: Sendable {
    let members: [String: Member]
    let names: [String]
    let live: Int
    /// All `members` alive at incarnation 0 with the given metadata, as if they had all joined.
    public init(nodes: [GossipNode], metadata: MemberMetadata = MemberMetadata()) {
        var members: [String: Member] = [:]
        members.reserveCapacity(nodes.count)
        for n in nodes { members[n.name] = Member(node: n, incarnation: 0, status: .alive, metadata: metadata, since: .zero) }
        self.members = members
        self.names = nodes.map(\.name)
        self.live = nodes.count
    }
}
