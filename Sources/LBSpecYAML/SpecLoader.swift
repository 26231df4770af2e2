import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LBSpec
import Yams

/// A position in a source file, 1-based as editors count.
public struct SourceLocation: Sendable, Equatable, Hashable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// Where problems with the file as a whole are shown.
    public static let start = SourceLocation(line: 1, column: 1)
}

/// Maps spec paths back to where they were written, so diagnostics point at the file.
public struct SourceMap: Sendable {
    var locations: [SpecPath: SourceLocation] = [:]

    /// The position of `path`, or of its nearest written ancestor (a default has no position).
    public func location(of path: SpecPath) -> SourceLocation? {
        var p: SpecPath? = path
        while let current = p {
            if let l = locations[current] { return l }
            p = current.parent
        }
        return nil
    }
}

/// A diagnostic with the file position an operator's editor can jump to.
public struct LocatedDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var location: SourceLocation
    public var diagnostic: Diagnostic

    public init(file: String, location: SourceLocation, diagnostic: Diagnostic) {
        self.file = file
        self.location = location
        self.diagnostic = diagnostic
    }

    /// An error about the file as a whole (unreadable, too large, empty), shown at 1:1.
    public static func fileError(_ file: String, _ message: String) -> LocatedDiagnostic {
        LocatedDiagnostic(file: file, location: .start, diagnostic: .error(.root, message))
    }

    /// `FILE:LINE:COLUMN: error|warning: message`, the form compilers use.
    public var description: String {
        "\(file):\(location.line):\(location.column): \(diagnostic.severity.rawValue): \(diagnostic.message)"
    }
}

/// The outcome of reading and validating one spec file.
public struct LoadedSpec: Sendable {
    /// The spec, present only when it has no errors (warnings allowed).
    public var spec: ClusterSpec?
    /// Every problem found, in file order.
    public var diagnostics: [LocatedDiagnostic]

    public var hasErrors: Bool { diagnostics.contains { $0.diagnostic.severity == .error } }
}

/// Reads a cluster spec from YAML: structure and types first, then `SpecValidator`, all at once.
public enum SpecLoader {
    /// Specs are small; anything larger is a mistake (or an attack on the parser).
    public static let maxBytes = YAMLFormat.spec.maxBytes
    /// Caps the work aliases can multiply ("billion laughs").
    public static let maxNodes = YAMLFormat.spec.maxNodes

    public static func load(file: String) -> LoadedSpec {
        do {
            return load(yaml: try YAMLFile.read(file: file, format: .spec), file: file)
        } catch {
            return LoadedSpec(spec: nil, diagnostics: [error])
        }
    }

    public static func load(yaml: String, file: String = "<spec>") -> LoadedSpec {
        let root: YAMLNode?
        do {
            root = try YAMLFile.compose(yaml: yaml, file: file, format: .spec)
        } catch {
            return LoadedSpec(spec: nil, diagnostics: [error])
        }
        guard let root else {
            return LoadedSpec(spec: nil, diagnostics: [.fileError(file, "the spec is empty; it needs at least cluster, nodes and vips")])
        }
        var reader = SpecReader(format: .spec)
        let spec = reader.readSpec(root)
        var diagnostics = reader.diagnostics
        if let spec, !reader.budgetExceeded {
            diagnostics += YAMLFile.unlessBroken(SpecValidator.validate(spec), by: reader.diagnostics)
        }
        let located = YAMLFile.locate(diagnostics, in: reader.sourceMap, file: file)
        let hasErrors = located.contains { $0.diagnostic.severity == .error }
        return LoadedSpec(spec: hasErrors ? nil : spec, diagnostics: located)
    }
}

