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
        read(file: path, configID: configID) { state in
            state.lexFile(path, includedFrom: nil, depth: 0)
            return state.build()
        }
    }

    /// Parses text held in memory; `include` lines are resolved relative to `directory`.
    public static func parse(text: String, file: String = "keepalived.conf", directory: String = ".", configID: String? = nil) -> KeepalivedSyntaxTree {
        read(file: file, configID: configID) { state in
            state.files = [file]
            state.lexText(text, file: file, directory: directory, depth: 0)
            return state.build()
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

    /// A token and the file it was read from: an included file's tokens stand where its `include` was.
    struct PlacedToken {
        var token: KeepalivedToken
        var file: String
        /// Which line keepalived read it on, counted over all files: a definition of several lines makes
        /// several lines of one written line, and a statement ends with each.
        var readLine: Int
    }

    struct State {
        var sink = DiagnosticSink()
        var files: [String] = []
        /// Canonical paths of the files being read, to refuse include cycles.
        var reading: [String] = []
        /// `@` lines, definitions and ~SEQ, whose definitions hold across included files, as keepalived's do.
        var preprocessor: KeepalivedPreprocessor
        /// Every file's tokens in reading order.
        var tokens: [PlacedToken] = []
        var readLines = 0
        /// The first `@` line of any file read (or use of `${_INSTANCE}`).
        var firstConditional: SourcePosition? { preprocessor.firstConditional }

        init(configID: String? = nil) { preprocessor = KeepalivedPreprocessor(configID: configID) }

        /// Reads `path`'s tokens, and those of the files it includes where it includes them.
        mutating func lexFile(_ path: String, includedFrom: SourcePosition?, depth: Int) {
            let at = includedFrom ?? SourcePosition(file: path, line: 1)
            let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            if reading.contains(canonical) {
                sink.error(at, "\(path) is already being read (an include cycle); ignoring this include")
                return
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                sink.error(at, "cannot read \(path): no such file")
                return
            }
            if isDirectory.boolValue {
                sink.error(at, "cannot read \(path): it is a directory")
                return
            }
            guard let handle = FileHandle(forReadingAtPath: path) else {
                sink.error(at, "cannot read \(path): permission denied or not a regular file")
                return
            }
            defer { try? handle.close() }
            let data = (try? handle.read(upToCount: KeepalivedParser.maxFileBytes + 1)) ?? Data()
            if data.count > KeepalivedParser.maxFileBytes {
                sink.error(at, "\(path) is larger than \(KeepalivedParser.maxFileBytes) bytes; that is no keepalived.conf")
                return
            }
            files.append(path)
            let text = String(decoding: data, as: UTF8.self)
            if String(data: data, encoding: .utf8) == nil {
                sink.warning(SourcePosition(file: path, line: 1), "\(path) is not valid UTF-8; invalid bytes are read as U+FFFD")
            }
            reading.append(canonical)
            defer { reading.removeLast() }
            let directory = (path as NSString).deletingLastPathComponent
            lexText(text, file: path, directory: directory.isEmpty ? "." : directory, depth: depth)
        }

        /// Preprocesses and splits each line of `text`; a statement `include PATTERN` (words between braces
        /// or line ends) is replaced by the included files' tokens, as keepalived reads them in its place.
        mutating func lexText(_ text: String, file: String, directory: String, depth: Int) {
            for (index, raw) in KeepalivedLexer.lines(text).enumerated() {
                let at = SourcePosition(file: file, line: index + 1)
                for line in preprocessor.lines(of: Array(raw), at: at, directory: directory, sink: &sink) {
                    readLines += 1
                    var lineTokens: [KeepalivedToken] = []
                    KeepalivedLexer.tokenizeLine(line, line: index + 1, file: file, into: &lineTokens, sink: &sink)
                    var i = 0
                    while i < lineTokens.count {
                        let t = lineTokens[i]
                        let statementEnd = lineTokens[i...].firstIndex { $0.kind != .word } ?? lineTokens.count
                        if t.kind == .word, t.text == "include", !t.quoted, statementEnd - i == 2,
                           i == 0 || lineTokens[i - 1].kind != .word {
                            include(lineTokens[i + 1].text, at: at, directory: directory, depth: depth)
                            i += 2
                            continue
                        }
                        tokens.append(PlacedToken(token: t, file: file, readLine: readLines))
                        i += 1
                    }
                }
            }
            preprocessor.endOfFile()
        }

        /// An open block: the statement that opened it (nil for a stray `{`), and what it holds so far.
        struct Frame {
            var opener: KeepalivedStatement?
            var children: [KeepalivedStatement] = []
            var openAt: SourcePosition
            /// Deeper than maxDepth: contents are dropped, braces still counted.
            var discarding = false
        }

        /// The statement tree of every token read; blocks may open in one file and close in another, as
        /// keepalived reads an included file in place of its `include`.
        mutating func build() -> [KeepalivedStatement] {
            var stack = [Frame(opener: nil, openAt: SourcePosition(file: "", line: 0))]
            var pending: [KeepalivedToken] = []
            var pendingFile = ""
            var pendingLine = 0
            /// The last statement of the innermost frame may still take a `{` (nothing came after it).
            var attachable = false
            var reportedDepth = false

            func flush() -> KeepalivedStatement? {
                guard !pending.isEmpty else { return nil }
                defer { pending = [] }
                return KeepalivedStatement(words: pending, file: pendingFile)
            }

            func add(_ statement: KeepalivedStatement, to stack: inout [Frame]) {
                guard !stack[stack.count - 1].discarding else { return }
                stack[stack.count - 1].children.append(statement)
                attachable = true
            }

            for placed in tokens {
                let token = placed.token
                let at = SourcePosition(file: placed.file, line: token.line)
                switch token.kind {
                case .word:
                    if !pending.isEmpty, pendingLine != placed.readLine, let s = flush() {
                        add(s, to: &stack)
                    }
                    if pending.isEmpty { attachable = false }
                    pending.append(token)
                    pendingFile = placed.file
                    pendingLine = placed.readLine
                case .openBrace:
                    if let s = flush() { add(s, to: &stack) }
                    var opener: KeepalivedStatement?
                    if attachable, !stack[stack.count - 1].discarding, let last = stack[stack.count - 1].children.last, last.block == nil {
                        opener = stack[stack.count - 1].children.removeLast()
                    }
                    var frame = Frame(opener: opener, openAt: at)
                    if stack.last!.discarding || stack.count > KeepalivedParser.maxDepth {
                        frame.discarding = true
                        if !reportedDepth && !stack.last!.discarding {
                            sink.error(at, "blocks nested more than \(KeepalivedParser.maxDepth) deep; ignoring what is inside")
                            reportedDepth = true
                        }
                    }
                    stack.append(frame)
                    attachable = false
                case .closeBrace:
                    if let s = flush() { add(s, to: &stack) }
                    guard stack.count > 1 else {
                        sink.error(at, "'}' closes no block (one '}' too many, or a '{' missing before it)")
                        attachable = false
                        continue
                    }
                    let frame = stack.removeLast()
                    close(frame, endLine: token.line, into: &stack)
                    attachable = false
                }
            }
            if let s = flush() { add(s, to: &stack) }
            while stack.count > 1 {
                let frame = stack.removeLast()
                let what = frame.opener.map { "'\($0.keyword)'" } ?? "'{'"
                sink.error(frame.opener?.position ?? frame.openAt, "the block of \(what) opened here is never closed (a '}' is missing)")
                close(frame, endLine: frame.children.last?.endLine ?? frame.openAt.line, into: &stack)
            }
            return stack[0].children
        }

        mutating func close(_ frame: Frame, endLine: Int, into stack: inout [Frame]) {
            guard !frame.discarding, !stack[stack.count - 1].discarding else { return }
            guard var opener = frame.opener else {
                // A stray block inside a stray block is part of what is already reported.
                let parent = stack[stack.count - 1]
                if parent.opener == nil && stack.count > 1 { return }
                sink.error(frame.openAt, "'{' follows no keyword; its block (lines \(frame.openAt.line)–\(endLine)) is ignored")
                return
            }
            opener.block = frame.children
            opener.endLine = endLine
            stack[stack.count - 1].children.append(opener)
        }

        /// `include PATTERN`: every file the glob matches, relative to the including file's directory.
        mutating func include(_ pattern: String, at position: SourcePosition, directory: String, depth: Int) {
            guard depth < KeepalivedParser.maxIncludeDepth else {
                sink.error(position, "includes nest deeper than \(KeepalivedParser.maxIncludeDepth) files; ignoring include \(pattern)")
                return
            }
            let full = pattern.hasPrefix("/") || directory == "." ? pattern : (directory as NSString).appendingPathComponent(pattern)
            let matches = KeepalivedParser.glob(full)
            if matches.isEmpty {
                sink.warning(position, "include \(pattern) matches no file; keepalived skips it too")
                return
            }
            for path in matches {
                lexFile(path, includedFrom: position, depth: depth + 1)
            }
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
