import Foundation
import LBSpec
import Yams

/// A position in a source file, 1-based as editors count.
public struct SourceLocation: Sendable, Equatable, Hashable {
    public var line: Int
    public var column: Int
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
public struct LocatedDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var location: SourceLocation
    public var diagnostic: Diagnostic

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
    public static let maxBytes = 4 << 20
    /// Caps the work aliases can multiply ("billion laughs").
    public static let maxNodes = 200_000

    public static func load(file: String) -> LoadedSpec {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            guard data.count <= maxBytes else {
                return failure(file, "file is \(data.count) bytes; a spec is at most \(maxBytes)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                return failure(file, "file is not UTF-8 text")
            }
            return load(yaml: text, file: file)
        } catch {
            return failure(file, "cannot read: \((error as NSError).localizedDescription)")
        }
    }

    public static func load(yaml: String, file: String = "<spec>") -> LoadedSpec {
        guard yaml.utf8.count <= maxBytes else {
            return failure(file, "spec is \(yaml.utf8.count) bytes; at most \(maxBytes)")
        }
        if let hit = AliasScan.firstUnsafeKey(in: yaml) {
            // Yams hashes whole mapping keys while composing, so a key that expands to a huge tree
            // hangs it before the reader's budget can act. A spec's keys are plain words anyway.
            return LoadedSpec(spec: nil, diagnostics: [LocatedDiagnostic(file: file, location: hit.location, diagnostic: .error(.root,
                "YAML \(hit.kind) '\(hit.token)' is not allowed in a spec: mapping keys are plain words"))])
        }
        let root: YAMLNode?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            let (location, message) = describe(error, yaml: yaml)
            return LoadedSpec(spec: nil, diagnostics: [LocatedDiagnostic(file: file, location: location, diagnostic: .error(.root, message))])
        }
        guard let root else {
            return failure(file, "the spec is empty; it needs at least cluster, nodes and vips")
        }
        var reader = SpecReader()
        let spec = reader.readSpec(root)
        var diagnostics = reader.diagnostics
        if let spec, !reader.budgetExceeded {
            let broken = Set(reader.diagnostics.filter { $0.severity == .error }.map(\.path))
            // A value that failed to read is replaced by a default; checks of it would only repeat the error.
            diagnostics += SpecValidator.validate(spec).filter { d in !broken.contains { isPrefix($0, of: d.path) } }
        }
        let located = diagnostics.map { d in
            LocatedDiagnostic(file: file, location: reader.sourceMap.location(of: d.path) ?? SourceLocation(line: 1, column: 1), diagnostic: d)
        }.enumerated().sorted { a, b in
            (a.element.location.line, a.element.location.column, a.offset) < (b.element.location.line, b.element.location.column, b.offset)
        }.map(\.element)
        let hasErrors = located.contains { $0.diagnostic.severity == .error }
        return LoadedSpec(spec: hasErrors ? nil : spec, diagnostics: located)
    }

    static func isPrefix(_ p: SpecPath, of q: SpecPath) -> Bool {
        p.components.count <= q.components.count && Array(q.components.prefix(p.components.count)) == p.components
    }

    static func failure(_ file: String, _ message: String) -> LoadedSpec {
        LoadedSpec(spec: nil, diagnostics: [LocatedDiagnostic(file: file, location: SourceLocation(line: 1, column: 1), diagnostic: .error(.root, message))])
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
            return (offset.map { location(ofByte: $0, in: yaml) } ?? SourceLocation(line: 1, column: 1), "YAML reader: \(problem)")
        default:
            return (SourceLocation(line: 1, column: 1), "YAML: \(error)")
        }
    }
}

extension SpecLoader {
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
