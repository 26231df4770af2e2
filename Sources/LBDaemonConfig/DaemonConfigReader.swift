import LBSpec
import LBSpecYAML
import Yams

/// Reading a daemon's configuration file: the steps every daemon's loader takes in the same order, so
/// each gives the same kinds of messages at the same positions.
package enum DaemonConfigLoading {
    /// Composes `yaml`, reads it with `read`, checks what was read with `validate` (told which paths
    /// could not be read), lets `finish` drop what the warnings announced, and locates every diagnostic.
    /// The configuration comes back only without errors. `extra` runs after the validator, with the
    /// same exemption of unreadable paths (checks that look at the disk).
    package static func load<Config>(
        yaml: String, file: String, format: YAMLFormat, emptyMessage: String,
        read: (inout YAMLReader, YAMLNode) -> Config?,
        validate: (Config, [SpecPath]) -> [Diagnostic],
        extra: (Config) -> [Diagnostic] = { _ in [] },
        finish: (inout Config) -> Void = { _ in }
    ) -> (config: Config?, diagnostics: [LocatedDiagnostic]) {
        let root: YAMLNode?
        do {
            root = try YAMLFile.compose(yaml: yaml, file: file, format: format)
        } catch {
            var d = error
            if d.diagnostic.message.hasPrefix("YAML syntax:"), let token = unquotedBracketEndpoint(in: yaml, line: d.location.line) {
                d.diagnostic.message += "; an IPv6 ADDRESS:PORT must be quoted: \"\(token)\""
            }
            return (nil, [d])
        }
        guard let root else { return (nil, [.fileError(file, emptyMessage)]) }
        var reader = YAMLReader(format: format)
        var config = read(&reader, root)
        var diagnostics = reader.diagnostics
        if var c = config, !reader.budgetExceeded {
            let broken = reader.diagnostics.filter { $0.severity == .error }.map(\.path)
            diagnostics += YAMLFile.unlessBroken(validate(c, broken) + extra(c), by: reader.diagnostics)
            finish(&c)
            config = c
        }
        let located = YAMLFile.locate(diagnostics, in: reader.sourceMap, file: file)
        let hasErrors = located.contains { $0.diagnostic.severity == .error }
        return (hasErrors ? nil : config, located)
    }

    /// `[::]:7946` written without quotes on `line` (YAML starts a flow list at the `[` and then fails).
    package static func unquotedBracketEndpoint(in yaml: String, line: Int) -> String? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return nil }
        let text = lines[line - 1]
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else { return nil }
        let before = text[..<open]
        // Quoted already: then the parser stumbled on something else.
        guard !before.contains("\""), !before.contains("'") else { return nil }
        let port = text[text.index(after: close)...].prefix { $0 == ":" || $0.isNumber }
        let token = String(text[open...close] + port)
        guard port.count > 1, Endpoint(token) != nil else { return nil }
        return token
    }
}

/// The shared sections' schema. A value that cannot be read is reported here and replaced by a
/// placeholder; the validator is told which paths those are and checks nothing that depends on them.
extension YAMLReader {
    package static let placeholderEndpoint = Endpoint(address: .v4(0), port: 0)

    package mutating func readGossip(_ node: YAMLNode, _ path: SpecPath) -> DaemonConfig.Gossip? {
        guard var m = mapping(node, at: path, keys: ["listen", "advertise", "seeds", "profile"]) else { return nil }
        let listen = required(&m, "listen", "the ADDRESS:PORT gossip listens on (UDP and TCP), e.g. listen: 192.168.1.102:7946") {
            $0.endpoint($1, $2, example: "192.168.1.102:7946")
        }
        var g = DaemonConfig.Gossip(listen: listen ?? Self.placeholderEndpoint)
        g.advertise = optional(&m, "advertise") { $0.endpoint($1, $2, example: "192.168.1.102:7946") }
        g.seeds = optional(&m, "seeds") { r, n, p -> [Endpoint]? in
            if case .scalar(let s) = n {
                r.record(p, n)
                r.error(p, s.string.isEmpty ? "expected a list of ADDRESS:PORT, found nothing; write seeds: [] for none, or e.g. seeds: [192.168.1.100:7946]"
                                            : "expected a list of ADDRESS:PORT, found '\(s.string)'; write seeds: [\(s.string)]")
                return nil
            }
            return r.list(n, p, placeholder: Self.placeholderEndpoint) { $0.endpoint($1, $2, example: "192.168.1.100:7946") }
        } ?? []
        g.profile = optional(&m, "profile") { $0.enumValue($1, $2, DaemonConfig.Gossip.Profile.self, what: "gossip profile") } ?? g.profile
        finish(m)
        return g
    }

