import Foundation
import GRDB

/// One accepted document version as the controller keeps it: the envelope exactly as signed, and
/// what `lbctl history` shows of it.
public struct StoredVersion: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "version"

    public var version: Int64
    /// `sha256:…` of the envelope.
    public var digest: String
    /// The digest of the version it extends (nil for the first).
    public var previous: String?
    public var envelope: Data
    /// Key ids of the signers, in the envelope's order.
    public var signers: [String]
    /// One line of what changed, for the history listing.
    public var summary: String
    public var acceptedAt: Date
    /// How this controller got it: `api` (an operator submitted it) or `gossip` (another controller did).
    public var source: String

    public init(version: Int64, digest: String, previous: String?, envelope: Data, signers: [String], summary: String,
                acceptedAt: Date, source: String) {
        self.version = version
        self.digest = digest
        self.previous = previous
        self.envelope = envelope
        self.signers = signers
        self.summary = summary
        self.acceptedAt = acceptedAt
        self.source = source
    }

    // `signers` is stored as JSON text: a list is one value of the row.
    public enum Columns: String, ColumnExpression { case version, digest, previous, envelope, signers, summary, acceptedAt, source }

    public init(row: Row) throws {
        version = row[Columns.version]
        digest = row[Columns.digest]
        previous = row[Columns.previous]
        envelope = row[Columns.envelope]
        signers = try JSONDecoder().decode([String].self, from: Data((row[Columns.signers] as String).utf8))
        summary = row[Columns.summary]
        acceptedAt = row[Columns.acceptedAt]
        source = row[Columns.source]
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container[Columns.version] = version
        container[Columns.digest] = digest
        container[Columns.previous] = previous
        container[Columns.envelope] = envelope
        container[Columns.signers] = String(decoding: try JSONEncoder().encode(signers), as: UTF8.self)
        container[Columns.summary] = summary
        container[Columns.acceptedAt] = acceptedAt
        container[Columns.source] = source
    }
}

/// One entry of the cluster's timeline: a VRRP transition, a real server down, a document refused…
public struct StoredEvent: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "event"

    public var id: Int64?
    public var at: Date
    public var kind: String
    public var node: String?
    public var version: Int64?
    public var message: String

    public init(at: Date, kind: String, node: String? = nil, version: Int64? = nil, message: String) {
        self.at = at
        self.kind = kind
        self.node = node
        self.version = version
        self.message = message
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// Why a version was not stored.
public enum HistoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An operator's submission that does not extend the head: someone else applied first.
    case notTheNextVersion(submitted: Int64, extends: String?, head: StoredVersion?)
    /// The same version number with another digest: two different documents claim it.
    case equivocation(version: Int64, stored: String, offered: String)
    /// The file is not a history this program can read.
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notTheNextVersion(let submitted, let extends, let head):
            guard let head else {
                return "v\(submitted) extends \(extends ?? "nothing"), but there is no history yet: the first version must be v1 and extend nothing"
            }
            return "v\(submitted) does not extend the head: v\(head.version) (\(head.digest.prefix(23))) was applied at \(head.acceptedAt) by \(head.signers.joined(separator: ", ")); fetch it and apply again"
        case .equivocation(let version, let stored, let offered):
            return "two documents claim v\(version): \(stored) is stored, \(offered) is offered; the second is refused"
        case .unreadable(let path, let reason):
            return "\(path) is not an lb history database (\(reason)); move it away to start an empty history"
        }
    }
}

/// The controller's history in SQLite (GRDB): every accepted version with its envelope, and the event
/// timeline. Write-ahead logging and full synchronisation: an accepted version is on disk before
/// `append` returns, and a kill at any moment leaves the file consistent.
public final class HistoryStore: Sendable {
    let pool: DatabasePool
    public let path: String

    /// Opens (creating or migrating) the history at `path`.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL's default NORMAL can lose the last transactions on power loss; FULL does not.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw HistoryError.unreadable(path: path, reason: error.message ?? "\(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: versions and events") { db in
            try db.create(table: StoredVersion.databaseTableName) { t in
                t.column("version", .integer).primaryKey()
                t.column("digest", .text).notNull().unique()
                t.column("previous", .text)
                t.column("envelope", .blob).notNull()
                t.column("signers", .text).notNull()
                t.column("summary", .text).notNull()
                t.column("acceptedAt", .datetime).notNull()
                t.column("source", .text).notNull()
            }
            try db.create(table: StoredEvent.databaseTableName) { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .datetime).notNull().indexed()
                t.column("kind", .text).notNull()
                t.column("node", .text)
                t.column("version", .integer)
                t.column("message", .text).notNull()
            }
        }
        return m
    }

    /// The newest version, nil before any.
    public func head() async throws -> StoredVersion? {
        try await pool.read { db in try StoredVersion.order(StoredVersion.Columns.version.desc).fetchOne(db) }
    }

    /// Stores an operator's submission only if it extends the head (version = head + 1, previous =
    /// the head's digest), checked and written in one transaction: of two concurrent applies, one wins
    /// and the other gets `notTheNextVersion` naming the winner.
    public func appendExtendingHead(_ v: StoredVersion) async throws {
        try await pool.write { db in
            let head = try StoredVersion.order(StoredVersion.Columns.version.desc).fetchOne(db)
            guard v.version == (head?.version ?? 0) + 1, v.previous == head?.digest else {
                throw HistoryError.notTheNextVersion(submitted: v.version, extends: v.previous, head: head)
            }
            try v.insert(db)
        }
    }

    /// Stores a version another controller accepted (from gossip), whatever the head: histories of
    /// several controllers converge. The same version again is nothing; another digest for a stored
    /// version number is `equivocation`.
    /// - Returns: whether it was new.
    @discardableResult
    public func appendSeen(_ v: StoredVersion) async throws -> Bool {
        try await pool.write { db in
            if let stored = try StoredVersion.fetchOne(db, key: v.version) {
                guard stored.digest == v.digest else { throw HistoryError.equivocation(version: v.version, stored: stored.digest, offered: v.digest) }
                return false
            }
            try v.insert(db)
            return true
        }
    }

    public func version(_ n: Int64) async throws -> StoredVersion? {
        try await pool.read { db in try StoredVersion.fetchOne(db, key: n) }
    }

    /// Newest first, at most `limit`.
    public func versions(limit: Int = 100) async throws -> [StoredVersion] {
        try await pool.read { db in try StoredVersion.order(StoredVersion.Columns.version.desc).limit(limit).fetchAll(db) }
    }

    /// Appends to the timeline; returns the event with its id.
    @discardableResult
    public func record(_ event: StoredEvent) async throws -> StoredEvent {
        try await pool.write { db in
            var e = event
            try e.insert(db)
            return e
        }
    }

    /// Events after `id` (all when nil), oldest first, at most `limit`.
    public func events(after id: Int64? = nil, limit: Int = 500) async throws -> [StoredEvent] {
        try await pool.read { db in
            try StoredEvent.filter(Column("id") > (id ?? 0)).order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// The newest `limit` events, oldest first (the status page's timeline).
    public func recentEvents(limit: Int) async throws -> [StoredEvent] {
        try await pool.read { db in
            try StoredEvent.order(Column("id").desc).limit(limit).fetchAll(db).reversed()
        }
    }

    /// The journal mode SQLite reports: `wal`.
    public func journalMode() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }
}
