import NIOCore

/// One SMTP reply (RFC 5321 section 4.2): a three-digit code and its lines of text, one line or several
/// (`250-first`, `250-second`, `250 last`).
public struct SMTPReply: Sendable, Equatable {
    public var code: Int
    /// The text of each line after the code and its separator, in order; may be empty strings.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// 2xx: done; 3xx: go on (354 after DATA).
    public var isPositive: Bool { (200..<400).contains(code) }

    /// `550 5.1.1 no such user`, the lines joined by `; `, for an operator's message.
    public var summary: String {
        let text = lines.map { $0.trimmingSpaces() }.filter { !$0.isEmpty }.joined(separator: "; ")
        return printable(text.isEmpty ? "\(code)" : "\(code) \(text)")
    }
}

/// Reads SMTP replies from bytes as they arrive, NIO-style: `next(from:)` consumes what it can and returns
/// a complete reply, nil when it needs more bytes, and throws on anything that is not a reply. Lines end
/// in CRLF; a bare LF is accepted too (some servers send it), a bare CR stays in the text.
///
/// RFC 5321 section 4.5.3.1.5 allows 512 octets per reply line, and real servers stay far below it; the
/// limits are a few times that so a broken or hostile server costs little memory.
public struct SMTPReplyParser: Sendable {
    /// Bytes in one line, CRLF included.
    public static let maximumLineBytes = 2048
    /// Lines in one multi-line reply (an EHLO answer has one per extension).
    public static let maximumLines = 100

    private var code: Int?
    private var lines: [String] = []

    public init() {}

    public mutating func next(from buffer: inout ByteBuffer) throws -> SMTPReply? {
        while true {
            let view = buffer.readableBytesView
            guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
                if view.count >= Self.maximumLineBytes { throw malformed("a reply line longer than \(Self.maximumLineBytes) bytes") }
                return nil
            }
            let length = newline - view.startIndex + 1
            guard length <= Self.maximumLineBytes else { throw malformed("a reply line longer than \(Self.maximumLineBytes) bytes") }
            var line = Array(view[view.startIndex..<newline])
            buffer.moveReaderIndex(forwardBy: length)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if let reply = try take(line) { return reply }
        }
    }

    /// Adds one line (without its line end); returns the reply it completes, if it does.
    private mutating func take(_ line: [UInt8]) throws -> SMTPReply? {
        guard line.count >= 3, line.prefix(3).allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              (UInt8(ascii: "1")...UInt8(ascii: "5")).contains(line[0]) else {
            throw malformed("\(quoted(line)), which does not start with a reply code")
        }
        let code = line.prefix(3).reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        if let previous = self.code, previous != code {
            throw malformed("a multi-line reply whose code changed from \(previous) to \(code)")
        }
        let last: Bool
        switch line.count > 3 ? line[3] : UInt8(ascii: " ") {
        case UInt8(ascii: " "): last = true
        case UInt8(ascii: "-"): last = false
        default: throw malformed("\(quoted(line)), whose code is followed by neither a space nor '-'")
        }
        guard lines.count < Self.maximumLines else { throw malformed("a multi-line reply of more than \(Self.maximumLines) lines") }
        self.code = code
        lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        guard last else { return nil }
        defer {
            self.code = nil
            lines = []
        }
        return SMTPReply(code: code, lines: lines)
    }

    private func malformed(_ what: String) -> NotifyError {
        NotifyError(.malformedReply, "the server sent \(what)")
    }

    private func quoted(_ line: [UInt8]) -> String {
        "'" + printable(String(decoding: line.prefix(60), as: UTF8.self), limit: 60) + (line.count > 60 ? "…'" : "'")
    }
}

extension String {
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
              let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        return String(scalars[first...last])
    }
}
