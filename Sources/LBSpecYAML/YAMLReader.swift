import LBSpec
import Yams

public typealias YAMLNode = Yams.Node

/// What kind of file a reader is reading: its name for messages, and the limits that keep a hostile
/// file from costing much. The spec (`.spec`) and the agent configuration (LBAgentConfig) each have one.
public struct YAMLFormat: Sendable {
    /// What the file is called in messages, lower case: "spec", "agent configuration".
    public var name: String
    /// "a" or "an", for "a spec is at most …".
    public var article: String
    /// The largest file accepted, in bytes.
    public var maxBytes: Int
    /// The most values (mappings, lists, scalars) read after aliases are expanded.
    public var maxNodes: Int
    /// Appended to "cannot read: no such file", e.g. where an example of the file is.
    public var missingFileHint: String?

    public init(name: String, article: String, maxBytes: Int, maxNodes: Int, missingFileHint: String? = nil) {
        self.name = name
        self.article = article
        self.maxBytes = maxBytes
        self.maxNodes = maxNodes
        self.missingFileHint = missingFileHint
    }

    /// A cluster spec: at most 4 MiB and 200,000 values.
    public static let spec = YAMLFormat(name: "spec", article: "a", maxBytes: 4 << 20, maxNodes: 200_000)
}

/// Reads a composed YAML tree against a schema written as Swift functions, recording a `Diagnostic` for
/// every structural problem (unknown or missing keys, wrong types, unparsable values) and the position
/// of every value read, so `YAMLFile.locate` can turn each diagnostic into FILE:LINE:COLUMN.
///
/// A schema is a set of `mutating` functions `(YAMLNode, SpecPath) -> T?`: each opens its mapping with
/// `mapping(_:at:keys:)`, reads its keys with `required` and `optional`, and ends with `finish`, which
/// reports the keys nobody asked for. A function returns nil when its value could not be read; its
/// problems are already recorded. Shared by the spec reader and the agent configuration reader, so
/// both say the same things in the same words.
public struct YAMLReader {
    /// Every problem found so far, in the order found (`YAMLFile.locate` sorts them by position).
    public private(set) var diagnostics: [Diagnostic] = []
    /// Where each path read was written.
    public private(set) var sourceMap = SourceMap()
    /// True once the value budget ran out; what was read is then incomplete.
    public private(set) var budgetExceeded = false
    public let format: YAMLFormat
    private var visited = 0

    public init(format: YAMLFormat) {
        self.format = format
    }

    // MARK: structure

    /// A mapping being read: which keys exist, which were consumed.
    public struct Fields {
        public let path: SpecPath
        let allowed: [String]
        var entries: [(key: String, keyNode: YAMLNode, value: YAMLNode)]
        var consumed: Set<String> = []

        public func has(_ key: String) -> Bool { entries.contains { $0.key == key } }
    }

    /// Opens a mapping whose keys may be `allowed`; nil (with an error) when `node` is not a mapping.
    public mutating func mapping(_ node: YAMLNode, at path: SpecPath, keys allowed: [String]) -> Fields? {
        guard spend() else { return nil }
        record(path, node)
        guard case .mapping(let m) = node else {
            error(path, "expected a mapping with keys \(allowed.joined(separator: ", ")), found \(kind(of: node))")
            return nil
        }
        var entries: [(String, YAMLNode, YAMLNode)] = []
        for (k, v) in m {
            guard case .scalar(let s) = k else {
                record(path, k)
                error(path, "mapping keys must be plain words, found \(kind(of: k))")
                continue
            }
            entries.append((s.string, k, v))
        }
        return Fields(path: path, allowed: allowed, entries: entries)
    }

    /// Reports keys nobody read, with a hint when one is a likely typo of an allowed key.
    public mutating func finish(_ f: Fields) {
        for entry in f.entries where !f.allowed.contains(entry.key) {
            let path = f.path[entry.key]
            record(path, entry.keyNode)
            let hint = Suggest.closest(to: entry.key, among: f.allowed.filter { !f.has($0) }).map { "; did you mean '\($0)'?" } ?? ""
            error(path, "unknown key '\(entry.key)'\(hint) (allowed here: \(f.allowed.joined(separator: ", ")))")
        }
    }

