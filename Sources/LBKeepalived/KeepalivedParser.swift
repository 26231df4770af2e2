import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Builds the statement tree of a keepalived.conf from its tokens, following `include` lines.
///
/// A statement is the words of one line up to a brace or the end of the line. A `{` right after a
/// statement (on its line or the next) opens that statement's block; `}` closes the innermost block.
/// Unbalanced braces are errors that name the line, and the tree is still built as far as it makes sense.
public enum KeepalivedParser {
    /// A keepalived.conf is small; a larger file is a mistake or an attack on the parser.
    public static let maxFileBytes = 4 << 20
    /// keepalived itself allows deep nesting, but no meaningful configuration goes past 5 levels.
    public static let maxDepth = 32
    /// Includes nest at most this deep (a file including itself is caught earlier).
    public static let maxIncludeDepth = 8

    /// Reads `path` and the files it includes. `path` is used as given in every diagnostic.
    ///
    /// `configID` is the director the file is read for: its `@ID` lines are kept for that name (see
    /// KeepalivedLexer). Without one, a file that has such lines is read for its own router_id.
    public static func parse(file path: String, configID: String? = nil) -> KeepalivedSyntaxTree {
        read(file: path, configID: configID) { state in state.parseFile(path, includedFrom: nil, depth: 0) }
    }

    /// Parses text held in memory; `include` lines are resolved relative to `directory`.
    public static func parse(text: String, file: String = "keepalived.conf", directory: String = ".", configID: String? = nil) -> KeepalivedSyntaxTree {
        read(file: file, configID: configID) { state in
            state.files = [file]
            return state.parseText(text, file: file, directory: directory, depth: 0)
        }
    }

    /// Runs `body` for `configID`; when none is given but `@` lines are found, runs it again for the
    /// router_id written outside them, which names the director too (KeepalivedMerger) and is usually its
    /// host name, keepalived's own config id.
    static func read(file: String, configID: String?, _ body: (inout State) -> [KeepalivedStatement]) -> KeepalivedSyntaxTree {
        var state = State(configID: configID)
        var statements = body(&state)
        if configID == nil, let conditional = state.firstConditional {
            if let routerID = Self.routerID(in: statements) {
                state = State(configID: routerID)
                statements = body(&state)
                state.sink.warning(conditional, "'@' lines are read for '\(routerID)', this file's router_id (keepalived reads them for its config id: -i, else the host name); if that is not the director's host name, name it with --name NODE=\(file)")
            } else {
                state.sink.error(conditional, "'@' lines are kept or skipped by the director's name, and this file has no router_id outside them: name the director with --name NODE=\(file)")
            }
        }
        return KeepalivedSyntaxTree(file: file, statements: statements, diagnostics: state.sink.diagnostics, files: state.files, name: configID)
    }

    /// The last `global_defs { router_id … }`, as keepalived keeps the last.
    static func routerID(in statements: [KeepalivedStatement]) -> String? {
        statements.filter { $0.keyword == "global_defs" }.flatMap { $0.block ?? [] }.last { $0.keyword == "router_id" }?.arguments.first
    }

    struct State {
        var sink = DiagnosticSink()
        var files: [String] = []
        /// Canonical paths of the files being read, to refuse include cycles.
        var reading: [String] = []
        /// Who `@ID` lines are read for.
        var configID: String?
        /// The first `@` line of any file read.
        var firstConditional: SourcePosition?

        init(configID: String? = nil) { self.configID = configID }

        mutating func parseFile(_ path: String, includedFrom: SourcePosition?, depth: Int) -> [KeepalivedStatement] {
            let at = includedFrom ?? SourcePosition(file: path, line: 1)
            let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            if reading.contains(canonical) {
                sink.error(at, "\(path) is already being read (an include cycle); ignoring this include")
                return []
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                sink.error(at, "cannot read \(path): no such file")
                return []
            }
            if isDirectory.boolValue {
                sink.error(at, "cannot read \(path): it is a directory")
                return []
            }
            guard let handle = FileHandle(forReadingAtPath: path) else {
                sink.error(at, "cannot read \(path): permission denied or not a regular file")
                return []
            }
            defer { try? handle.close() }
            let data = (try? handle.read(upToCount: KeepalivedParser.maxFileBytes + 1)) ?? Data()
            if data.count > KeepalivedParser.maxFileBytes {
                sink.error(at, "\(path) is larger than \(KeepalivedParser.maxFileBytes) bytes; that is no keepalived.conf")
                return []
            }
            files.append(path)
            let text = String(decoding: data, as: UTF8.self)
            if String(data: data, encoding: .utf8) == nil {
                sink.warning(SourcePosition(file: path, line: 1), "\(path) is not valid UTF-8; invalid bytes are read as U+FFFD")
            }
            reading.append(canonical)
            defer { reading.removeLast() }
            let directory = (path as NSString).deletingLastPathComponent
            return parseText(text, file: path, directory: directory.isEmpty ? "." : directory, depth: depth)
        }

        mutating func parseText(_ text: String, file: String, directory: String, depth: Int) -> [KeepalivedStatement] {
            let lexed = KeepalivedLexer.lex(text, file: file, configID: configID)
            sink.diagnostics += lexed.sink.diagnostics
            if firstConditional == nil, let line = lexed.firstConditionalLine { firstConditional = SourcePosition(file: file, line: line) }
            return build(lexed.tokens, file: file, directory: directory, depth: depth)
        }

