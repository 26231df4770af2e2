/// One word or brace of a keepalived.conf, with where it was written.
public struct KeepalivedToken: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case word
        case openBrace
        case closeBrace
    }

    public var kind: Kind
    /// The word without its quotes; "{" or "}" for braces.
    public var text: String
    public var line: Int
    /// Counted in characters from 1.
    public var column: Int
    /// Written between double quotes.
    public var quoted: Bool

    public init(kind: Kind, text: String, line: Int, column: Int, quoted: Bool = false) {
        self.kind = kind
        self.text = text
        self.line = line
        self.column = column
        self.quoted = quoted
    }
}

/// Splits keepalived.conf text into tokens the way keepalived 2.2.7 reads its files:
///
/// - `#` and `!` start a comment anywhere outside double quotes, also in the middle of a word;
///   `\#` and `\!` are the characters themselves.
/// - `{` and `}` outside double quotes are tokens of their own, wherever they stand on a line.
/// - Words are separated by spaces and tabs. A word starting with `"` runs to the next `"` and may hold
///   spaces, braces and comment characters; there are no escapes in it. Single quotes are ordinary
///   characters (keepalived gives them meaning only inside script command lines).
/// - A line starting `@ID ` (conditional configuration) is read, without the prefix, only when ID is the
///   config id the file is read for; `@^ID ` only when it is not (lib/parser.c, read_line). keepalived's
///   config id is its `-i`, else the host name up to the first dot; lb's is the director's name. With no
///   config id, `@ID` lines are skipped and `@^ID` lines read, as keepalived does for an id no line names.
/// - Lines starting with `$NAME=` (parameter definitions) and `~SEQ` (sequences) need the rest of
///   keepalived's preprocessor, which lbctl does not implement: they are errors.
public enum KeepalivedLexer {
    /// Tokens, problems, and the first `@` line (the parser re-reads a file whose config id it guessed).
    struct Lexed {
        var tokens: [KeepalivedToken] = []
        var sink = DiagnosticSink()
        var firstConditionalLine: Int?
    }

    /// Characters keepalived counts as white space between words.
    static let whitespace: Set<Character> = [" ", "\t", "\u{0C}", "\u{0B}", "\r"]

    /// `configID`: who the file is read for (`@ID` lines); nil for nobody in particular.
    public static func tokenize(_ text: String, file: String, configID: String? = nil) -> (tokens: [KeepalivedToken], diagnostics: [KeepalivedDiagnostic]) {
        let lexed = lex(text, file: file, configID: configID)
        return (lexed.tokens, lexed.sink.diagnostics)
    }

    static func lex(_ text: String, file: String, configID: String?) -> Lexed {
        var lexed = Lexed()
        var lineNumber = 0
        // "\r\n" is one Character in Swift: split on it as well as on "\n".
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var chars = Array(rawLine)
            let start = chars.firstIndex { !whitespace.contains($0) } ?? chars.count
            if start < chars.count, chars[start] == "@" {
                if lexed.firstConditionalLine == nil { lexed.firstConditionalLine = lineNumber }
                guard let kept = condition(chars, from: start, configID: configID) else { continue }
                // Blanks keep the columns of what follows the prefix.
                chars = Array(repeating: " ", count: kept) + chars[kept...]
            }
            tokenizeLine(chars, line: lineNumber, file: file, into: &lexed.tokens, sink: &lexed.sink)
        }
        return lexed
    }

    /// Where the line goes on after `@ID` or `@^ID` and its blanks, when it is kept for `configID`;
    /// nil when keepalived skips it, as it does a prefix with nothing after it.
    static func condition(_ chars: [Character], from start: Int, configID: String?) -> Int? {
        let negated = start + 1 < chars.count && chars[start + 1] == "^"
        let idStart = start + (negated ? 2 : 1)
        // keepalived ends the id at a space or a tab only.
        guard let idEnd = chars[idStart...].firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        let matches = configID.map { String(chars[idStart..<idEnd]) == $0 } ?? false
        guard matches != negated else { return nil }
        return chars[idEnd...].firstIndex { $0 != " " && $0 != "\t" } ?? chars.count
    }

    static func tokenizeLine(_ chars: [Character], line: Int, file: String, into tokens: inout [KeepalivedToken], sink: inout DiagnosticSink) {
        let at = SourcePosition(file: file, line: line)
        let firstIndex = chars.firstIndex { !whitespace.contains($0) } ?? chars.count
        if firstIndex < chars.count {
            let rest = String(chars[firstIndex...])
            if rest.hasPrefix("~SEQ") {
                sink.error(at, "~SEQ sequences are not supported by lbctl import; write the lines out in full")
                return
            }
            if rest.hasPrefix("$"), isDefinition(rest) {
                sink.error(at, "parameter definitions ('$NAME=…') are not supported by lbctl import; write the values in place")
                return
            }
        }

        var word: [Character] = []
        var wordColumn = 0
        var inQuote = false
        var quoteColumn = 0

        func flush(quoted: Bool = false) {
            if !word.isEmpty || quoted {
                tokens.append(KeepalivedToken(kind: .word, text: String(word), line: line, column: wordColumn, quoted: quoted))
            }
            word = []
        }

        var i = firstIndex
        while i < chars.count {
            let c = chars[i]
            if inQuote {
                if c == "\"" {
                    inQuote = false
                    if word.last == "\\" {
                        sink.error(at, "a backslash before the closing quote at column \(i + 1): keepalived reads it as an escaped quote and reports an unterminated quote")
                    }
                    flush(quoted: true)
                } else {
                    word.append(c)
                }
                i += 1
                continue
            }
            if c == "\\", i + 1 < chars.count, chars[i + 1] == "#" || chars[i + 1] == "!" {
                if word.isEmpty { wordColumn = i + 1 }
                word.append(chars[i + 1])
                i += 2
                continue
            }
            if c == "#" || c == "!" {
                if !word.isEmpty {
                    let kept = String(word)
                    let lost = String(chars[i...].prefix { !whitespace.contains($0) })
                    sink.warning(at, "'\(c)' starts a comment even inside a word: keepalived reads '\(kept)', not '\(kept)\(lost)' (write \\\(c) to keep the character)")
                }
                break
            }
            if whitespace.contains(c) {
                flush()
            } else if c == "{" || c == "}" {
                flush()
                tokens.append(KeepalivedToken(kind: c == "{" ? .openBrace : .closeBrace, text: String(c), line: line, column: i + 1))
            } else if c == "\"" {
                flush()
                inQuote = true
                quoteColumn = i + 1
                wordColumn = i + 1
            } else {
                if word.isEmpty { wordColumn = i + 1 }
                word.append(c)
            }
            i += 1
        }
        if inQuote {
            sink.error(at, "the quote opened at column \(quoteColumn) is never closed; keepalived drops the rest of the line")
            word = []
        } else {
            flush()
        }
        // keepalived drops the blanks before a line's final backslash: "51 \\" reads as the word "51\\".
        if let last = tokens.last, last.line == line, last.kind == .word, !last.quoted, last.text == "\\",
           tokens.count >= 2, tokens[tokens.count - 2].line == line, tokens[tokens.count - 2].kind == .word {
            tokens.removeLast()
            tokens[tokens.count - 1].text += "\\"
        }
    }

    /// `$NAME=…` or `$NAME =…`, as keepalived recognises a definition.
    static func isDefinition(_ text: String) -> Bool {
        let body = text.dropFirst()
        guard let first = body.first, first.isLetter || first == "_" else { return false }
        let name = body.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return body.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }.first == "="
    }
}
