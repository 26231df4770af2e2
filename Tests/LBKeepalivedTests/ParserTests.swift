import Foundation
import LBKeepalived
import XCTest

/// Grammar corners of keepalived.conf, each checked against how keepalived 2.2.7 reads it.
final class ParserTests: XCTestCase {
    func words(_ text: String) -> [[String]] {
        KeepalivedLexerLines.lines(text)
    }

    func tree(_ text: String, file: String = "k.conf") -> KeepalivedSyntaxTree {
        KeepalivedParser.parse(text: text, file: file)
    }

    func shape(_ statements: [KeepalivedStatement]) -> String { KeepalivedLexerLines.shape(statements) }

    // MARK: lexer

    func testCommentsStartWithHashOrBangAnywhereOutsideDoubleQuotes() {
        let text = """
        # full-line hash comment
        ! full-line bang comment, UTF-8: Grüße, 负载均衡, ✓
        router_id lvs1 # trailing ünïcödé
        priority 100 ! trailing bang
        notify "/bin/x.sh a#b!c"
        smtp_helo_name abc\\#def\\!
        """
        XCTAssertEqual(words(text), [["router_id", "lvs1"], ["priority", "100"], ["notify", "/bin/x.sh a#b!c"], ["smtp_helo_name", "abc#def!"]])
    }

    func testACommentInsideAWordIsWarnedAbout() {
        let (tokens, diagnostics) = KeepalivedLexer.tokenize("auth_pass s3cret!x\n", file: "k.conf")
        XCTAssertEqual(tokens.map(\.text), ["auth_pass", "s3cret"])
        XCTAssertEqual(diagnostics.map(\.description), [
            "k.conf:1: warning: '!' starts a comment even inside a word: keepalived reads 's3cret', not 's3cret!x' (write \\! to keep the character)",
        ])
    }

    func testDoubleQuotesGroupWordsAndSingleQuotesDoNot() {
        // keepalived 2.2.7 reads 'pa ss' as two words, "'pa" and "ss'" (checked with keepalived -d).
        XCTAssertEqual(words("auth_pass 'pa ss'\nrouter_id \"a {b} # c\"\nx \"\"\n"), [["auth_pass", "'pa", "ss'"], ["router_id", "a {b} # c"], ["x", ""]])
        let (tokens, _) = KeepalivedLexer.tokenize("x \"q\"", file: "k.conf")
        XCTAssertEqual(tokens.map(\.quoted), [false, true])
    }

    func testAnUnterminatedQuoteIsAnError() {
        let (tokens, diagnostics) = KeepalivedLexer.tokenize("router_id \"lvs1\nnext 1\n", file: "k.conf")
        XCTAssertEqual(tokens.map(\.text), ["router_id", "next", "1"])
        XCTAssertEqual(diagnostics.map(\.description), ["k.conf:1: error: the quote opened at column 11 is never closed; keepalived drops the rest of the line"])
    }

    func testBracesAreTokensWhereverTheyStand() {
        XCTAssertEqual(words("vrrp_instance VI_1{state MASTER}}\n{x\n"), [["vrrp_instance", "VI_1", "{", "state", "MASTER", "}", "}"], ["{", "x"]])
    }

    func testPositionsCountLinesAndColumnsFromOne() {
        let (tokens, _) = KeepalivedLexer.tokenize("a\r\n\n  \tbb  ccc\n", file: "k.conf")
        XCTAssertEqual(tokens.map { "\($0.text)@\($0.line):\($0.column)" }, ["a@1:1", "bb@3:4", "ccc@3:8"])
    }

    /// keepalived's read_line: `@ID ` keeps the rest of the line only for config id ID, `@^ID ` for any
    /// other; the id ends at a space or tab, and a prefix with nothing after it drops the line.
    func testConditionalLinesAreReadForTheConfigID() {
        let text = "@lvs1 priority 100\n@lvs2 priority 99\n@^lvs1 state BACKUP\n  @lvs1\tstate MASTER\n@lvs1\n@lvs10 x 1\n@ lvs1 y\n"
        func words(for id: String?) -> [String] {
            KeepalivedLexer.tokenize(text, file: "k.conf", configID: id).tokens.map { "\($0.text)@\($0.line):\($0.column)" }
        }
        XCTAssertEqual(words(for: "lvs1"), ["priority@1:7", "100@1:16", "state@4:9", "MASTER@4:15"])
        XCTAssertEqual(words(for: "lvs2"), ["priority@2:7", "99@2:16", "state@3:8", "BACKUP@3:14"])
        XCTAssertEqual(words(for: nil), ["state@3:8", "BACKUP@3:14"], "no config id: as keepalived with an id no line names")
        XCTAssertEqual(KeepalivedLexer.tokenize(text, file: "k.conf", configID: "lvs1").diagnostics, [])
    }