/// The steps every YAML file lb reads goes through around its schema: reading the file, composing
/// the YAML with every syntax error at its position, and turning the reader's diagnostics into
/// FILE:LINE:COLUMN in file order. `SpecLoader` and the agent configuration loader both use them.
public enum YAMLFile {
    /// The file's text. Throws the one diagnostic (at 1:1) saying why not: it cannot be read, it is
    /// larger than `format.maxBytes` (read no further than that, so `/dev/zero` is refused too), or
    /// it is not UTF-8.
    public static func read(file: String, format: YAMLFormat) throws(LocatedDiagnostic) -> String {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "no such file" + (format.missingFileHint.map { " (\($0))" } ?? "")
                : errno == EACCES ? "permission denied" : String(cString: strerror(errno))
            throw .fileError(file, "cannot read: \(reason)")
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw .fileError(file, "cannot read: it is a directory; give the path of \(format.article) \(format.name) file")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= format.maxBytes {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileError(file, "cannot read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes += chunk[..<n]
        }
        guard bytes.count <= format.maxBytes else {
            // A regular file's size is known; a pipe or device only has "more than".
            let size = (info.st_mode & S_IFMT) == S_IFREG && Int(info.st_size) > format.maxBytes ? "\(info.st_size) bytes" : "more than \(format.maxBytes) bytes"
            throw .fileError(file, "file is \(size); \(format.article) \(format.name) is at most \(format.maxBytes)")
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw .fileError(file, "file is not UTF-8 text")
        }
        return text
    }

    /// The root node, or nil for a file with nothing but blanks and comments. Throws the first YAML
    /// problem at its position: syntax, a duplicate key, a key that is not a plain word, or text larger
    /// than `format.maxBytes`.
    public static func compose(yaml: String, file: String, format: YAMLFormat) throws(LocatedDiagnostic) -> YAMLNode? {
        guard yaml.utf8.count <= format.maxBytes else {
            throw .fileError(file, "\(format.name) is \(yaml.utf8.count) bytes; at most \(format.maxBytes)")
        }
        if let hit = AliasScan.firstUnsafeKey(in: yaml) {
            // Yams hashes whole mapping keys while composing, so a key that expands to a huge tree
            // hangs it before the reader's budget can act. Keys are plain words anyway.
            throw LocatedDiagnostic(file: file, location: hit.location, diagnostic: .error(.root,
                "YAML \(hit.kind) '\(hit.token)' is not allowed in \(format.article) \(format.name): mapping keys are plain words"))
        }
        do {
            return try Yams.compose(yaml: yaml)
        } catch {
            let (location, message) = describe(error, yaml: yaml)
            throw LocatedDiagnostic(file: file, location: location, diagnostic: .error(.root, message))
        }
    }

    /// `diagnostics` at the positions `sourceMap` recorded (a path never written is shown at its nearest
    /// written ancestor), sorted by position; diagnostics at one position keep their order.
    public static func locate(_ diagnostics: [Diagnostic], in sourceMap: SourceMap, file: String) -> [LocatedDiagnostic] {
        diagnostics.map { d in
            LocatedDiagnostic(file: file, location: sourceMap.location(of: d.path) ?? .start, diagnostic: d)
        }.enumerated().sorted { a, b in
            (a.element.location.line, a.element.location.column, a.offset) < (b.element.location.line, b.element.location.column, b.offset)
        }.map(\.element)
    }

    /// The validator's `findings` without those at or inside a path the reader failed to read: that value
    /// was replaced by a placeholder, and checks of it would only repeat the reader's error.
    public static func unlessBroken(_ findings: [Diagnostic], by readerDiagnostics: [Diagnostic]) -> [Diagnostic] {
        let broken = Set(readerDiagnostics.filter { $0.severity == .error }.map(\.path))
        return findings.filter { d in !broken.contains { isPrefix($0, of: d.path) } }
    }

    static func isPrefix(_ p: SpecPath, of q: SpecPath) -> Bool {
        p.components.count <= q.components.count && Array(q.components.prefix(p.components.count)) == p.components
    }

    static func describe(_ error: Error, yaml: String) -> (SourceLocation, String) {
        func at(_ m: Mark) -> SourceLocation { SourceLocation(line: max(1, m.line), column: max(1, m.column)) }
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
            let ctx = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return (at(mark), "YAML syntax: \(problem)\(ctx)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (at(context.mark), "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping")
        case .reader(let problem, let offset, _, _):
            return (offset.map { location(ofByte: $0, in: yaml) } ?? .start, "YAML reader: \(problem)")
        default:
            return (.start, "YAML: \(error)")
        }
    }

    /// Line and column (in characters) of a UTF-8 byte offset.
    static func location(ofByte offset: Int, in text: String) -> SourceLocation {
        var line = 1, column = 1, consumed = 0
        for ch in text {
            let width = ch.utf8.count
            if consumed + width > offset { break }
            consumed += width
            if ch == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return SourceLocation(line: line, column: column)
    }
}

/// read(2), named apart from `YAMLFile.read`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// Finds mapping keys that are not plain scalars — an alias used as a key, or the complex-key
/// indicator `?` — outside quotes and comments.
enum AliasScan {
    struct Hit { var kind: String; var token: String; var location: SourceLocation }

    static func firstUnsafeKey(in text: String) -> Hit? {
        var line = 1, column = 0
        var quote: Character? = nil
        var inComment = false
        var previous: Character = "\n"
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            column += 1
            defer { previous = chars[i]; i += 1 }
            // Quoted scalars may span lines, so the quote state carries over; comments end here.
            if c == "\n" { line += 1; column = 0; inComment = false; continue }
            if inComment { continue }
            if let q = quote {
                // In double quotes a backslash escapes the next character (\" among them).
                if q == "\"" && c == "\\" && i + 1 < chars.count && chars[i + 1] != "\n" {
                    i += 1
                    column += 1
                } else if c == q {
                    quote = nil
                }
                continue
            }
            let atTokenStart = previous.isWhitespace || "[{,".contains(previous)
            if c == "#" && atTokenStart { inComment = true; continue }
            if (c == "\"" || c == "'") && (atTokenStart || previous == ":") { quote = c; continue }
            if c == "?" && atTokenStart && (i + 1 == chars.count || chars[i + 1].isWhitespace) {
                return Hit(kind: "complex key", token: "?", location: SourceLocation(line: line, column: column))
            }
            if c == "*" && atTokenStart, i + 1 < chars.count, !chars[i + 1].isWhitespace {
                var j = i + 1
                while j < chars.count && !chars[j].isWhitespace && !",]}".contains(chars[j]) { j += 1 }
                var k = j
                while k < chars.count && chars[k] == " " { k += 1 }
                // An alias as a mapping key: Yams hashes whole keys while composing, so a key that
                // expands to a huge tree hangs it. Aliases as values are fine (the reader has a budget).
                if k < chars.count && chars[k] == ":" {
                    return Hit(kind: "alias as a key", token: String(chars[i..<j]), location: SourceLocation(line: line, column: column))
                }
            }
        }
        return nil
    }
}
