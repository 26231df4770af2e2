import Foundation
import LBKeepalived
import LBSpec
import LBSpecYAML
import XCTest

/// Runs the real keepalived (Debian package, 2.2.7) and host tools for tests; never skips.
enum KeepalivedTool {
    static let path = "/usr/sbin/keepalived"

    /// `keepalived -t` exit statuses (lib/scheduler.h, KEEPALIVED_CHK_EXIT_*, and config_test_exit in
    /// core/main.c): 0 no message; 4 a file keepalived cannot run (missing file, bad interface, fatal);
    /// 5 configuration errors keepalived reports and runs anyway (unknown keywords, invalid values it
    /// ignores); 6 scripts without script security. keepalived keeps the least severe class it met
    /// (vreport_config_error), so 5 alone does not rule out a fatal error as well: tests also check
    /// what it printed.
    static let clean: Int32 = 0
    static let runsDespiteErrors: Int32 = 5

    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// Fails the calling test loudly when keepalived is missing: `make test` installs it.
    static func requireInstalled(file: StaticString = #filePath, line: UInt = #line) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            XCTFail("\(path) is missing: these tests compare against the real keepalived. Run `make test`, which installs the Debian package keepalived (or: apt-get install keepalived)", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
    }

    struct Result {
        var status: Int32
        var output: String
        /// `(FILE: Line N) message` and `(Line N) message` lines, with line numbers; duplicates removed
        /// (keepalived reads the file once per child process).
        /// The file is "" for `(Line N)`: keepalived's first pass over the main file names no file.
        var located: [(file: String, line: Int, message: String)] {
            var seen = Set<String>()
            var out: [(String, Int, String)] = []
            for text in output.split(separator: "\n").map(String.init) where seen.insert(text).inserted {
                guard text.hasPrefix("("), let close = text.firstIndex(of: ")") else { continue }
                let head = text[text.index(after: text.startIndex)..<close]
                guard let range = head.range(of: "Line ", options: .backwards), let n = Int(head[range.upperBound...]) else { continue }
                let file = head[..<range.lowerBound].trimmingCharacters(in: CharacterSet(charactersIn: ": "))
                out.append((file, n, String(text[text.index(after: close)...]).trimmingCharacters(in: .whitespaces)))
            }
            return out
        }
        /// Messages without a line number.
        var unlocated: [String] {
            var seen = Set<String>()
            return output.split(separator: "\n").map(String.init).filter { seen.insert($0).inserted && !($0.hasPrefix("(") && $0.contains("Line ")) }
        }
    }

    /// `keepalived -t -f FILE` inside a fresh network namespace holding `interfaces` (keepalived -t
    /// checks that the interfaces it is told about exist), so the result does not depend on this host.
    /// `arguments` go before `-t` (`-i NAME` for the config id of `@NAME` lines).
    static func check(_ file: URL, interfaces: [String] = ["eth0"], arguments: [String] = []) throws -> Result {
        try requireInstalled()
        return try withNamespace(interfaces: interfaces) { ns in
            let r = try run("/usr/sbin/ip", ["netns", "exec", ns, path] + arguments + ["-t", "-f", file.path])
            return Result(status: r.status, output: r.output)
        }
    }