    /// Without a name, a file with `@` lines is read for its router_id, and says so; without a router_id
    /// outside the `@` lines it cannot be read for anyone.
    func testConditionalFileIsReadForItsRouterIDWhenNotNamed() {
        let text = "global_defs {\n    router_id lvs2\n}\n@lvs1 priority 100\n@lvs2 priority 99\n"
        let guessed = KeepalivedParser.parse(text: text, file: "k.conf")
        XCTAssertEqual(guessed.statements.map(\.keyword), ["global_defs", "priority"])
        XCTAssertEqual(guessed.statements.last?.arguments, ["99"])
        XCTAssertEqual(guessed.diagnostics.map(\.description), [
            "k.conf:4: warning: '@' lines are read for 'lvs2', this file's router_id (keepalived reads them for its config id: -i, else the host name); if that is not the director's host name, name it with --name NODE=k.conf",
        ])
        let named = KeepalivedParser.parse(text: text, file: "k.conf", configID: "lvs1")
        XCTAssertEqual(named.statements.last?.arguments, ["100"])
        XCTAssertEqual(named.diagnostics, [])
        let anonymous = KeepalivedParser.parse(text: "@lvs1 global_defs {\n@lvs1     router_id lvs1\n@lvs1 }\n", file: "k.conf")
        XCTAssertEqual(anonymous.statements.map(\.keyword), [])
        XCTAssertEqual(anonymous.diagnostics.map(\.description), [
            "k.conf:1: error: '@' lines are kept or skipped by the director's name, and this file has no router_id outside them: name the director with --name NODE=k.conf",
        ])
    }

    func testNonBreakingSpaceIsNotWhitespace() {
        // As in keepalived: pasted from a web page, "priority\u{A0}100" is one word.
        XCTAssertEqual(words("priority\u{A0}100\n"), [["priority\u{A0}100"]])
    }

    // MARK: blocks

    func testBlocksOnOneLineOrSeveralAndClosingSeveralAtOnce() {
        let t = tree("""
        global_defs { router_id lvs1 }
        vrrp_instance VI_1
        {
            virtual_ipaddress { 10.0.0.1/24 dev eth0 }
            authentication { auth_type PASS
                auth_pass x }
        }
        virtual_server 10.0.0.1 80 { real_server 10.0.0.2 80 { TCP_CHECK { connect_timeout 3 } } }
        """)
        XCTAssertEqual(t.diagnostics, [])
        XCTAssertEqual(shape(t.statements), "global_defs { router_id lvs1 }; vrrp_instance VI_1 { virtual_ipaddress { 10.0.0.1/24 dev eth0 }; authentication { auth_type PASS; auth_pass x } }; virtual_server 10.0.0.1 80 { real_server 10.0.0.2 80 { TCP_CHECK { connect_timeout 3 } } }")
        XCTAssertEqual(t.statements[1].line, 2)
        XCTAssertEqual(t.statements[1].endLine, 7)
        XCTAssertEqual(t.statements[2].block?[0].block?[0].line, 8)
    }

    func testWordsOnOneLineBeforeABraceAreOneStatement() {
        // keepalived reads "weight 1 TCP_CHECK" as one line too: the block then belongs to weight.
        XCTAssertEqual(shape(tree("real_server 1.2.3.4 80 { weight 1 TCP_CHECK { x } }").statements),
                       "real_server 1.2.3.4 80 { weight 1 TCP_CHECK { x } }")
    }

    func testUnbalancedBracesNameTheirLines() {
        let t = tree("""
        global_defs {
            router_id lvs1
        }
        }
        {
          stray 1
        }
        vrrp_instance VI_1 {
            interface eth0

        """)
        XCTAssertEqual(t.diagnostics.map(\.description), [
            "k.conf:4: error: '}' closes no block (one '}' too many, or a '{' missing before it)",
            "k.conf:5: error: '{' follows no keyword; its block (lines 5–7) is ignored",
            "k.conf:8: error: the block of 'vrrp_instance' opened here is never closed (a '}' is missing)",
        ])
        XCTAssertEqual(shape(t.statements), "global_defs { router_id lvs1 }; vrrp_instance VI_1 { interface eth0 }")
    }

