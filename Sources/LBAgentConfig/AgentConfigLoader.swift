import LBSpec
import LBSpecYAML
import Yams

/// The outcome of reading one agent configuration file.
public struct LoadedAgentConfig: Sendable {
    /// The configuration, present only when it has no errors (warnings allowed). Seeds the loader
    /// warned about (this node's own address, repeats) are already dropped.
    public var config: AgentConfig?
    /// Every problem found, in file order, as `FILE:LINE:COLUMN: error|warning: message`.
    public var diagnostics: [LocatedDiagnostic]

    public var hasErrors: Bool { diagnostics.contains { $0.diagnostic.severity == .error } }
}

extension YAMLFormat {
    /// An agent configuration: at most 1 MiB and 10,000 values.
    public static let agentConfig = YAMLFormat(name: "agent configuration", article: "an", maxBytes: 1 << 20, maxNodes: 10_000,
                                               missingFileHint: "docs/agent.md shows an example")
}

/// Reads an `AgentConfig` from YAML with every problem at once, each at its FILE:LINE:COLUMN, then runs
/// `AgentConfigValidator`. The keys, with their defaults (docs/agent.md has the full table):
///
/// ```yaml
/// node: rs1                          # required
/// cluster: web                       # required
/// gossip:
///   listen: 192.168.1.102:7946       # required
///   advertise: 192.168.1.102:7946    # default: listen; required when listen is a wildcard
///   seeds: []                        # default: none
///   profile: lan                     # lan | fast
/// keyring: /etc/lb/cluster.keyring
/// trust:
///   keys: /etc/lb/operators.pub
///   threshold: 1                     # at least 1
/// state_dir: /var/lib/lb
/// status:
///   listen: 127.0.0.1:9110           # not loopback: a warning
/// log_level: info                    # trace | debug | info | notice | warning | error | critical
/// drift:
///   sysctl_interval: 250ms           # 50ms–1m
///   ipvs_interval: 1s                # 100ms–10m
///   retry_max: 30s                   # 1s–10m
/// ```
///
/// Scalars, durations, unknown keys (with "did you mean"), duplicate keys and aliases follow the
/// spec's rules (docs/spec.md, "Value syntax"), through the same `YAMLReader`.
public enum AgentConfigLoader {
    /// An agent configuration is a page of YAML; anything larger is a mistake.
    public static let maxBytes = YAMLFormat.agentConfig.maxBytes

    public static func load(file: String) -> LoadedAgentConfig {
        do {
            return load(yaml: try YAMLFile.read(file: file, format: .agentConfig), file: file)
        } catch {
            return LoadedAgentConfig(config: nil, diagnostics: [error])
        }
    }

    public static func load(yaml: String, file: String = "<agent.yaml>") -> LoadedAgentConfig {
        let root: YAMLNode?
        do {
            root = try YAMLFile.compose(yaml: yaml, file: file, format: .agentConfig)
        } catch {
            var d = error
            if d.diagnostic.message.hasPrefix("YAML syntax:"), let token = unquotedBracketEndpoint(in: yaml, line: d.location.line) {
                d.diagnostic.message += "; an IPv6 ADDRESS:PORT must be quoted: \"\(token)\""
            }
            return LoadedAgentConfig(config: nil, diagnostics: [d])
        }
        guard let root else {
            return LoadedAgentConfig(config: nil, diagnostics: [.fileError(file,
                "the agent configuration is empty; it needs at least node, cluster and gossip.listen (docs/agent.md shows an example)")])
        }
        var reader = YAMLReader(format: .agentConfig)
        var config = reader.readAgentConfig(root)
        var diagnostics = reader.diagnostics
        if var c = config, !reader.budgetExceeded {
            let broken = reader.diagnostics.filter { $0.severity == .error }.map(\.path)
            diagnostics += YAMLFile.unlessBroken(AgentConfigValidator.validate(c, broken: broken), by: reader.diagnostics)
            c.gossip.seeds = AgentConfigValidator.usefulSeeds(c.gossip)
            config = c
        }
        let located = YAMLFile.locate(diagnostics, in: reader.sourceMap, file: file)
        let hasErrors = located.contains { $0.diagnostic.severity == .error }
        return LoadedAgentConfig(config: hasErrors ? nil : config, diagnostics: located)
    }
}