    package mutating func readTrust(_ node: YAMLNode, _ path: SpecPath) -> DaemonConfig.Trust? {
        guard var m = mapping(node, at: path, keys: ["keys", "threshold"]) else { return nil }
        var t = DaemonConfig.Trust()
        t.keys = optional(&m, "keys") { $0.string($1, $2) } ?? t.keys
        t.threshold = optional(&m, "threshold") { $0.int($1, $2) } ?? t.threshold
        finish(m)
        return t
    }

    /// A duration in whole milliseconds.
    package mutating func configDuration(_ node: YAMLNode, _ path: SpecPath) -> Duration? {
        duration(node, path, unit: 1).map(Duration.milliseconds)
    }

    /// One of swift-log's level names; a unique abbreviation (`warn`, `err`, `crit`) gets the full name as a hint.
    package mutating func logLevel(_ node: YAMLNode, _ path: SpecPath) -> DaemonConfig.LogLevel? {
        let names = DaemonConfig.LogLevel.allCases.map(\.rawValue)
        if case .scalar(let s) = node, DaemonConfig.LogLevel(rawValue: s.string) == nil, s.string.count >= 3,
           Suggest.closest(to: s.string, among: names) == nil {
            let longer = names.filter { $0.hasPrefix(s.string.lowercased()) }
            if longer.count == 1 {
                record(path, node)
                error(path, "unknown log level '\(s.string)'; did you mean '\(longer[0])'? expected one of \(names.joined(separator: ", "))")
                return nil
            }
        }
        return enumValue(node, path, DaemonConfig.LogLevel.self, what: "log level")
    }

    /// `192.168.1.102:7946` or `"[2001:db8::1]:7946"`: an IP address (host names are not looked up) and a
    /// port; `example` shows the right form in messages.
    package mutating func endpoint(_ node: YAMLNode, _ path: SpecPath, example: String) -> Endpoint? {
        let port = Endpoint(example)?.port ?? 0
        if case .sequence(let items) = node, items.count == 1, case .scalar(let s) = items[0], let a = IPAddress(s.string) {
            // `[2001:db8::1]` unquoted: YAML reads a list of one address.
            record(path, node)
            error(path, "expected ADDRESS:PORT, found a list: [\(a)] without quotes is a YAML list; write \"\(Endpoint(address: a, port: port))\"")
            return nil
        }
        guard let s = scalar(node, path, expecting: "ADDRESS:PORT") else { return nil }
        if let e = Endpoint(s) { return e }
        let bare = s.hasPrefix("[") && s.hasSuffix("]") ? String(s.dropFirst().dropLast()) : s
        if let a = IPAddress(bare) {
            let suggestion = SpecYAMLWriter.scalar(Endpoint(address: a, port: port).description)
            if a.family == .ipv6 {
                error(path, "'\(s)' has no port; write ADDRESS:PORT with the IPv6 address in brackets, e.g. \(suggestion)")
            } else {
                error(path, "'\(s)' has no port; write ADDRESS:PORT, e.g. \(suggestion)")
            }
        } else {
            error(path, "'\(s)' is not ADDRESS:PORT; write an IP address (not a host name) and a port, e.g. \(example) or \"[2001:db8::1]:\(port)\"")
        }
        return nil
    }
}
