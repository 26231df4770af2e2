/// Where in a spec a value lives, as a path of keys and list indices: `vips[0].services[1].port`.
public struct SpecPath: Hashable, Sendable, CustomStringConvertible, Comparable {
    public enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) { self.components = components }

    public static let root = SpecPath()

    public func key(_ name: String) -> SpecPath { SpecPath(components + [.key(name)]) }
    public func index(_ i: Int) -> SpecPath { SpecPath(components + [.index(i)]) }
    public subscript(_ name: String) -> SpecPath { key(name) }
    public subscript(_ i: Int) -> SpecPath { index(i) }

    /// The path one step up, or nil at the root.
    public var parent: SpecPath? {
        components.isEmpty ? nil : SpecPath(Array(components.dropLast()))
    }

    public var description: String {
        var out = ""
        for c in components {
            switch c {
            case .key(let k): out += out.isEmpty ? k : ".\(k)"
            case .index(let i): out += "[\(i)]"
            }
        }
        return out.isEmpty ? "(top level)" : out
    }

    public static func < (a: SpecPath, b: SpecPath) -> Bool { a.description < b.description }
}

/// One problem found in a spec: how bad, where, and what to do about it.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable { case error, warning }

    public var severity: Severity
    public var path: SpecPath
    public var message: String

    public init(_ severity: Severity, _ path: SpecPath, _ message: String) {
        self.severity = severity
        self.path = path
        self.message = message
    }

    public static func error(_ path: SpecPath, _ message: String) -> Diagnostic { .init(.error, path, message) }
    public static func warning(_ path: SpecPath, _ message: String) -> Diagnostic { .init(.warning, path, message) }

    public var description: String { "\(path): \(severity.rawValue): \(message)" }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
}
