import Foundation
import LBClusterView

/// What a webhook receives and a script reads on its standard input: the event and its cluster, as one
/// JSON object in `APIJSON`'s form (snake_case keys, sorted, ISO-8601 time). `node` and `version` are
/// always there, `null` when the event has none.
///
/// ```json
/// {"at":"2025-12-02T10:15:00Z","cluster":"web","id":42,"kind":"vrrp-transition","message":"lb1: vip-ws BACKUP -> MASTER","node":"lb1","version":7}
/// ```
public struct NotificationBody: Codable, Sendable, Equatable {
    public var cluster: String
    public var id: Int64
    public var at: Date
    public var kind: String
    public var node: String?
    public var version: UInt64?
    public var message: String

    public init(event: ClusterEvent, cluster: String) {
        self.cluster = cluster
        id = event.id
        at = event.at
        kind = event.kind
        node = event.node
        version = event.version
        message = event.message
    }

    enum CodingKeys: String, CodingKey {
        case cluster, id, at, kind, node, version, message
    }

    // Written by hand only so that absent fields are `null` rather than missing: a receiver can rely on
    // every key.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cluster, forKey: .cluster)
        try c.encode(id, forKey: .id)
        try c.encode(at, forKey: .at)
        try c.encode(kind, forKey: .kind)
        try c.encode(node, forKey: .node)
        try c.encode(version, forKey: .version)
        try c.encode(message, forKey: .message)
    }

    /// The body's bytes.
    public func json() -> [UInt8] {
        // Encoding strings, numbers and a date cannot fail.
        Array((try? APIJSON.encoder().encode(self)) ?? Data("{}".utf8))
    }
}
