import Foundation
import LBKeepalived
import XCTest

/// keepalived's preprocessor (lib/parser.c, read_line): `$NAME=` definitions, `~SEQ`, `~LST`, its own
/// definitions, each read as keepalived 2.2.7 reads it. KeepalivedComparisonTests checks a whole file
/// against what real keepalived makes of it.
final class PreprocessorTests: XCTestCase {
    func parse(_ text: String, configID: String? = nil) -> (shape: String, diagnostics: [String]) {
        let t = KeepalivedParser.parse(text: text, file: "k.conf", configID: configID)
        return (shape(t.statements), t.diagnostics.map(\.description))
    }

    func shape(_ statements: [KeepalivedStatement]) -> String { KeepalivedLexerLines.shape(statements) }

    func testDefinitionsAreReplacedWhereUsed() {
        let r = parse("""
        $PRIO=100
        $VIP = 192.168.1.200   # the comment is no part of the value
        priority $PRIO
        virtual_ipaddress { ${VIP}/24 dev eth0 }
        $PRIO=99
        priority $PRIO,$PRIO) $PRIOx
        """)
        XCTAssertEqual(r.shape, "priority 100; virtual_ipaddress { 192.168.1.200/24 dev eth0 }; priority 99,99) $PRIOx")
        XCTAssertEqual(r.diagnostics, ["k.conf:6: warning: $PRIOx has no definition ('$PRIOx=…') before this line: keepalived reads it as written"])
    }

    /// A value is read where it is used, so it may name definitions made after it; a definition naming
    /// itself never ends and is refused rather than followed.
    func testValuesAreReadWhereUsedAndLoopsAreRefused() {
        let r = parse("""
        $A=$B 1
        $B=weight
        $A
        $LOOP=x $LOOP
        $LOOP
        script "/bin/sh -c 'echo $HOME $1'"
        """)
        XCTAssertEqual(r.shape, "weight 1; script /bin/sh -c 'echo $HOME $1'")
        XCTAssertEqual(r.diagnostics, ["k.conf:5: error: the definitions used on this line name each other without end; ignoring the line"])
    }

    func testMultiLineDefinitionsStandForSeveralLines() {
        let r = parse("""
        $CHECK=TCP_CHECK { \\
            connect_timeout 3   \\
        ! a comment line does not end it
            retry 2 \\
        }
        real_server 10.0.0.1 80 {
            $CHECK
        }
        $EMPTY= \\

        x $CHECK y
        """)
        XCTAssertEqual(r.shape, "real_server 10.0.0.1 80 { TCP_CHECK { connect_timeout 3; retry 2 } }; x $CHECK y")
        XCTAssertEqual(r.diagnostics, ["k.conf:11: warning: $CHECK is a definition of several lines: keepalived replaces it only at the end of a line, and reads it here as written"])
    }

    func testSequencesRepeatALine() {
        let r = parse("""
        ~SEQ(i, 3) a $i
        ~SEQ(i, 5, 4) b $i
        ~SEQ(i, 0, 5, 10) c $i
        ~SEQx(i, 9, 11) d ${i}
        ~SEQ(i, -2) e $i
        last $i
        """)
        XCTAssertEqual(r.shape, "a 1; a 2; a 3; b 5; b 4; c 0; c 5; c 10; d 9; d a; d b; e -1; e -2; last -2")
        XCTAssertEqual(r.diagnostics, [])
    }

    func testSequencesNestAndTakeDefinitions() {
        let r = parse("""
        $N=2
        $RS=real_server 10.0.${net}.${host} 80 { \\
            weight $host \\
        }
        ~SEQ(net, 1, $N) ~SEQ(host, 10, 11) $RS
        """)
        XCTAssertEqual(r.shape, "real_server 10.0.1.10 80 { weight 10 }; real_server 10.0.1.11 80 { weight 11 }; real_server 10.0.2.10 80 { weight 10 }; real_server 10.0.2.11 80 { weight 11 }")
        XCTAssertEqual(r.diagnostics, [])
    }

    func testListsRepeatALineForEachValueOrSet() {
        let r = parse("""
        ~LST(if, eth0, eth1) track $if
        ~LST({addr, w}, {10.0.0.1, 3}, {10.0.0.2}) rs $addr w${w}.
        """)
        XCTAssertEqual(r.shape, "track eth0; track eth1; rs 10.0.0.1 w3.; rs 10.0.0.2 w.")
        XCTAssertEqual(r.diagnostics, [])
    }

