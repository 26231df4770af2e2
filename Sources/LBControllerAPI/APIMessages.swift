import Foundation
import LBClusterView

/// The controller's HTTP API routes (docs/api.md). Every route is signed (`RequestSigning`).
public enum APIRoute {
    /// POST a signed document (DSSE envelope JSON); GET the current one.
    public static let documents = "/v1/documents"
    /// GET: every version, newest first (`?limit=N`).
    public static let history = "/v1/history"
    /// GET one version with its envelope.
    public static func version(_ n: UInt64) -> String { "/v1/history/\(n)" }
    /// GET: `ClusterStatus`.
    public static let status = "/v1/status"
    /// GET: server-sent events (`?after=ID` replays from the history first).
    public static let events = "/v1/events"
}

/// What POST /v1/documents answers when it accepted the document.
public struct SubmitResult: Codable, Sendable, Equatable {
    public var version: UInt64
    public var digest: String
    public var acceptedAt: Date

    public init(version: UInt64, digest: String, acceptedAt: Date) {
        self.version = version
        self.digest = digest
        self.acceptedAt = acceptedAt
    }
}

/// Every refusal's body: a stable code, a sentence for people, and for 409 the head that won.
public struct APIError: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    /// `unsigned`, `bad_signature`, `replayed`, `clock_window`, `unknown_key`, `document_refused`,
    /// `not_the_next_version`, `equivocation`, `not_found`, `bad_request`, `too_large`, `internal`.
    public var error: String
    public var message: String
    /// For `not_the_next_version`: the current head.
    public var head: VersionSummary?

    public init(error: String, message: String, head: VersionSummary? = nil) {
        self.error = error
        self.message = message
        self.head = head
    }

    public var description: String { message }
}

/// GET /v1/history.
public struct HistoryPage: Codable, Sendable, Equatable {
    public var versions: [VersionSummary]

    public init(versions: [VersionSummary]) { self.versions = versions }
}

/// GET /v1/history/N: the version and its envelope exactly as signed.
public struct VersionRecord: Codable, Sendable, Equatable {
    public var summary: VersionSummary
    /// The DSSE envelope JSON, as text.
    public var envelope: String

    public init(summary: VersionSummary, envelope: String) {
        self.summary = summary
        self.envelope = envelope
    }
}

/// Server-sent events: one `ClusterEvent` per message, `id:` its history id, `event:` its kind.
public enum ServerSentEvents {
    /// One message; data is one line of JSON, so no line of it needs splitting.
    public static func message(_ event: ClusterEvent) -> String {
        let data = (try? APIJSON.encoder().encode(event)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "id: \(event.id)\nevent: \(event.kind)\ndata: \(data)\n\n"
    }

    /// Splits a stream of text into events as they complete; keeps the unfinished rest.
    public struct Parser: Sendable {
        var buffer: [UInt8] = []
        var data: [String] = []
        var name: String?
        var id: String?
        /// The longest line kept; a longer one is dropped with its event (a broken or hostile server).
        public static let maximumLine = 1 << 20

        public init() {}

        /// One parsed message.
        public struct Message: Sendable, Equatable {
            public var id: String?
            public var event: String?
            public var data: String
        }

        public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Message] {
            var out: [Message] = []
            for byte in bytes {
                if byte == UInt8(ascii: "\n") {
                    line(String(decoding: buffer.last == UInt8(ascii: "\r") ? buffer.dropLast() : buffer[...], as: UTF8.self), into: &out)
                    buffer.removeAll(keepingCapacity: true)
                } else if buffer.count < Self.maximumLine {
                    buffer.append(byte)
                }
            }
            return out
        }

        mutating func line(_ line: String, into out: inout [Message]) {
            if line.isEmpty {
                if !data.isEmpty { out.append(Message(id: id, event: name, data: data.joined(separator: "\n"))) }
                data = []
                name = nil
                return
            }
            if line.hasPrefix(":") { return }
            let (field, value): (Substring, Substring)
            if let colon = line.firstIndex(of: ":") {
                field = line[..<colon]
                let rest = line[line.index(after: colon)...]
                value = rest.hasPrefix(" ") ? rest.dropFirst() : rest
            } else {
                (field, value) = (line[...], "")
            }
            switch field {
            case "data": data.append(String(value))
            case "event": name = String(value)
            case "id": id = String(value)
            default: break
            }
        }
    }
}
