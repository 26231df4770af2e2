/// Markup the page itself writes: only a string literal (no interpolation) becomes one, so text from
/// the network cannot reach the output unescaped by being passed where markup is expected.
struct Markup: ExpressibleByStringLiteral {
    let literal: String

    init(stringLiteral value: String) {
        literal = value
    }
}

/// One HTML document or fragment being written into one growing buffer. Every value from a
/// `ClusterStatus` goes through `text` (element content and attribute values alike), the only escaping
/// there is; markup goes through `markup`, numbers through `number`.
struct HTMLWriter {
    private(set) var output = ""

    init(capacity: Int) {
        output.reserveCapacity(capacity)
    }

    mutating func markup(_ m: Markup) {
        output += m.literal
    }

    /// Escapes the five characters that can end a text node or a quoted attribute value (`'` too, so
    /// single-quoted attributes would be safe as well), copying the runs between them whole.
    mutating func text(_ s: String) {
        let utf8 = s.utf8
        var run = utf8.startIndex
        var i = run
        while i != utf8.endIndex {
            let entity: Markup?
            switch utf8[i] {
            case UInt8(ascii: "&"): entity = "&amp;"
            case UInt8(ascii: "<"): entity = "&lt;"
            case UInt8(ascii: ">"): entity = "&gt;"
            case UInt8(ascii: "\""): entity = "&quot;"
            case UInt8(ascii: "'"): entity = "&#39;"
            default: entity = nil
            }
            let next = utf8.index(after: i)
            if let entity {
                // Both ends of the run sit next to an ASCII byte, so they are character boundaries.
                output += s[run..<i]
                markup(entity)
                run = next
            }
            i = next
        }
        output += s[run..<utf8.endIndex]
    }

    mutating func number<N: BinaryInteger>(_ n: N) {
        output += String(n)
    }

    /// `name="value"` with a leading space, the value escaped.
    mutating func attribute(_ name: Markup, _ value: String) {
        markup(" ")
        markup(name)
        markup("=\"")
        text(value)
        markup("\"")
    }

    mutating func attribute<N: BinaryInteger>(_ name: Markup, _ value: N) {
        markup(" ")
        markup(name)
        markup("=\"")
        number(value)
        markup("\"")
    }

    mutating func attribute(_ name: Markup, _ value: Bool) {
        attribute(name, value ? "true" : "false")
    }

    /// A whole element of text: `<tag attrs>text</tag>` is common enough to be one call.
    mutating func element(_ open: Markup, _ content: String, close: Markup) {
        markup(open)
        text(content)
        markup(close)
    }
}