    func testDeepNestingIsCutOffNotACrash() {
        let depth = 100_000
        let t = tree("a " + String(repeating: "{ ", count: depth) + String(repeating: "} ", count: depth))
        XCTAssertEqual(t.diagnostics.map(\.description), [
            "k.conf:1: error: blocks nested more than 32 deep; ignoring what is inside",
            "k.conf:1: error: '{' follows no keyword; its block (lines 1–1) is ignored",
        ])
        XCTAssertEqual(t.statements.count, 1)
    }

    // MARK: include

    func testIncludeGlobsRelativeToTheIncludingFile() throws {
        let dir = try KeepalivedTool.temporaryDirectory(self)
        let conf = dir.appendingPathComponent("etc/keepalived")
        try FileManager.default.createDirectory(at: conf.appendingPathComponent("conf.d"), withIntermediateDirectories: true)
        try "global_defs {\n  router_id lvs1\n}\ninclude conf.d/*.conf\nvrrp_instance VI_1 {\n  include conf.d/inner.part\n}\n"
            .write(to: conf.appendingPathComponent("keepalived.conf"), atomically: true, encoding: .utf8)
        try "\nb 1\n".write(to: conf.appendingPathComponent("conf.d/b.conf"), atomically: true, encoding: .utf8)
        try "a 1\n".write(to: conf.appendingPathComponent("conf.d/a.conf"), atomically: true, encoding: .utf8)
        try "priority 100\ninclude nothing-*.conf\n".write(to: conf.appendingPathComponent("conf.d/inner.part"), atomically: true, encoding: .utf8)
        let main = conf.appendingPathComponent("keepalived.conf").path
        let t = KeepalivedParser.parse(file: main)
        XCTAssertEqual(shape(t.statements), "global_defs { router_id lvs1 }; a 1; b 1; vrrp_instance VI_1 { priority 100 }")
        let d = conf.path
        XCTAssertEqual(t.files, [main, "\(d)/conf.d/a.conf", "\(d)/conf.d/b.conf", "\(d)/conf.d/inner.part"])
        XCTAssertEqual(t.statements[2].position.description, "\(d)/conf.d/b.conf:2")
        XCTAssertEqual(t.diagnostics.map(\.description), ["\(d)/conf.d/inner.part:2: warning: include nothing-*.conf matches no file; keepalived skips it too"])
    }

    func testIncludeCyclesAndMissingFilesAreErrors() throws {
        let dir = try KeepalivedTool.temporaryDirectory(self)
        try "include b.conf\n".write(to: dir.appendingPathComponent("a.conf"), atomically: true, encoding: .utf8)
        try "x 1\ninclude a.conf\n".write(to: dir.appendingPathComponent("b.conf"), atomically: true, encoding: .utf8)
        let a = dir.appendingPathComponent("a.conf").path
        let t = KeepalivedParser.parse(file: a)
        XCTAssertEqual(shape(t.statements), "x 1")
        XCTAssertEqual(t.diagnostics.map(\.description), ["\(dir.path)/b.conf:2: error: \(dir.path)/a.conf is already being read (an include cycle); ignoring this include"])

        let missing = KeepalivedParser.parse(file: dir.appendingPathComponent("none.conf").path)
        XCTAssertEqual(missing.diagnostics.map(\.description), ["\(dir.path)/none.conf:1: error: cannot read \(dir.path)/none.conf: no such file"])
    }
}

/// Test helper: the words of each line, braces included, as keepalived splits them.
enum KeepalivedLexerLines {
    /// The tree as nested text: `keyword args { … }`.
    static func shape(_ statements: [KeepalivedStatement]) -> String {
        statements.map { s in
            let head = s.words.map(\.text).joined(separator: " ")
            guard let block = s.block else { return head }
            return "\(head) { \(shape(block)) }"
        }.joined(separator: "; ")
    }

    static func lines(_ text: String) -> [[String]] {
        let (tokens, _) = KeepalivedLexer.tokenize(text, file: "k.conf")
        var out: [[String]] = []
        var line = -1
        for t in tokens {
            if t.line != line { out.append([]); line = t.line }
            out[out.count - 1].append(t.text)
        }
        return out
    }
}
