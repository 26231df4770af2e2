import Foundation

/// Why a connection did not stay open until the end of the run; the JSON keys are the raw values.
public enum CloseReason: String, Sendable, Codable, CaseIterable {
    /// TCP connect failed or was refused.
    case connectFailed = "connect_failed"
    /// The HTTP upgrade was answered with something other than 101 Switching Protocols.
    case upgradeFailed = "upgrade_failed"
    /// Connect and upgrade did not finish in time, or the final echoes did not come back.
    case timeout
    /// The peer (or the director on its behalf) reset the connection.
    case reset
    /// The server sent a close frame before we asked to close.
    case remoteClose = "remote_close"
    /// The TCP connection ended without a close frame.
    case eof
    /// Any other I/O or protocol error.
    case error
}

/// How one connection ended, as the client shell reports it.
public struct ConnectionReport: Sendable, Equatable {
    public var kind: ConnectionKind
    public var opened: Bool
    /// Nil if the connection was open when the run ended.
    public var closedEarly: CloseReason?
    /// The close handshake finished at the end (both close frames exchanged).
    public var closedCleanly: Bool
    public var tracker: EchoTracker

    public init(kind: ConnectionKind, opened: Bool, closedEarly: CloseReason?, closedCleanly: Bool, tracker: EchoTracker) {
        self.kind = kind
        self.opened = opened
        self.closedEarly = closedEarly
        self.closedCleanly = closedCleanly
        self.tracker = tracker
    }
}

/// The one JSON line `lb-bench websocket clients` prints. Its keys are stable; add, never rename.
public struct LoadSummary: Sendable, Equatable, Codable {
    /// What happened to the connections: opened, kept, lost and why.
    public struct Connections: Sendable, Equatable, Codable {
        public var requested = 0
        public var opened = 0
        public var stillOpenAtEnd = 0
        public var closedCleanly = 0
        /// Opened, then lost before the end; reasons for these and for failures to open are in `reasons`.
        public var closedEarly = 0
        public var failedToOpen = 0
        public var reasons: [String: Int] = [:]

        enum CodingKeys: String, CodingKey {
            case requested, opened, reasons
            case stillOpenAtEnd = "still_open_at_end", closedCleanly = "closed_cleanly", closedEarly = "closed_early"
            case failedToOpen = "failed_to_open"
        }
    }

    /// Every message sent, and what came back for it.
    public struct Messages: Sendable, Equatable, Codable {
        public var sent = 0
        public var echoed = 0
        public var lost = 0
        public var outOfOrder = 0
        public var corrupted = 0

        enum CodingKeys: String, CodingKey {
            case sent, echoed, lost, corrupted
            case outOfOrder = "out_of_order"
        }
    }

    public var connections = Connections()
    public var messages = Messages()
    /// The longest send-to-echo time of any message.
    public var longestEchoGapMs = 0.0
    /// The 99th percentile over connections of each connection's longest send-to-echo time.
    public var p99EchoGapMs = 0.0
    /// The longest time any connection had a message outstanding without any echo arriving.
    public var longestStallMs = 0.0
    /// Connections of each kind requested.
    public var mix: [String: Int] = [:]
    public var durationS = 0.0

    enum CodingKeys: String, CodingKey {
        case connections, messages, mix
        case longestEchoGapMs = "longest_echo_gap_ms", p99EchoGapMs = "p99_echo_gap_ms", longestStallMs = "longest_stall_ms"
        case durationS = "duration_s"
    }

    public init() {}

    /// Folds the reports of every requested connection into the summary.
    public init(reports: [ConnectionReport], durationS: Double) {
        self.durationS = durationS
        connections.requested = reports.count
        var gaps: [UInt64] = []
        for report in reports {
            mix[report.kind.rawValue, default: 0] += 1
            let t = report.tracker
            messages.sent += t.sent
            messages.echoed += t.echoed
            messages.lost += t.lost
            messages.outOfOrder += t.outOfOrder
            messages.corrupted += t.corrupted
            if report.opened {
                connections.opened += 1
                gaps.append(t.longestEchoGap)
                longestStallMs = max(longestStallMs, Self.ms(t.longestStall))
            }
            if let reason = report.closedEarly {
                connections.reasons[reason.rawValue, default: 0] += 1
                if report.opened { connections.closedEarly += 1 } else { connections.failedToOpen += 1 }
            } else if report.opened {
                connections.stillOpenAtEnd += 1
            }
            if report.closedCleanly { connections.closedCleanly += 1 }
        }
        gaps.sort()
        longestEchoGapMs = Self.ms(gaps.last ?? 0)
        // Nearest rank: the smallest gap at least 99 % of connections stay within.
        if !gaps.isEmpty { p99EchoGapMs = Self.ms(gaps[Int((Double(gaps.count) * 0.99).rounded(.up)) - 1]) }
    }

    /// Nothing lost, reordered or changed, and every requested connection opened and stayed open.
    public var passed: Bool {
        messages.lost == 0 && messages.outOfOrder == 0 && messages.corrupted == 0 && connections.closedEarly == 0
            && connections.opened == connections.requested
    }

    /// One line, keys sorted, so runs diff cleanly.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    private static func ms(_ ns: UInt64) -> Double { (Double(ns) / 1_000).rounded() / 1_000 }
}