    /// What keepalived ignores is ignored with a warning; what would make the machine's worth of lines is refused.
    func testBrokenAndHugeSequences() {
        let r = parse("""
        ~SEQ(i, 1, -1, 5) a $i
        ~SEQ i 1 5
        ~SEQ(i, x) b
        ~SEQx(i, -1, 2) c
        ~SEQ(i, 1, 100000000) d
        ~SEQ(i, 300) ~SEQ(j, 300) e
        ok
        """)
        XCTAssertEqual(r.shape, "ok")
        XCTAssertEqual(r.diagnostics, [
            "k.conf:1: warning: '~SEQ(i, 1, -1, 5) a $i': a step of -1 never goes from 1 to 5 (keepalived ignores the ~SEQ)",
            "k.conf:2: warning: '~SEQ i 1 5' is no ~SEQ(VAR, START, STEP, END) (keepalived ignores it)",
            "k.conf:3: warning: '~SEQ(i, x) b': 'x' is no number (keepalived ignores the ~SEQ)",
            "k.conf:4: warning: '~SEQx(i, -1, 2) c': ~SEQx takes positive numbers only (keepalived ignores it)",
            "k.conf:5: error: this ~SEQ makes more than 65536 lines; ignoring it",
            "k.conf:6: error: this line makes more than 65536 lines (a ~SEQ or definitions that repeat each other); ignoring it",
        ])
    }

    /// keepalived's own definitions: the config id, the file's directory, characters that would start a comment.
    func testStandardDefinitions() throws {
        let r = parse("""
        router_id ${_INSTANCE}
        notify "/bin/echo ${_HASH}1 ${_BANG}"
        x ${_RANDOM 5 9}
        """, configID: "lvs1")
        XCTAssertEqual(r.shape, "router_id lvs1; notify /bin/echo #1 !; x 5")
        XCTAssertEqual(r.diagnostics, ["k.conf:3: warning: ${_RANDOM} is a new random number each time keepalived reads it; lb reads 5, its lowest value, so that importing the file again gives the same spec"])

        let dir = try KeepalivedTool.temporaryDirectory(self)
        try "script ${_PWD}/check.sh\n".write(to: dir.appendingPathComponent("k.conf"), atomically: true, encoding: .utf8)
        let t = KeepalivedParser.parse(file: dir.appendingPathComponent("k.conf").path)
        XCTAssertEqual(shape(t.statements), "script \(dir.path)/check.sh")
    }

    /// Definitions hold across files, as keepalived reads an included file in place of its include: one
    /// made in an included file is known after the include, and blocks may span the files.
    func testDefinitionsHoldAcrossIncludedFiles() throws {
        let dir = try KeepalivedTool.temporaryDirectory(self)
        try "$IF=eth1\n$PARTS=part\n".write(to: dir.appendingPathComponent("defs.inc"), atomically: true, encoding: .utf8)
        try "  interface $IF\n}\n".write(to: dir.appendingPathComponent("tail.part"), atomically: true, encoding: .utf8)
        try "include defs.inc\nvrrp_instance VI_1 {\n  include tail.$PARTS\nx $IF\n".write(to: dir.appendingPathComponent("k.conf"), atomically: true, encoding: .utf8)
        let t = KeepalivedParser.parse(file: dir.appendingPathComponent("k.conf").path)
        XCTAssertEqual(shape(t.statements), "vrrp_instance VI_1 { interface eth1 }; x eth1")
        XCTAssertEqual(t.statements[0].block?[0].position.description, "\(dir.path)/tail.part:1")
        XCTAssertEqual(t.diagnostics.map(\.description), [])
    }

    /// `@` lines and definitions work together: a definition may be made for one director only.
    func testConditionalDefinitions() {
        let text = "@lvs1 $PRIO=100\n@lvs2 $PRIO=99\npriority $PRIO\n"
        XCTAssertEqual(parse(text, configID: "lvs1").shape, "priority 100")
        XCTAssertEqual(parse(text, configID: "lvs2").shape, "priority 99")
    }
}
