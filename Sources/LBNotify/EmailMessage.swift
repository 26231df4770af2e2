import Foundation
import LBClusterView
import LBCrypto

/// The e-mail one event becomes (RFC 5322): headers, a plain-text UTF-8 body, and the form DATA sends.
public struct EmailMessage: Sendable, Equatable {
    /// RFC 5322 section 2.1.1: at most 998 characters a line; longer body lines are cut before it, at a
    /// character boundary.
    static let maximumLineBytes = 998

    public var from: String
    public var to: [String]
    public var subject: String
    /// The header's form, `Tue, 02 Dec 2025 10:15:00 +0000`.
    public var date: String
    /// With its angle brackets, `<lb.web.42.1f2e3d4c@ctl1>`.
    public var messageID: String
    /// Lines joined by `\n`; `data` turns them into CRLF.
    public var body: String

    /// The mail for `event` in `cluster`: subject `[lb CLUSTER] KIND NODE`, the event's message first in
    /// the body and every field under it. `date` is when it is written, `host` names this machine in the
    /// Message-ID.
    public init(event: ClusterEvent, cluster: String, from: String, to: [String], date: Date, host: String) {
        self.from = from
        self.to = to
        subject = "[lb \(cluster)] \(event.kind)" + (event.node.map { " \($0)" } ?? "")
        self.date = Self.rfc5322(date)
        let unique = Hex.encode(SecureRandom.bytes(count: 6))
        messageID = "<lb.\(Self.atom(cluster)).\(event.id).\(unique)@\(Self.atom(host, fallback: "localhost"))>"
        var lines = [event.message, ""]
        lines.append("cluster: \(cluster)")
        lines.append("event:   \(event.kind)")
        if let node = event.node { lines.append("node:    \(node)") }
        if let version = event.version { lines.append("version: \(version)") }
        lines.append("time:    \(event.at.formatted(.iso8601))")
        if event.id != 0 { lines.append("id:      \(event.id)") }
        lines += ["", "-- ", "lb-controller"]
        body = lines.joined(separator: "\n")
    }

    /// Whether the body needs 8 bits (then DATA is sent with BODY=8BITMIME when the server offers it).
    public var is8Bit: Bool { body.utf8.contains { $0 >= 0x80 } }

    /// The message as sent: headers and body with CRLF line ends, every line of at most 998 bytes.
    public var text: String {
        var headers = [
            "From: " + Self.headerValue(from),
            "To: " + to.map(Self.headerValue).joined(separator: ", "),
            "Subject: " + Self.encodedWords(subject),
            "Date: " + date,
            "Message-ID: " + messageID,
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: " + (is8Bit ? "8bit" : "7bit"),
        ]
        headers.append("X-Mailer: lb-controller")
        let bodyLines = Self.lines(of: body).flatMap(Self.cut)
        return (headers + [""] + bodyLines).joined(separator: "\r\n") + "\r\n"
    }

    /// What goes after DATA's 354: the text with every line that starts with a dot given another
    /// (RFC 5321 section 4.5.2), then the lone dot that ends it.
    public var data: [UInt8] {
        Self.dotStuffed(text)
    }

    /// `text` (CRLF lines, ending in CRLF) stuffed and terminated.
    static func dotStuffed(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 8)
        var atLineStart = true
        for byte in text.utf8 {
            if atLineStart && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !atLineStart { out += Array("\r\n".utf8) }
        out += Array(".\r\n".utf8)
        return out
    }

    /// Lines split at CRLF, LF or a lone CR, so no bare CR or LF reaches the wire.
    static func lines(of text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var lastWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = scalar == "\r"
            if scalar == "\n" || scalar == "\r" {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        lines.append(String(current))
        return lines
    }

    /// One line as lines of at most `maximumLineBytes` bytes, cut between characters.
    static func cut(_ line: String) -> [String] {
        guard line.utf8.count > maximumLineBytes else { return [line] }
        var pieces: [String] = []
        var current = String.UnicodeScalarView()
        var bytes = 0
        for scalar in line.unicodeScalars {
            let size = String(scalar).utf8.count
            if bytes + size > maximumLineBytes {
                pieces.append(String(current))
                current = String.UnicodeScalarView()
                bytes = 0
            }
            current.append(scalar)
            bytes += size
        }
        pieces.append(String(current))
        return pieces
    }

    /// A header value on one line: line breaks and other controls become spaces, so nothing a spec or an
    /// event holds can start a header of its own.
    static func headerValue(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    /// ASCII stays as it is; anything else becomes RFC 2047 encoded words (`=?utf-8?B?…?=`), each of at
    /// most 75 characters, folded onto continuation lines.
    static func encodedWords(_ text: String) -> String {
        let value = headerValue(text)
        guard value.utf8.contains(where: { $0 >= 0x80 }) else { return value }
        var words: [String] = []
        var chunk: [UInt8] = []
        // 45 bytes are 60 characters of base64, plus the 12 of `=?utf-8?B?` and `?=`: under 75.
        for scalar in value.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?utf-8?B?" + Base64.encode(chunk) + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?" + Base64.encode(chunk) + "?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `Tue, 02 Dec 2025 10:15:00 +0000` (RFC 5322 section 3.3), in UTC.
    static func rfc5322(_ date: Date) -> String {
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        func two(_ n: Int?) -> String { let n = n ?? 0; return n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[(c.weekday ?? 1) - 1]), \(two(c.day)) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970) "
            + "\(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }

    /// Letters, digits, `-` and `.` of `text`: what a Message-ID part may hold without quoting.
    static func atom(_ text: String, fallback: String = "lb") -> String {
        let kept = String(text.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == ".") }
            .map(Character.init))
        return kept.isEmpty ? fallback : kept
    }
}
