import Foundation
import LBKeepalived
import LBSpec
import LBTestKit
import XCTest

/// No input crashes the importer: every prefix of real files, random edits, random token soup and
/// random bytes go through lexer, parser, interpreter, merger and validator. Seeded, so a failure
/// repeats; bounded, so the run stays short.
final class RobustnessTests: XCTestCase {
    /// Imports text as one or two files and checks what any result must satisfy.
    func survive(_ texts: [String], file: StaticString = #filePath, line: UInt = #line) {
        let trees = texts.enumerated().map { KeepalivedParser.parse(text: $0.element, file: "f\($0.offset).conf") }
        let result = KeepalivedImporter.importTrees(trees, options: .init(cluster: "fuzz"))
        for d in result.diagnostics {
            let text = texts[Int(d.file.dropFirst().prefix { $0.isNumber }) ?? 0]
            // Lines as keepalived counts them: "\r\n" (one Character in Swift) ends a line too.
            let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
            XCTAssertTrue((1...max(lines, 1)).contains(d.line), "\(d) is outside the file", file: file, line: line)
        }
        if let spec = result.spec {
            // What the import accepts, the validator accepts, and a director's export works.
            XCTAssertFalse(SpecValidator.validate(spec).hasErrors, file: file, line: line)
            for node in spec.nodes where spec.vips.contains(where: { $0.vrrp.directors.contains { $0.node == node.name } }) {
                XCTAssertNoThrow(try KeepalivedExporter.export(spec, node: node.name, source: "fuzz"), file: file, line: line)
            }
        }
    }

    func testEveryPrefixOfRealFiles() {
        for text in [Fixtures.lvs1, Corpus.values, Corpus.checks] {
            let chars = Array(text)
            for n in stride(from: 0, through: chars.count, by: 3) {
                survive([String(chars[..<n]), Fixtures.lvs2])
            }
        }
    }

    func testRandomEditsOfRealFiles() {
        var rng = SplitMix64(seed: 0x1B_2024)
        let alphabet: [String] = ["{", "}", "\"", "#", "!", "\\", "\n", " ", "\t", "\r\n", "'", "@", "$X=1\n", "~SEQ", "0", "9", "-", ".", "/",
                                  "255", "65536", "999999999999999999999", "::", "ü", "\u{A0}", "\u{0}", "include /nonexistent/*\n", "include f0.conf\n"]
        let sources = [Fixtures.lvs1, Fixtures.lvs2, Corpus.unknown, Corpus.lbknows, Corpus.vrrp]
        for _ in 0..<400 {
            var chars = Array(rng.pick(sources))
            for _ in 0..<(1 + rng.below(8)) {
                let at = rng.below(chars.count + 1)
                switch rng.below(3) {
                case 0: chars.insert(contentsOf: Array(rng.pick(alphabet)), at: at)
                case 1: if at < chars.count { chars.removeSubrange(at..<min(chars.count, at + 1 + rng.below(20))) }
                default: if at < chars.count { chars[at] = Character(rng.pick(alphabet).first.map(String.init) ?? " ") }
                }
            }
            survive([String(chars), Fixtures.lvs2])
        }
    }

    func testRandomTokenSoup() {
        var rng = SplitMix64(seed: 42)
        let words = ["global_defs", "vrrp_instance", "virtual_server", "real_server", "TCP_CHECK", "HTTP_GET", "MISC_CHECK", "url",
                     "virtual_ipaddress", "unicast_peer", "authentication", "auth_type", "PASS", "auth_pass", "priority",
                     "virtual_router_id", "interface", "eth0", "state", "MASTER", "BACKUP", "router_id", "lvs1", "lb_algo", "wrr",
                     "lb_kind", "DR", "NAT", "protocol", "TCP", "weight", "192.168.1.200", "192.168.1.200/24", "80", "51", "1",
                     "0", "-1", "lvs_sync_daemon", "lvs_timeouts", "tcp", "notification_email", "a@b", "sorry_server",
                     "persistence_granularity", "quorum", "{", "}", "\n", "\n", "\"x y\"", "nopreempt", "notify", "/bin/true",
                     "unicast_src_ip", "192.168.1.100", "192.168.1.102", "misc_path", "status_code", "path", "/", "include"]
        for _ in 0..<300 {
            let text = (0..<rng.below(120)).map { _ in rng.pick(words) }.joined(separator: " ")
            survive([text])
        }
    }

    func testRandomBytesFromDisk() throws {
        var rng = SplitMix64(seed: 7)
        let dir = try KeepalivedTool.temporaryDirectory(self)
        for i in 0..<50 {
            let bytes = (0..<rng.below(2000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let url = dir.appendingPathComponent("r\(i).conf")
            try Data(bytes).write(to: url)
            let result = KeepalivedImporter.importFiles([url.path], options: .init(cluster: "fuzz"))
            XCTAssertTrue(result.hasErrors || result.spec != nil)
        }
    }
}
