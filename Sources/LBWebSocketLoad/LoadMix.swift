/// How a load connection paces its messages: the lab's mix of chatty, heartbeat-only and idle clients.
public enum ConnectionKind: String, Sendable, CaseIterable, Codable {
    case fast
    case heartbeat
    case idle
}

/// The share of connections of each kind, as given by `--mix fast:0.1,heartbeat:0.8,idle:0.1`.
public struct LoadMix: Sendable, Equatable {
    public var fractions: [ConnectionKind: Double]

    public init(fractions: [ConnectionKind: Double]) { self.fractions = fractions }

    /// The lab's default: mostly heartbeats, as a chat or dashboard service sees.
    public static let standard = LoadMix(fractions: [.fast: 0.1, .heartbeat: 0.8, .idle: 0.1])

    /// Parses `kind:fraction,...`; kinds left out get 0. Fractions need not sum to 1: they are weights.
    public init?(parsing text: String) {
        var fractions: [ConnectionKind: Double] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: ":")
            guard pair.count == 2, let kind = ConnectionKind(rawValue: String(pair[0])), let share = Double(pair[1]),
                  share >= 0, share.isFinite, fractions[kind] == nil else { return nil }
            fractions[kind] = share
        }
        guard fractions.values.contains(where: { $0 > 0 }) else { return nil }
        self.fractions = fractions
    }

    /// The kind of each of `count` connections. Counts use largest remainders so they sum to `count` exactly,
    /// and kinds are interleaved (not in blocks) so the connections opened first already hold every kind.
    public func assign(count: Int) -> [ConnectionKind] {
        let total = ConnectionKind.allCases.reduce(0) { $0 + (fractions[$1] ?? 0) }
        guard count > 0, total > 0 else { return [] }
        let exact = ConnectionKind.allCases.map { Double(count) * (fractions[$0] ?? 0) / total }
        var counts = exact.map { Int($0.rounded(.down)) }
        let byRemainder = exact.indices.sorted { (exact[$0] - Double(counts[$0])) > (exact[$1] - Double(counts[$1])) }
        for i in byRemainder.prefix(count - counts.reduce(0, +)) { counts[i] += 1 }
        // Interleave: connection i takes the kind furthest behind its target share at position i.
        var placed = [Int](repeating: 0, count: counts.count)
        return (0..<count).map { i in
            let k = counts.indices.filter { placed[$0] < counts[$0] }
                .max { Double(counts[$0]) * Double(i + 1) / Double(count) - Double(placed[$0])
                    < Double(counts[$1]) * Double(i + 1) / Double(count) - Double(placed[$1]) }!
            placed[k] += 1
            return ConnectionKind.allCases[k]
        }
    }
}