    /// Reads `key` if present; the value's own problems are reported by `read`.
    public mutating func optional<T>(_ fields: inout Fields, _ key: String, _ read: (inout YAMLReader, YAMLNode, SpecPath) -> T?) -> T? {
        fields.consumed.insert(key)
        guard let entry = fields.entries.first(where: { $0.key == key }) else { return nil }
        return read(&self, entry.value, fields.path[key])
    }

    /// Reads `key`, reporting its absence with what it should hold ("missing key 'KEY': WHAT"). The
    /// error is at the key's path, which has no position, so it is shown at the enclosing mapping.
    public mutating func required<T>(_ fields: inout Fields, _ key: String, _ what: String, _ read: (inout YAMLReader, YAMLNode, SpecPath) -> T?) -> T? {
        guard fields.has(key) else {
            error(fields.path[key], "missing key '\(key)': \(what)")
            return nil
        }
        return optional(&fields, key, read)
    }

    /// Reads a list. An unreadable item becomes `placeholder` when given, so the indices of the
    /// items after it still match the file.
    public mutating func list<T>(_ node: YAMLNode, _ path: SpecPath, placeholder: T? = nil,
                                 _ item: (inout YAMLReader, YAMLNode, SpecPath) -> T?) -> [T]? {
        guard spend() else { return nil }
        record(path, node)
        guard case .sequence(let seq) = node else {
            error(path, "expected a list, found \(kind(of: node))")
            return nil
        }
        var out: [T] = []
        for (i, element) in seq.enumerated() {
            if let v = item(&self, element, path[i]) ?? placeholder { out.append(v) }
        }
        return out
    }

    // MARK: scalars

    /// A scalar's text (quoting changes nothing; an empty value is ""), or an error naming `what` was expected.
    public mutating func scalar(_ node: YAMLNode, _ path: SpecPath, expecting what: String) -> String? {
        guard spend() else { return nil }
        record(path, node)
        guard case .scalar(let s) = node else {
            error(path, "expected \(what), found \(kind(of: node))")
            return nil
        }
        return s.string
    }

    public mutating func string(_ node: YAMLNode, _ path: SpecPath) -> String? {
        scalar(node, path, expecting: "a string")
    }

    /// Decimal digits with an optional sign; underscores may group digits.
    public mutating func int(_ node: YAMLNode, _ path: SpecPath) -> Int? {
        guard let s = scalar(node, path, expecting: "a whole number") else { return nil }
        guard let v = Int(s.replacingOccurrences(of: "_", with: "")) else {
            error(path, "'\(s)' is not a whole number")
            return nil
        }
        return v
    }

