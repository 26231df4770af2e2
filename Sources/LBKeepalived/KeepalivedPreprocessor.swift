import Foundation

/// keepalived's preprocessor (lib/parser.c, `read_line`): what turns the lines written in a file into the
/// lines keepalived reads, before they are split into words.
///
/// - `@ID rest` is `rest` only for config id ID, `@^ID rest` only for any other; ID ends at a space or a
///   tab, and a prefix with nothing after it drops the line. With no config id, `@ID` lines are dropped
///   and `@^ID` lines kept, as keepalived does for an id no line names.
/// - `$NAME=value` defines NAME (a letter or `_`, then letters, digits, `_`); blanks after `=` are not
///   part of the value, and a later definition replaces an earlier one. A value ending in `\` goes on
///   over the next lines up to one without it or an empty line (comment-only lines are passed over):
///   a multi-line definition, which stands for several lines.
/// - `$NAME` (followed by a blank, `,`, `)` or the end of the line) and `${NAME}` are replaced by the
///   value, which is read again for definitions of its own; a multi-line value only when it ends the line,
///   its first line in place and the others as lines of their own. An unknown `$NAME` stays as written.
///   The values are not read at definition time but where they are used, as keepalived does.
/// - `~SEQ(VAR, START, STEP, END) rest` reads `rest` once for each VAR from START to END by STEP
///   (`~SEQ(VAR, END)` counts 1…END, `~SEQ(VAR, START, END)` by ±1; `~SEQx` writes VAR in hex, for
///   IPv6); `~LST(VAR, A, B, …) rest` once for each value, `~LST({V1, V2}, {A1, A2}, {B1, B2}) rest`
///   once for each set. VAR stays defined with its last value afterwards, as in keepalived.
/// - keepalived's own definitions: `_PWD` (the directory of the file read), `_INSTANCE` (the config
///   id), `_HASH` (`#`), `_BANG` (`!`), `_RANDOM` (lb reads its lowest value, with a warning: an import
///   must give the same spec each time).
struct KeepalivedPreprocessor {
    /// A definition's value: one line, or several for a definition written over several lines.
    struct Definition: Equatable {
        var lines: [String]
        var multiline: Bool
    }

    /// Lines one written line may become (a `~SEQ` over a range or definitions repeating each other): more
    /// is no configuration but a mistake, and would otherwise eat the machine.
    static let maxLinesPerLine = 65_536
    /// How long a line may grow by replacements (keepalived's limit is its line buffer).
    static let maxLineLength = 65_536
    /// Replacements in one line: definitions that name themselves would otherwise never end.
    static let maxReplacements = 1_024

    let configID: String?
    var definitions: [String: Definition] = [:]
    /// The first `@` line of any file, and the first use of `_INSTANCE`: both depend on the config id.
    var firstConditional: SourcePosition?
    /// The name of a definition whose value ends in `\` and so goes on over the next line.
    var continuing: String?
    /// Unknown `$NAME`s already reported for the line being read (it may be read more than once).
    private var warned: Set<String> = []

    init(configID: String?) { self.configID = configID }

    /// The lines keepalived reads for the written line `raw` (line `line` of `file`, in `directory`):
    /// none, the line itself, or several. Characters are kept where they stand when nothing is replaced,
    /// so words keep their columns.
    mutating func lines(of raw: [Character], at position: SourcePosition, directory: String,
                        sink: inout DiagnosticSink) -> [[Character]] {
        if let name = continuing {
            continueDefinition(name, with: raw)
            return []
        }
        var out: [[Character]] = []
        warned = []
        var budget = Self.maxLinesPerLine
        read(raw, at: position, directory: directory, depth: 0, into: &out, budget: &budget, sink: &sink)
        if budget < 0 {
            sink.error(position, "this line makes more than \(Self.maxLinesPerLine) lines (a ~SEQ or definitions that repeat each other); ignoring it")
            return []
        }
        return out
    }

    /// The end of the file ends a definition that was still going on.
    mutating func endOfFile() { continuing = nil }

