import LBSpec

/// A place in a keepalived.conf: the file as the operator named it, and a line counted from 1.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// One problem found in keepalived.conf files, printed as `FILE:LINE: error|warning: message`.
public struct KeepalivedDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public var position: SourcePosition
    public var severity: Diagnostic.Severity
    public var message: String

    public init(_ severity: Diagnostic.Severity, at position: SourcePosition, _ message: String) {
        self.severity = severity
        self.position = position
        self.message = message
    }

    public var file: String { position.file }
    public var line: Int { position.line }

    public var description: String { "\(position.file):\(position.line): \(severity.rawValue): \(message)" }
}

extension Array where Element == KeepalivedDiagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
}

/// Collects diagnostics; shared by the parser, the interpreter and the merger.
struct DiagnosticSink {
    var diagnostics: [KeepalivedDiagnostic] = []

    mutating func error(_ at: SourcePosition, _ message: String) {
        diagnostics.append(KeepalivedDiagnostic(.error, at: at, message))
    }

    mutating func warning(_ at: SourcePosition, _ message: String) {
        diagnostics.append(KeepalivedDiagnostic(.warning, at: at, message))
    }
}