    /// The lines `keepalived -t` complains about that `diagnostics` say nothing about, as `(FILE: Line N) message`.
    /// keepalived reports a block's problem at its closing brace, the import at its keyword: both count; so
    /// does a diagnostic naming the lines of an unknown block, for what keepalived says about each line in it.
    static func uncovered(_ keepalived: Result, by diagnostics: [KeepalivedDiagnostic], in tree: KeepalivedSyntaxTree) -> [String] {
        func name(_ path: String) -> String { (path as NSString).lastPathComponent }
        var blocks: [String: [(start: Int, end: Int)]] = [:]
        func collect(_ statements: [KeepalivedStatement]) {
            for s in statements where s.block != nil {
                blocks[name(s.file), default: []].append((s.line, s.endLine))
                collect(s.block!)
            }
        }
        collect(tree.statements)
        var missing: [String] = []
        for (kfile, kline, message) in keepalived.located {
            let file = name(kfile.isEmpty ? tree.file : kfile)
            let here = diagnostics.filter { name($0.file) == file }
            let covered = here.contains { $0.line == kline }
                || here.contains { d in blocks[file, default: []].contains { $0.end == kline && $0.start == d.line } }
                || here.contains { d in
                    guard let range = d.message.range(of: #"lines? \d+(–\d+)?"#, options: .regularExpression) else { return false }
                    let bounds = d.message[range].drop { !$0.isNumber }.split(separator: "–").compactMap { Int($0) }
                    return !bounds.isEmpty && (bounds[0]...bounds[bounds.count - 1]).contains(kline)
                }
            if !covered { missing.append("(\(file): Line \(kline)) \(message)") }
        }
        return missing
    }

    /// What keepalived itself read from `file` for `configID`: it runs (`-n -l -d`, in a namespace with
    /// `interfaces`) and dumps its configuration; without IPVS in the kernel its checker then gives up and
    /// keepalived stops, naming each real server it would have removed. Its time stamps are cut off.
    static func dump(_ file: URL, configID: String, interfaces: [String] = ["eth0"]) throws -> String {
        try requireInstalled()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lbkad-dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try withNamespace(interfaces: interfaces) { ns in
            // A kernel with IPVS would keep keepalived running: timeout stops it then, and it dumps before.
            // The output goes to a file, not a pipe: a child of keepalived that outlives it (seen: one that
            // missed timeout's signal) would hold a pipe open and the read would never end.
            let log = dir.appendingPathComponent("out.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            p.arguments = ["10", "/usr/sbin/ip", "netns", "exec", ns, path, "-n", "-l", "-d", "-i", configID, "-f", file.path,
                           "-p", dir.appendingPathComponent("k.pid").path, "-r", dir.appendingPathComponent("v.pid").path,
                           "-c", dir.appendingPathComponent("c.pid").path]
            p.standardOutput = handle
            p.standardError = handle
            try p.run()
            p.waitUntilExit()
            // keepalived's children still write after their parent exits: wait for them, then stop what is left.
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, !pids(in: ns).isEmpty { usleep(50_000) }
            for pid in pids(in: ns) { kill(pid, SIGKILL) }
            try handle.close()
            let output = String(decoding: try Data(contentsOf: log), as: UTF8.self)
            return output.split(separator: "\n").map { line in
                // "Thu Dec  3 08:09:04 2026: text"
                line.range(of: #"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: "#, options: .regularExpression).map { String(line[$0.upperBound...]) } ?? String(line)
            }.joined(separator: "\n")
        }
    }

    /// The processes in network namespace `ns`.
    static func pids(in ns: String) -> [pid_t] {
        ((try? run("/usr/sbin/ip", ["netns", "pids", ns]))?.output ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    /// A network namespace with veth interfaces of the given names, removed afterwards.
    static func withNamespace<T>(interfaces: [String], _ body: (String) throws -> T) throws -> T {
        let ns = "lbkad-\(UUID().uuidString.prefix(8).lowercased())"
        let add = try run("/usr/sbin/ip", ["netns", "add", ns])
        guard add.status == 0 else {
            XCTFail("cannot create a network namespace (tests run as root, as CI does): \(add.output)")
            throw CocoaError(.featureUnsupported)
        }
        defer { _ = try? run("/usr/sbin/ip", ["netns", "del", ns]) }
        _ = try run("/usr/sbin/ip", ["-n", ns, "link", "set", "lo", "up"])
        for (i, name) in interfaces.enumerated() {
            let r = try run("/usr/sbin/ip", ["-n", ns, "link", "add", name, "type", "veth", "peer", "name", "lbkadp\(i)"])
            guard r.status == 0 else {
                XCTFail("cannot add interface \(name): \(r.output)")
                throw CocoaError(.featureUnsupported)
            }
            _ = try run("/usr/sbin/ip", ["-n", ns, "link", "set", name, "up"])
        }
        return try body(ns)
    }

    /// Runs a program; standard output and error together, read to the end (keepalived's children
    /// still write after their parent exits).
    @discardableResult
    static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        if let environment { p.environment = environment }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A fresh directory removed when the test ends.
    static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lbkad-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}

extension XCTestCase {
    /// Exports `spec` for each director, checks each file with keepalived (unless `checked` is false),
    /// imports them all: `expecting` (by default `spec` itself) comes back, VIPs named by their address.
    func roundTrip(_ spec: ClusterSpec, directors: [String], interfaces: [String] = ["eth0"], expecting: ClusterSpec? = nil, checked: Bool = true,
                   file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try KeepalivedTool.temporaryDirectory(self)
        var paths: [String] = []
        for name in directors {
            let export = try KeepalivedExporter.export(spec, node: name, source: "\(spec.cluster).yaml")
            let url = dir.appendingPathComponent("\(name).conf")
            try export.text.write(to: url, atomically: true, encoding: .utf8)
            if checked { try assertKeepalivedAccepts(export.text, interfaces: interfaces, file: file, line: line) }
            paths.append(url.path)
        }
        let result = KeepalivedImporter.importFiles(paths, options: .init(cluster: spec.cluster))
        var expected = expecting ?? spec
        for i in expected.vips.indices {
            expected.vips[i].name = expected.vips[i].address.address.description.replacingOccurrences(of: ":", with: "-")
        }
        let imported = try XCTUnwrap(result.spec, result.diagnostics.map(\.description).joined(separator: "\n"), file: file, line: line)
        XCTAssertEqual(SpecYAMLWriter.yaml(imported), SpecYAMLWriter.yaml(expected), file: file, line: line)
        XCTAssertEqual(imported, expected, file: file, line: line)
    }

    /// Real `keepalived -t` must print nothing and exit 0.
    func assertKeepalivedAccepts(_ text: String, interfaces: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try KeepalivedTool.temporaryDirectory(self)
        let url = dir.appendingPathComponent("keepalived.conf")
        try text.write(to: url, atomically: true, encoding: .utf8)
        let r = try KeepalivedTool.check(url, interfaces: interfaces)
        XCTAssertEqual(r.output, "", "keepalived -t about:\n\(text)", file: file, line: line)
        XCTAssertEqual(r.status, KeepalivedTool.clean, file: file, line: line)
    }
}