    /// true/yes/on or false/no/off, any letter case.
    public mutating func bool(_ node: YAMLNode, _ path: SpecPath) -> Bool? {
        guard let s = scalar(node, path, expecting: "true or false") else { return nil }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(path, "'\(s)' is not true or false")
            return nil
        }
    }

    /// One of `options` exactly, with a hint for a near miss; `what` names the setting in the message.
    public mutating func choice(_ node: YAMLNode, _ path: SpecPath, _ options: [String], what: String) -> String? {
        guard let s = scalar(node, path, expecting: "one of \(options.joined(separator: ", "))") else { return nil }
        if options.contains(s) { return s }
        let hint = Suggest.closest(to: s, among: options).map { "did you mean '\($0)'? " } ?? ""
        error(path, "unknown \(what) '\(s)'; \(hint)expected one of \(options.joined(separator: ", "))")
        return nil
    }

    public mutating func enumValue<E: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ path: SpecPath, _: E.Type, what: String) -> E? where E.RawValue == String {
        choice(node, path, E.allCases.map(\.rawValue), what: what).flatMap(E.init(rawValue:))
    }

    public mutating func address(_ node: YAMLNode, _ path: SpecPath) -> IPAddress? {
        guard let s = scalar(node, path, expecting: "an IP address") else { return nil }
        guard let a = IPAddress(s) else {
            error(path, "'\(s)' is not an IPv4 or IPv6 address")
            return nil
        }
        return a
    }

    public mutating func cidr(_ node: YAMLNode, _ path: SpecPath) -> CIDR? {
        guard let s = scalar(node, path, expecting: "an address with optional /prefix") else { return nil }
        guard let c = CIDR(s) else {
            error(path, "'\(s)' is not an address or address/prefix (e.g. 192.168.1.200/24)")
            return nil
        }
        return c
    }

    /// A duration in milliseconds, a whole multiple of `unit` milliseconds: `5` (seconds), `5s`, `500ms`,
    /// `0.1`, `2m`, `1h`.
    public mutating func duration(_ node: YAMLNode, _ path: SpecPath, unit: Int) -> Int? {
        guard let s = scalar(node, path, expecting: "a duration such as 5s or 100ms") else { return nil }
        guard let ms = Self.parseMilliseconds(s) else {
            error(path, "'\(s)' is not a duration; write seconds (5, 0.5) or with a unit (100ms, 5s, 2m, 1h)")
            return nil
        }
        guard ms % unit == 0 else {
            error(path, "'\(s)' is finer than this setting's resolution of \(unit)ms")
            return nil
        }
        return ms
    }

    /// A duration in whole seconds.
    public mutating func seconds(_ node: YAMLNode, _ path: SpecPath) -> Int? {
        duration(node, path, unit: 1000).map { $0 / 1000 }
    }

    /// `5` (seconds), `0.5`, `100ms`, `5s`, `2m`, `1h` as whole milliseconds; nil for anything else (a sign,
    /// an exponent, `1h30m`, a space before the unit, a fraction of a millisecond).
    public static func parseMilliseconds(_ text: String) -> Int? {
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        var number = Substring(text.trimmingCharacters(in: .whitespaces)), scale = 1000.0
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.filter({ $0 == "." }).count <= 1, let value = Double(number), value < 1e12 else { return nil }
        let ms = value * scale
        guard ms.rounded() == ms || abs(ms - ms.rounded()) < 1e-6 else { return nil }
        return Int(ms.rounded())
    }

    /// An RFC 3339 instant in whole seconds since 1970-01-01T00:00:00Z: `2026-12-02T03:00:00Z`, or with an
    /// offset (`2026-12-02T04:00:00+01:00`). See `RFC3339` for what is refused and why.
    public mutating func timestamp(_ node: YAMLNode, _ path: SpecPath) -> Int64? {
        guard let s = scalar(node, path, expecting: "a timestamp such as 2026-12-02T03:00:00Z") else { return nil }
        do {
            return try RFC3339.parse(s)
        } catch let problem {
            error(path, "'\(s)' is not an RFC 3339 timestamp such as 2026-12-02T03:00:00Z: \(problem)")
            return nil
        }
    }

    // MARK: bookkeeping

    /// Remembers where `path` was written (the first node recorded for it wins).
    public mutating func record(_ path: SpecPath, _ node: YAMLNode) {
        if sourceMap.locations[path] == nil, let mark = node.mark {
            sourceMap.locations[path] = SourceLocation(line: mark.line, column: mark.column)
        }
    }

    /// Counts nodes walked; aliases can make a small file expand enormously.
    public mutating func spend() -> Bool {
        visited += 1
        if visited > format.maxNodes {
            if !budgetExceeded { error(.root, "the \(format.name) expands to more than \(format.maxNodes) values (aliases?); refusing to read further") }
            budgetExceeded = true
            return false
        }
        return true
    }

    /// How a node is named in "found …": its text in quotes, "a mapping", "a list".
    public func kind(of node: YAMLNode) -> String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    public mutating func error(_ path: SpecPath, _ message: String) { diagnostics.append(.error(path, message)) }
    public mutating func warning(_ path: SpecPath, _ message: String) { diagnostics.append(.warning(path, message)) }
}
