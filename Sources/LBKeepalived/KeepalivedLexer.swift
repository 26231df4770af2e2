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

/// Splits the lines keepalived reads (KeepalivedPreprocessor's) into tokens, the way keepalived 2.2.7
/// reads them:
///
/// - `#` and `!` start a comment anywhere outside double quotes, also in the middle of a word;
///   `\#` and `\!` are the characters themselves.
/// - `{` and `}` outside double quotes are tokens of their own, wherever they stand on a line.
/// - Words are separated by spaces and tabs. A word starting with `"` runs to the next `"` and may hold
///   spaces, braces and comment characters; there are no escapes in it. Single quotes are ordinary
///   characters (keepalived gives them meaning only inside script command lines).
public enum KeepalivedLexer {
    /// Characters keepalived counts as white space between words.
    static let whitespace: Set<Character> = [" ", "\t", "\u{0C}", "\u{0B}", "\r"]

    /// The lines of a text as keepalived splits them ("\r\n" is one Character in Swift, so both are split on).
    static func lines(_ text: String) -> [ArraySlice<Character>] {
        Array(text).split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    }

    /// The tokens of one text, preprocessed (`@` lines for `configID`, definitions, ~SEQ) but with
    /// `include` lines left as words; KeepalivedParser follows them.
    public static func tokenize(_ text: String, file: String, configID: String? = nil) -> (tokens: [KeepalivedToken], diagnostics: [KeepalivedDiagnostic]) {
        var preprocessor = KeepalivedPreprocessor(configID: configID)
        var sink = DiagnosticSink()
        var tokens: [KeepalivedToken] = []
        for (index, raw) in lines(text).enumerated() {
            let at = SourcePosition(file: file, line: index + 1)
            for line in preprocessor.lines(of: Array(raw), at: at, directory: ".", sink: &sink) {
                tokenizeLine(line, line: index + 1, file: file, into: &tokens, sink: &sink)
            }
        }
        return (tokens, sink.diagnostics)
    }

    static func tokenizeLine(_ chars: [Character], line: Int, file: String, into tokens: inout [KeepalivedToken], sink: inout DiagnosticSink) {
        let at = SourcePosition(file: file, line: line)
        let firstIndex = chars.firstIndex { !whitespace.contains($0) } ?? chars.count

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
}