    /// keepalived ends a multi-line definition at an empty line or at a line without a final `\`; a
    /// line holding only a comment is passed over.
    private mutating func continueDefinition(_ name: String, with raw: [Character]) {
        if raw.allSatisfy({ $0 == "\r" }) {
            continuing = nil
            return
        }
        var text = Self.decomment(raw)
        if text.isEmpty { return }
        if !Self.dropContinuation(&text) { continuing = nil }
        if !text.isEmpty { definitions[name, default: Definition(lines: [], multiline: true)].lines.append(String(text)) }
    }

    // `depth` counts the re-readings of one line; each replaces something, so maxReplacements bounds it.
    private mutating func read(_ chars: [Character], at position: SourcePosition, directory: String, depth: Int,
                               into out: inout [[Character]], budget: inout Int, sink: inout DiagnosticSink) {
        guard budget >= 0 else { return }
        var chars = chars
        guard let start = chars.firstIndex(where: { !KeepalivedLexer.whitespace.contains($0) }) else {
            out.append(chars)
            budget -= 1
            return
        }
        if chars[start] == "@" {
            if firstConditional == nil { firstConditional = position }
            guard let kept = Self.condition(chars, from: start, configID: configID) else { return }
            // Blanks keep the columns of what follows the prefix.
            chars = Array(repeating: " ", count: kept) + chars[kept...]
        }
        let rest = chars.drop { KeepalivedLexer.whitespace.contains($0) }
        if rest.first == "$", let (name, value) = Self.definition(rest) {
            define(name, value)
            return
        }
        if rest.starts(with: "~SEQ") || rest.starts(with: "~LST") {
            let isSequence = rest.starts(with: "~SEQ")
            guard let (variable, values, text) = isSequence ? sequence(Array(rest), at: position, sink: &sink)
                                                            : list(Array(rest), at: position, sink: &sink) else { return }
            for set in values {
                guard budget >= 0 else { return }
                for (name, value) in zip(variable, set) { definitions[name] = Definition(lines: [value], multiline: false) }
                read(text, at: position, directory: directory, depth: depth + 1, into: &out, budget: &budget, sink: &sink)
            }
            return
        }
        if rest.contains("$"), depth < Self.maxReplacements {
            switch replace(chars, at: position, directory: directory, sink: &sink) {
            case .unchanged:
                break
            case .replaced(let first, let following):
                read(first, at: position, directory: directory, depth: depth + 1, into: &out, budget: &budget, sink: &sink)
                for line in following {
                    read(Array(line), at: position, directory: directory, depth: depth + 1, into: &out, budget: &budget, sink: &sink)
                }
                return
            case .failed:
                return
            }
        } else if rest.contains("$") {
            sink.error(position, "the definitions used on this line name each other without end; ignoring the line")
            return
        }
        out.append(chars)
        budget -= 1
    }

    private mutating func define(_ name: String, _ value: [Character]) {
        var text = Self.decomment(value)
        if Self.dropContinuation(&text) {
            definitions[name] = Definition(lines: text.isEmpty ? [] : [String(text)], multiline: true)
            continuing = name
        } else {
            definitions[name] = Definition(lines: [String(text)], multiline: false)
        }
    }

    enum Replacement {
        case unchanged
        /// The line with its definitions in place, and the further lines of a multi-line one.
        case replaced([Character], [String])
        /// Reported already.
        case failed
    }

