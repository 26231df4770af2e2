/// The text of one load message: `lb-ws <connection> <seq> <filler>`. The filler depends on both numbers, so a
/// frame echoed with bytes changed, or another connection's frame, does not pass for the right one.
public enum EchoMessage {
    public static func text(connection: Int, seq: UInt64) -> String {
        let letter = Character(Unicode.Scalar(UInt8(97 + (UInt64(connection) &+ seq) % 26)))
        return "lb-ws \(connection) \(seq) " + String(repeating: letter, count: 32)
    }

    /// The connection and sequence number a message claims, or nil if it is not one of ours.
    public static func parse(_ text: String) -> (connection: Int, seq: UInt64)? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == "lb-ws", let connection = Int(fields[1]), let seq = UInt64(fields[2]) else { return nil }
        return (connection, seq)
    }
}

/// One connection's bookkeeping, as a value: what was sent, what came back, how long it took. Echoes must
/// come back in the order they were sent (one TCP stream, one echoing server); times are nanoseconds on
/// any monotonic clock.
public struct EchoTracker: Sendable, Equatable {
    public let connection: Int
    public private(set) var sent = 0
    public private(set) var echoed = 0
    public private(set) var outOfOrder = 0
    public private(set) var corrupted = 0
    /// Set by `finish`: messages still unanswered then.
    public private(set) var lost = 0
    /// The longest time from a send to its echo.
    public private(set) var longestEchoGap: UInt64 = 0
    /// The longest time with a message outstanding and no echo arriving: what a user would see as a stall.
    public private(set) var longestStall: UInt64 = 0

    private var outstanding: [(seq: UInt64, text: String, at: UInt64)] = []
    private var head = 0
    private var waitingSince: UInt64?
    private var nextSeq: UInt64 = 0

    public init(connection: Int) { self.connection = connection }

    public var outstandingCount: Int { outstanding.count - head }

    /// Records a send at `now` and returns the text to put in the frame.
    public mutating func send(at now: UInt64) -> String {
        let seq = nextSeq
        nextSeq += 1
        let text = EchoMessage.text(connection: connection, seq: seq)
        if outstandingCount == 0 { waitingSince = now }
        outstanding.append((seq, text, now))
        sent += 1
        return text
    }

    /// Records a frame received at `now`. The oldest outstanding message is the only one expected; a later one
    /// arriving first counts as out of order (the skipped ones stay outstanding), anything else as corrupted.
    public mutating func receive(_ text: String, at now: UInt64) {
        if let waiting = waitingSince { longestStall = max(longestStall, now &- waiting) }
        defer { waitingSince = outstandingCount > 0 ? now : nil }
        guard let claim = EchoMessage.parse(text), claim.connection == connection,
              let index = outstanding[head...].firstIndex(where: { $0.seq == claim.seq }) else {
            corrupted += 1
            return
        }
        let entry = outstanding[index]
        if index == head {
            head += 1
        } else {
            outstanding.remove(at: index)
            outOfOrder += 1
        }
        guard entry.text == text else {
            corrupted += 1
            return
        }
        echoed += 1
        longestEchoGap = max(longestEchoGap, now &- entry.at)
        // Drop answered entries now and then, so a long fast run does not keep every message.
        if head > 1024 {
            outstanding.removeFirst(head)
            head = 0
        }
    }

    /// Ends the run at `now`: whatever is still outstanding is lost, and a stall still going on counts to now.
    public mutating func finish(at now: UInt64) {
        if let waiting = waitingSince { longestStall = max(longestStall, now &- waiting) }
        waitingSince = nil
        lost += outstandingCount
        outstanding.removeAll()
        head = 0
    }

    public static func == (a: EchoTracker, b: EchoTracker) -> Bool {
        a.connection == b.connection && a.sent == b.sent && a.echoed == b.echoed && a.outOfOrder == b.outOfOrder
            && a.corrupted == b.corrupted && a.lost == b.lost && a.longestEchoGap == b.longestEchoGap && a.longestStall == b.longestStall
            && a.outstandingCount == b.outstandingCount
    }
}