        /// An open block: the statement that opened it (nil for a stray `{`), and what it holds so far.
        struct Frame {
            var opener: KeepalivedStatement?
            var children: [KeepalivedStatement] = []
            var openLine: Int
            /// Deeper than maxDepth: contents are dropped, braces still counted.
            var discarding = false
        }

        mutating func build(_ tokens: [KeepalivedToken], file: String, directory: String, depth: Int) -> [KeepalivedStatement] {
            var stack = [Frame(opener: nil, openLine: 0)]
            var pending: [KeepalivedToken] = []
            /// The last statement of the innermost frame may still take a `{` (nothing came after it).
            var attachable = false
            var reportedDepth = false

            func flush() -> KeepalivedStatement? {
                guard !pending.isEmpty else { return nil }
                defer { pending = [] }
                return KeepalivedStatement(words: pending, file: file)
            }

            func add(_ statement: KeepalivedStatement, to stack: inout [Frame], state: inout State) {
                guard !stack[stack.count - 1].discarding else { return }
                if statement.keyword == "include" && statement.block == nil && statement.words.count == 2 {
                    let included = state.include(statement, directory: directory, depth: depth)
                    stack[stack.count - 1].children += included
                    attachable = false
                } else {
                    stack[stack.count - 1].children.append(statement)
                    attachable = true
                }
            }

            for token in tokens {
                switch token.kind {
                case .word:
                    if let last = pending.last, last.line != token.line, let s = flush() {
                        add(s, to: &stack, state: &self)
                    }
                    if pending.isEmpty { attachable = false }
                    pending.append(token)
                case .openBrace:
                    if let s = flush() { add(s, to: &stack, state: &self) }
                    var opener: KeepalivedStatement?
                    if attachable, !stack[stack.count - 1].discarding, let last = stack[stack.count - 1].children.last, last.block == nil {
                        opener = stack[stack.count - 1].children.removeLast()
                    }
                    var frame = Frame(opener: opener, openLine: token.line)
                    if stack.last!.discarding || stack.count > KeepalivedParser.maxDepth {
                        frame.discarding = true
                        if !reportedDepth && !stack.last!.discarding {
                            sink.error(SourcePosition(file: file, line: token.line), "blocks nested more than \(KeepalivedParser.maxDepth) deep; ignoring what is inside")
                            reportedDepth = true
                        }
                    }
                    stack.append(frame)
                    attachable = false
                case .closeBrace:
                    if let s = flush() { add(s, to: &stack, state: &self) }
                    guard stack.count > 1 else {
                        sink.error(SourcePosition(file: file, line: token.line), "'}' closes no block (one '}' too many, or a '{' missing before it)")
                        attachable = false
                        continue
                    }
                    let frame = stack.removeLast()
                    close(frame, endLine: token.line, into: &stack, file: file)
                    attachable = false
                }
            }
            if let s = flush() { add(s, to: &stack, state: &self) }
            while stack.count > 1 {
                let frame = stack.removeLast()
                let what = frame.opener.map { "'\($0.keyword)'" } ?? "'{'"
                sink.error(SourcePosition(file: file, line: frame.opener?.line ?? frame.openLine),
                           "the block of \(what) opened here is never closed (a '}' is missing)")
                close(frame, endLine: frame.children.last?.endLine ?? frame.openLine, into: &stack, file: file)
            }
            return stack[0].children
        }

        mutating func close(_ frame: Frame, endLine: Int, into stack: inout [Frame], file: String) {
            guard !frame.discarding, !stack[stack.count - 1].discarding else { return }
            guard var opener = frame.opener else {
                // A stray block inside a stray block is part of what is already reported.
                let parent = stack[stack.count - 1]
                if parent.opener == nil && stack.count > 1 { return }
                sink.error(SourcePosition(file: file, line: frame.openLine),
                           "'{' follows no keyword; its block (lines \(frame.openLine)–\(endLine)) is ignored")
                return
            }
            opener.block = frame.children
            opener.endLine = endLine
            stack[stack.count - 1].children.append(opener)
        }

        /// `include PATTERN`: every file the glob matches, relative to the including file's directory.
        mutating func include(_ statement: KeepalivedStatement, directory: String, depth: Int) -> [KeepalivedStatement] {
            let pattern = statement.words[1].text
            guard depth < KeepalivedParser.maxIncludeDepth else {
                sink.error(statement.position, "includes nest deeper than \(KeepalivedParser.maxIncludeDepth) files; ignoring include \(pattern)")
                return []
            }
            let full = pattern.hasPrefix("/") || directory == "." ? pattern : (directory as NSString).appendingPathComponent(pattern)
            let matches = KeepalivedParser.glob(full)
            if matches.isEmpty {
                sink.warning(statement.position, "include \(pattern) matches no file; keepalived skips it too")
                return []
            }
            var out: [KeepalivedStatement] = []
            for path in matches {
                out += parseFile(path, includedFrom: statement.position, depth: depth + 1)
            }
            return out
        }
    }

    /// Paths matching a shell pattern (with csh-style braces), sorted, without directories.
    static func glob(_ pattern: String) -> [String] {
        #if canImport(Glibc)
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, GLOB_MARK | GLOB_BRACE, nil, &g) == 0 else { return [] }
        var out: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            guard let p = g.gl_pathv[i] else { continue }
            let path = String(cString: p)
            if !path.hasSuffix("/") { out.append(path) }
        }
        return out
        #else
        return FileManager.default.fileExists(atPath: pattern) ? [pattern] : []
        #endif
    }
}