extension AgentConfigLoader {
    /// `[::]:7946` written without quotes on `line` (YAML starts a flow list at the `[` and then fails).
    static func unquotedBracketEndpoint(in yaml: String, line: Int) -> String? {
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

/// The agent configuration's schema. A value that cannot be read is reported here and replaced by a
/// placeholder; the validator is told which paths those are and checks nothing that depends on them.
extension YAMLReader {
    static let agentKeys = ["node", "cluster", "gossip", "keyring", "trust", "state_dir", "status", "log_level", "drift"]
    static let placeholderEndpoint = Endpoint(address: .v4(0), port: 0)

    mutating func readAgentConfig(_ root: YAMLNode) -> AgentConfig? {
        guard var m = mapping(root, at: .root, keys: Self.agentKeys) else { return nil }
        let node = required(&m, "node", "this host's name among the spec's nodes, e.g. node: rs1") { $0.string($1, $2) } ?? ""
        let cluster = required(&m, "cluster", "the cluster's name as the spec's cluster key gives it, e.g. cluster: web") { $0.string($1, $2) } ?? ""
        let gossip = required(&m, "gossip", "at least the gossip listener, e.g. gossip: { listen: 192.168.1.102:7946 }") { $0.readGossip($1, $2) }
        var c = AgentConfig(node: node, cluster: cluster, gossip: gossip ?? AgentConfig.Gossip(listen: Self.placeholderEndpoint))
        c.keyring = optional(&m, "keyring") { $0.string($1, $2) } ?? c.keyring
        c.trust = optional(&m, "trust") { $0.readTrust($1, $2) } ?? c.trust
        c.stateDirectory = optional(&m, "state_dir") { $0.string($1, $2) } ?? c.stateDirectory
        c.status = optional(&m, "status") { $0.readStatus($1, $2) } ?? c.status
        c.logLevel = optional(&m, "log_level") { $0.logLevel($1, $2) } ?? c.logLevel
        c.drift = optional(&m, "drift") { $0.readDrift($1, $2) } ?? c.drift
        finish(m)
        return c
    }

    mutating func readGossip(_ node: YAMLNode, _ path: SpecPath) -> AgentConfig.Gossip? {
        guard var m = mapping(node, at: path, keys: ["listen", "advertise", "seeds", "profile"]) else { return nil }
        let listen = required(&m, "listen", "the ADDRESS:PORT gossip listens on (UDP and TCP), e.g. listen: 192.168.1.102:7946") {
            $0.endpoint($1, $2, example: "192.168.1.102:7946")
        }
        var g = AgentConfig.Gossip(listen: listen ?? Self.placeholderEndpoint)
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
        g.profile = optional(&m, "profile") { $0.enumValue($1, $2, AgentConfig.Gossip.Profile.self, what: "gossip profile") } ?? g.profile
        finish(m)
        return g
    }

    mutating func readTrust(_ node: YAMLNode, _ path: SpecPath) -> AgentConfig.Trust? {
        guard var m = mapping(node, at: path, keys: ["keys", "threshold"]) else { return nil }
        var t = AgentConfig.Trust()
        t.keys = optional(&m, "keys") { $0.string($1, $2) } ?? t.keys
        t.threshold = optional(&m, "threshold") { $0.int($1, $2) } ?? t.threshold
        finish(m)
        return t
    }

    mutating func readStatus(_ node: YAMLNode, _ path: SpecPath) -> AgentConfig.Status? {
        guard var m = mapping(node, at: path, keys: ["listen"]) else { return nil }
        var s = AgentConfig.Status()
        s.listen = optional(&m, "listen") { $0.endpoint($1, $2, example: "127.0.0.1:9110") } ?? s.listen
        finish(m)
        return s
    }

    mutating func readDrift(_ node: YAMLNode, _ path: SpecPath) -> AgentConfig.Drift? {
        guard var m = mapping(node, at: path, keys: ["sysctl_interval", "ipvs_interval", "retry_max"]) else { return nil }
        var d = AgentConfig.Drift()
        d.sysctlInterval = optional(&m, "sysctl_interval") { $0.duration($1, $2, unit: 1).map(Duration.milliseconds) } ?? d.sysctlInterval
        d.ipvsInterval = optional(&m, "ipvs_interval") { $0.duration($1, $2, unit: 1).map(Duration.milliseconds) } ?? d.ipvsInterval
        d.retryMax = optional(&m, "retry_max") { $0.duration($1, $2, unit: 1).map(Duration.milliseconds) } ?? d.retryMax
        finish(m)
        return d
    }

    /// One of swift-log's level names; a unique abbreviation (`warn`, `err`, `crit`) gets the full name as a hint.
    mutating func logLevel(_ node: YAMLNode, _ path: SpecPath) -> AgentConfig.LogLevel? {
        let names = AgentConfig.LogLevel.allCases.map(\.rawValue)
        if case .scalar(let s) = node, AgentConfig.LogLevel(rawValue: s.string) == nil, s.string.count >= 3,
           Suggest.closest(to: s.string, among: names) == nil {
            let longer = names.filter { $0.hasPrefix(s.string.lowercased()) }
            if longer.count == 1 {
                record(path, node)
                error(path, "unknown log level '\(s.string)'; did you mean '\(longer[0])'? expected one of \(names.joined(separator: ", "))")
                return nil
            }
        }
        return enumValue(node, path, AgentConfig.LogLevel.self, what: "log level")
    }

    /// `192.168.1.102:7946` or `"[2001:db8::1]:7946"`: an IP address (host names are not looked up) and a
    /// port; `example` shows the right form in messages.
    mutating func endpoint(_ node: YAMLNode, _ path: SpecPath, example: String) -> Endpoint? {
        let port = Self.port(of: example)
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

    static func port(of example: String) -> Int { Endpoint(example)?.port ?? 0 }
}