    /// keepalived's replace_param: every `$NAME` or `${NAME}` with a definition, left to right, each value
    /// read again where it now stands (so a value may hold other definitions).
    private mutating func replace(_ line: [Character], at position: SourcePosition, directory: String,
                                  sink: inout DiagnosticSink) -> Replacement {
        var chars = line
        var following: [String] = []
        var changed = false
        var replacements = 0
        var i = 0
        var inQuote = false
        while i < chars.count {
            let c = chars[i]
            if c == "\"" { inQuote.toggle() }
            guard c == "$", i + 1 < chars.count, let reference = Self.reference(chars, at: i) else {
                i += 1
                continue
            }
            let endsLine = reference.end == chars.count
            guard let value = value(of: reference.name, parameters: reference.parameters, endsLine: endsLine,
                                    at: position, directory: directory, sink: &sink) else {
                if let definition = definitions[reference.name], definition.multiline, !endsLine, warned.insert(reference.name).inserted {
                    sink.warning(position, "$\(reference.name) is a definition of several lines: keepalived replaces it only at the end of a line, and reads it here as written")
                } else if !inQuote, definitions[reference.name] == nil, !Self.standard.contains(reference.name),
                          warned.insert(reference.name).inserted {
                    sink.warning(position, "$\(reference.name) has no definition ('$\(reference.name)=…') before this line: keepalived reads it as written")
                }
                i = reference.end
                continue
            }
            replacements += 1
            guard replacements <= Self.maxReplacements else {
                sink.error(position, "the definitions used on this line name each other without end; ignoring the line")
                return .failed
            }
            changed = true
            let first = Array(value.first ?? "")
            if value.count > 1 {
                // Lines that were to follow an earlier multi-line value on this line come after this one's.
                following = Array(value.dropFirst()) + following
            }
            chars.replaceSubrange(i..<reference.end, with: first)
            guard chars.count <= Self.maxLineLength else {
                sink.error(position, "replacing the definitions makes this line longer than \(Self.maxLineLength) characters; ignoring it")
                return .failed
            }
            // A value starting with `~` is a ~SEQ or ~LST to be read as such; keepalived stops replacing there.
            if first.drop(while: { $0 == " " || $0 == "\t" }).first == "~" { break }
        }
        return changed ? .replaced(chars, following) : .unchanged
    }

    /// What keepalived skips around the words of ~SEQ and ~LST (spaces and tabs, not every Unicode blank).
    static let blanks = CharacterSet(charactersIn: " \t")

    /// keepalived's standard definitions, which a file may redefine.
    static let standard: Set<String> = ["_PWD", "_INSTANCE", "_RANDOM", "_HASH", "_BANG"]

    private mutating func value(of name: String, parameters: [Int], endsLine: Bool, at position: SourcePosition,
                                directory: String, sink: inout DiagnosticSink) -> [String]? {
        if let definition = definitions[name] {
            // keepalived takes parameters for its own _RANDOM only, and a multi-line value only at the end of a line.
            guard parameters.isEmpty, !definition.multiline || endsLine else { return nil }
            return definition.multiline ? definition.lines : [definition.lines.first ?? ""]
        }
        switch name {
        case "_PWD":
            return [Self.absolute(directory)]
        case "_INSTANCE":
            if firstConditional == nil { firstConditional = position }
            return [configID ?? ""]
        case "_HASH" where parameters.isEmpty:
            return ["#"]
        case "_BANG" where parameters.isEmpty:
            return ["!"]
        case "_RANDOM" where parameters.count <= 2:
            let low = parameters.first ?? 0
            sink.warning(position, "${_RANDOM} is a new random number each time keepalived reads it; lb reads \(low), its lowest value, so that importing the file again gives the same spec")
            return [String(low)]
        default:
            return nil
        }
    }

    /// A `$NAME` or `${NAME}` (with `${_RANDOM MIN MAX}`'s numbers) starting at `i`, as keepalived's
    /// find_definition reads one: `$NAME` must be followed by a blank, `,`, `)` or the end of the line.
    static func reference(_ chars: [Character], at i: Int) -> (name: String, parameters: [Int], end: Int)? {
        var j = i + 1
        let braces = chars[j] == "{"
        if braces { j += 1 }
        guard j < chars.count, chars[j].isASCII, chars[j].isLetter || chars[j] == "_" else { return nil }
        let nameStart = j
        while j < chars.count, chars[j].isASCII, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
        let name = String(chars[nameStart..<j])
        if braces {
            var words = ""
            while j < chars.count, chars[j] == " " || (chars[j].isASCII && chars[j].isNumber) { words.append(chars[j]); j += 1 }
            guard j < chars.count, chars[j] == "}", words.last != " " else { return nil }
            return (name, words.split(separator: " ").compactMap { Int($0) }, j + 1)
        }
        guard j == chars.count || [" ", "\t", ",", ")"].contains(chars[j]) else { return nil }
        return (name, [], j)
    }

    /// `$NAME=…` or `$NAME =…`: the name and what follows `=` and its blanks.
    static func definition(_ text: ArraySlice<Character>) -> (String, [Character])? {
        let body = text.dropFirst()
        guard let first = body.first, first.isASCII, first.isLetter || first == "_" else { return nil }
        let name = body.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        let afterName = body.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
        guard afterName.first == "=" else { return nil }
        return (String(name), Array(afterName.dropFirst().drop { $0 == " " || $0 == "\t" }))
    }

