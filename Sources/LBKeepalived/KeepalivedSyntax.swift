/// One line of keepalived.conf: a keyword, its arguments, and the block it opens, if any.
///
/// `vrrp_instance VI_1 { … }` is a statement whose block holds the instance's statements;
/// `192.168.1.200/24 dev eth0` inside `virtual_ipaddress { … }` is a statement too (its "keyword" is the
/// address). The tree knows nothing of keyword meanings: that is the interpreter's job.
public struct KeepalivedStatement: Sendable, Equatable {
    /// At least one word: the keyword, then the arguments.
    public var words: [KeepalivedToken]
    /// The statements between the braces, or nil when the statement opens no block.
    public var block: [KeepalivedStatement]?
    /// The file the statement was read from (an included file's own path).
    public var file: String
    /// The line of the closing brace, or the statement's own line when it has no block.
    public var endLine: Int

    public init(words: [KeepalivedToken], block: [KeepalivedStatement]? = nil, file: String, endLine: Int? = nil) {
        precondition(!words.isEmpty, "a statement has a keyword")
        self.words = words
        self.block = block
        self.file = file
        self.endLine = endLine ?? words[0].line
    }

    public var keyword: String { words[0].text }
    public var line: Int { words[0].line }
    public var arguments: [String] { words.dropFirst().map(\.text) }
    public var position: SourcePosition { SourcePosition(file: file, line: line) }
}

/// What reading one keepalived.conf (and everything it includes) gives: the statements and the problems.
public struct KeepalivedSyntaxTree: Sendable {
    /// The file as named on the command line.
    public var file: String
    public var statements: [KeepalivedStatement]
    public var diagnostics: [KeepalivedDiagnostic]
    /// Every file read, the named one first, then included ones in reading order.
    public var files: [String]
    /// The director name the file was read for (`--name`), which also chose its `@` lines; nil when none was given.
    public var name: String?
}
