import LBSpec

/// The outcome of importing keepalived.conf files.
public struct KeepalivedImportResult: Sendable {
    /// The merged spec, present only when there is no error (warnings allowed); it passes SpecValidator.
    public var spec: ClusterSpec?
    /// Every problem, sorted by file (in reading order) and line.
    public var diagnostics: [KeepalivedDiagnostic]
    /// Where each spec value came from.
    public var locations: [SpecPath: SourcePosition]

    public var hasErrors: Bool { diagnostics.hasErrors }
}

/// `lbctl import keepalived`: parse each director's file, interpret it, merge them, validate the result.
public enum KeepalivedImporter {
    /// Imports files from disk, one per director, in the order given; `@ID` lines are read for the name
    /// `--name` gives a file, else for its router_id.
    public static func importFiles(_ paths: [String], options: KeepalivedImportOptions = .init()) -> KeepalivedImportResult {
        importDirectors(paths.map { ($0, options.names[$0]) }, options: options)
    }

    /// Imports one file per director, each read for its name when given: a file with `@name` lines
    /// (conditional configuration) may be listed once per director it serves.
    public static func importDirectors(_ directors: [(file: String, name: String?)], options: KeepalivedImportOptions = .init()) -> KeepalivedImportResult {
        importTrees(directors.map { KeepalivedParser.parse(file: $0.file, configID: $0.name) }, options: options)
    }

    /// Imports already parsed files (tests parse text in memory).
    public static func importTrees(_ trees: [KeepalivedSyntaxTree], options: KeepalivedImportOptions = .init()) -> KeepalivedImportResult {
        var diagnostics: [KeepalivedDiagnostic] = []
        var fileOrder: [String] = []
        var files: [KeepalivedFile] = []
        var unreadable = false
        for tree in trees {
            for f in tree.files where !fileOrder.contains(f) { fileOrder.append(f) }
            if !fileOrder.contains(tree.file) { fileOrder.append(tree.file) }
            diagnostics += tree.diagnostics
            // A file that cannot be read says nothing more; merging without it would only mislead.
            guard tree.files.contains(tree.file) else {
                unreadable = true
                continue
            }
            let (file, found) = KeepalivedInterpreter.interpret(tree)
            diagnostics += found
            files.append(file)
        }
        guard !files.isEmpty, !unreadable else {
            return KeepalivedImportResult(spec: nil, diagnostics: sort(dedupe(diagnostics), fileOrder: fileOrder), locations: [:])
        }
        let (spec, locations, merged) = KeepalivedMerger.merge(files, options: options)
        diagnostics += merged
        let fallback = SourcePosition(file: files[0].path, line: 1)
        for d in SpecValidator.validate(spec) {
            diagnostics.append(KeepalivedDiagnostic(d.severity, at: position(of: d.path, in: locations) ?? fallback, d.message))
        }
        let sorted = sort(dedupe(diagnostics), fileOrder: fileOrder)
        return KeepalivedImportResult(spec: sorted.hasErrors ? nil : spec, diagnostics: sorted, locations: locations)
    }

    /// The position of `path` or of its nearest ancestor that has one.
    static func position(of path: SpecPath, in locations: [SpecPath: SourcePosition]) -> SourcePosition? {
        var p: SpecPath? = path
        while let current = p {
            if let l = locations[current] { return l }
            p = current.parent
        }
        return nil
    }

    /// VIPs sharing a VRRP group repeat the group's findings; say each once.
    static func dedupe(_ diagnostics: [KeepalivedDiagnostic]) -> [KeepalivedDiagnostic] {
        var seen = Set<String>()
        return diagnostics.filter { seen.insert($0.description).inserted }
    }

    static func sort(_ diagnostics: [KeepalivedDiagnostic], fileOrder: [String]) -> [KeepalivedDiagnostic] {
        let rank = Dictionary(fileOrder.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        return diagnostics.enumerated().sorted { a, b in
            (rank[a.element.file] ?? Int.max, a.element.line, a.offset) < (rank[b.element.file] ?? Int.max, b.element.line, b.offset)
        }.map(\.element)
    }
}