    /// Where the line goes on after `@ID` or `@^ID` and its blanks, when it is kept for `configID`; nil
    /// when keepalived skips it, as it does a prefix with nothing after it.
    static func condition(_ chars: [Character], from start: Int, configID: String?) -> Int? {
        let negated = start + 1 < chars.count && chars[start + 1] == "^"
        let idStart = start + (negated ? 2 : 1)
        // keepalived ends the id at a space or a tab only.
        guard let idEnd = chars[idStart...].firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        let matches = configID.map { String(chars[idStart..<idEnd]) == $0 } ?? false
        guard matches != negated else { return nil }
        return chars[idEnd...].firstIndex { $0 != " " && $0 != "\t" } ?? chars.count
    }

    /// Whether `text` ends in the `\\` that continues a definition on the next line; it is dropped, with
    /// the blanks before it.
    static func dropContinuation(_ text: inout [Character]) -> Bool {
        guard text.last == "\\" else { return false }
        text.removeLast()
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return true
    }

    /// keepalived's decomment for a definition's value: the comment cut off (`#` or `!` outside quotes,
    /// `\#` and `\!` being the characters), blanks at both ends removed.
    static func decomment(_ chars: some Collection<Character>) -> [Character] {
        var out: [Character] = []
        var inQuote = false
        var chars = Array(chars.drop { $0 == " " || $0 == "\t" })
        if chars.last == "\r" { chars.removeLast() }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\"" { inQuote.toggle() }
            if !inQuote, c == "\\", i + 1 < chars.count, chars[i + 1] == "#" || chars[i + 1] == "!" {
                out.append(chars[i + 1])
                i += 2
                continue
            }
            if !inQuote, c == "#" || c == "!" { break }
            out.append(c)
            i += 1
        }
        while let last = out.last, last == " " || last == "\t" { out.removeLast() }
        return out
    }

    private static func absolute(_ directory: String) -> String {
        if directory.hasPrefix("/") { return directory }
        let cwd = FileManager.default.currentDirectoryPath
        return directory == "." ? cwd : cwd + "/" + directory
    }

    // MARK: ~SEQ and ~LST

    /// `~SEQ(VAR, …) rest` (keepalived's add_seq): the variable, each value, and `rest`.
    private func sequence(_ chars: [Character], at position: SourcePosition,
                          sink: inout DiagnosticSink) -> ([String], [[String]], [Character])? {
        var p = 4
        let hex = p < chars.count && chars[p] == "x"
        if hex { p += 1 }
        let invalid = "is no ~SEQ(VAR, START, STEP, END) (keepalived ignores it)"
        guard let (inside, restStart) = Self.parenthesised(chars, from: p) else {
            sink.warning(position, "'\(String(chars))' \(invalid)")
            return nil
        }
        var parts = inside.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: Self.blanks) }
        guard parts.count >= 2, parts.count <= 4, !parts[0].isEmpty, !parts[0].contains(" ") else {
            sink.warning(position, "'\(String(chars))' \(invalid)")
            return nil
        }
        let variable = parts.removeFirst()
        // keepalived replaces definitions in the numbers (a ~SEQ up to $COUNT).
        var numbers: [Int] = []
        for part in parts {
            var text = Array(part)
            if text.first == "$", let r = Self.reference(text, at: 0), r.end == text.count, let d = definitions[r.name], !d.multiline {
                text = Array(d.lines.first ?? "")
            }
            guard let n = Self.integer(String(text).trimmingCharacters(in: Self.blanks)) else {
                sink.warning(position, "'\(String(chars))': '\(part)' is no number (keepalived ignores the ~SEQ)")
                return nil
            }
            numbers.append(n)
        }
        let start: Int, step: Int, end: Int
        switch numbers.count {
        case 1:
            end = numbers[0]
            step = end < 1 ? -1 : 1
            start = end < 0 ? -1 : 1
        case 2:
            (start, end) = (numbers[0], numbers[1])
            step = start <= end ? 1 : -1
        default:
            (start, step, end) = (numbers[0], numbers[1], numbers[2])
            guard step != 0, !(start < end && step < 0), !(start > end && step > 0) else {
                sink.warning(position, "'\(String(chars))': a step of \(step) never goes from \(start) to \(end) (keepalived ignores the ~SEQ)")
                return nil
            }
        }
        if hex, start < 0 || end < 0 {
            sink.warning(position, "'\(String(chars))': ~SEQx takes positive numbers only (keepalived ignores it)")
            return nil
        }
        let (span, overflow) = end.subtractingReportingOverflow(start)
        guard !overflow, span / step < Self.maxLinesPerLine else {
            sink.error(position, "this ~SEQ makes more than \(Self.maxLinesPerLine) lines; ignoring it")
            return nil
        }
        let values = stride(from: start, through: end, by: step).map { [hex ? String($0, radix: 16) : String($0)] }
        return ([variable], values, Array(chars[restStart...]))
    }

    /// `~LST(VAR, A, B) rest` or `~LST({V1, V2}, {A1, A2}, {B1}) rest` (keepalived's add_lst): the
    /// variables, each set of values (missing ones empty), and `rest`.
    private func list(_ chars: [Character], at position: SourcePosition,
                      sink: inout DiagnosticSink) -> ([String], [[String]], [Character])? {
        let invalid = "is no ~LST(VAR, VALUE, …) or ~LST({VAR, …}, {VALUE, …}, …) (keepalived ignores it)"
        guard let (inside, restStart) = Self.parenthesised(chars, from: 4) else {
            sink.warning(position, "'\(String(chars))' \(invalid)")
            return nil
        }
        // Groups: "{a, b}" or a single word, separated by commas outside braces.
        var groups: [[String]] = []
        var current = ""
        var inBraces = false
        var braced: [String]?
        for c in inside {
            if c == "{" && !inBraces { inBraces = true; braced = []; current = ""; continue }
            if c == "}" && inBraces { inBraces = false; braced?.append(current.trimmingCharacters(in: Self.blanks)); current = ""; continue }
            if c == "," && inBraces { braced?.append(current.trimmingCharacters(in: Self.blanks)); current = ""; continue }
            if c == "," {
                groups.append(braced ?? [current.trimmingCharacters(in: Self.blanks)])
                braced = nil
                current = ""
                continue
            }
            current.append(c)
        }
        guard !inBraces else {
            sink.warning(position, "'\(String(chars))' \(invalid)")
            return nil
        }
        groups.append(braced ?? [current.trimmingCharacters(in: Self.blanks)])
        guard groups.count >= 2, let variables = groups.first, variables.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else {
            sink.warning(position, "'\(String(chars))' \(invalid)")
            return nil
        }
        var sets: [[String]] = []
        for group in groups.dropFirst() {
            guard group.count <= variables.count else {
                sink.warning(position, "'\(String(chars))': a set has more values than the \(variables.count) variables (keepalived ignores the ~LST)")
                return nil
            }
            sets.append(group + Array(repeating: "", count: variables.count - group.count))
        }
        return (variables, sets, Array(chars[restStart...]))
    }

    /// What is between `(` (after blanks from `from`) and the next `)`, and where the rest of the line
    /// starts after that `)` and its blanks.
    static func parenthesised(_ chars: [Character], from: Int) -> (String, Int)? {
        var p = from
        while p < chars.count, chars[p] == " " || chars[p] == "\t" { p += 1 }
        guard p < chars.count, chars[p] == "(", let close = chars[p...].firstIndex(of: ")") else { return nil }
        var rest = close + 1
        while rest < chars.count, chars[rest] == " " || chars[rest] == "\t" { rest += 1 }
        return (String(chars[(p + 1)..<close]), rest)
    }

    /// strtol with base 0: decimal, `0x` hex or `0` octal, with a sign.
    static func integer(_ text: String) -> Int? {
        var t = Substring(text)
        var negative = false
        if t.first == "-" || t.first == "+" { negative = t.first == "-"; t = t.dropFirst() }
        let value: Int?
        if t.hasPrefix("0x") || t.hasPrefix("0X") { value = Int(t.dropFirst(2), radix: 16) }
        else if t.count > 1, t.hasPrefix("0") { value = Int(t.dropFirst(), radix: 8) }
        else { value = Int(t) }
        return value.map { negative ? -$0 : $0 }
    }
}

