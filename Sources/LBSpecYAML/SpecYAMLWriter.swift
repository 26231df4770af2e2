import LBSpec

/// Writes a spec as YAML in the style of examples/reference.yaml: block mappings for the structure,
/// flow mappings (`{ name: lvs1, address: … }`) for short entries, defaults left out where the reader
/// supplies them. Deterministic: the same spec always gives the same bytes, and `SpecLoader` reads
/// them back to an equal spec.
public enum SpecYAMLWriter {
    /// A flow mapping longer than this is written as a block instead.
    public static let maxFlowWidth = 100

    /// The YAML text; `header` lines become `#` comments at the top.
    public static func yaml(_ spec: ClusterSpec, header: [String] = []) -> String {
        var w = Emitter()
        for line in header { w.out += line.isEmpty ? "#\n" : "# \(line)\n" }
        w.spec(spec)
        return w.out
    }
}

/// A YAML value under construction: a scalar (already quoted when needed), a mapping or a list.
private indirect enum Value {
    case scalar(String)
    case mapping([(String, Value)])
    case list([Value])
}

private struct Emitter {
    var out = ""

    mutating func spec(_ spec: ClusterSpec) {
        out += "cluster: \(scalar(spec.cluster))\n"
        out += "\nnodes:"
        if spec.nodes.isEmpty {
            out += " []\n"
        } else {
            out += "\n"
            let width = spec.nodes.map { $0.name.count }.max() ?? 0
            for n in spec.nodes {
                // Names padded as in the reference example, so addresses line up.
                let name = scalar(n.name) + ","
                out += "  - { name: \(name.padding(width + 1)) address: \(scalar(n.address.description)), interface: \(scalar(n.interface)) }\n"
            }
        }
        out += "\nvips:"
        if spec.vips.isEmpty {
            out += " []\n"
        } else {
            out += "\n"
            for vip in spec.vips { emitListItem(self.vip(vip), indent: 2) }
        }
        let ipvs = self.ipvs(spec.ipvs)
        if case .mapping(let entries) = ipvs, !entries.isEmpty {
            out += "\n"
            emit(key: "ipvs", ipvs, indent: 0)
        }
        let notifications = self.notifications(spec.notifications)
        if case .mapping(let entries) = notifications, !entries.isEmpty {
            out += "\n"
            emit(key: "notifications", notifications, indent: 0)
        }
    }

    // MARK: the schema

    func vip(_ v: VIP) -> Value {
        var m: [(String, Value)] = []
        let defaultName = v.address.address.description.replacingOccurrences(of: ":", with: "-")
        if v.name != defaultName { m.append(("name", .scalar(scalar(v.name)))) }
        m.append(("address", .scalar(scalar(v.address.description))))
        if let interface = v.interface { m.append(("interface", .scalar(scalar(interface)))) }
        m.append(("vrrp", vrrp(v.vrrp)))
        if !v.services.isEmpty { m.append(("services", .list(v.services.map(service)))) }
        return .mapping(m)
    }

    func vrrp(_ g: VRRPGroup) -> Value {
        var m: [(String, Value)] = [("router_id", .scalar("\(g.routerID)"))]
        if g.version != 2 { m.append(("version", .scalar("\(g.version)"))) }
        m.append(("advert_interval", .scalar(duration(milliseconds: g.advertIntervalCentiseconds * 10))))
        if let pw = g.authPassword { m.append(("auth", .mapping([("password", .scalar(scalar(pw)))]))) }
        if !g.preempt { m.append(("preempt", .scalar("false"))) }
        if g.preemptDelaySeconds != 0 { m.append(("preempt_delay", .scalar(duration(milliseconds: g.preemptDelaySeconds * 1000)))) }
        if g.unicast { m.append(("unicast", .scalar("true"))) }
        let garp = g.gratuitousARP, d = GratuitousARP()
        var ga: [(String, Value)] = []
        if garp.count != d.count { ga.append(("count", .scalar("\(garp.count)"))) }
        if garp.repeatDelaySeconds != d.repeatDelaySeconds { ga.append(("repeat_delay", .scalar(duration(milliseconds: garp.repeatDelaySeconds * 1000)))) }
        if garp.refreshSeconds != d.refreshSeconds { ga.append(("refresh", .scalar(duration(milliseconds: garp.refreshSeconds * 1000)))) }
        if !ga.isEmpty { m.append(("gratuitous_arp", .mapping(ga))) }
        if !g.trackScripts.isEmpty { m.append(("track_scripts", .list(g.trackScripts.map(trackScript)))) }
        if !g.trackInterfaces.isEmpty {
            m.append(("track_interfaces", .list(g.trackInterfaces.map { t in
                var e: [(String, Value)] = [("interface", .scalar(scalar(t.interface))), ("weight", .scalar("\(t.weight)"))]
                if t.reverse { e.append(("reverse", .scalar("true"))) }
                return .mapping(e)
            })))
        }
        if !g.notify.isEmpty { m.append(("notify", .mapping(g.notify.named.map { ($0.state, .scalar(scalar($0.command))) }))) }
        if let sync = g.syncGroup { m.append(("sync_group", .scalar(scalar(sync)))) }
        if !g.email { m.append(("email", .scalar("false"))) }
        m.append(("directors", .list(g.directors.map { d in
            var e: [(String, Value)] = [("node", .scalar(scalar(d.node))), ("priority", .scalar("\(d.priority)"))]
            if let i = d.interface { e.append(("interface", .scalar(scalar(i)))) }
            return .mapping(e)
        })))
        return .mapping(m)
    }

    func trackScript(_ t: TrackScript) -> Value {
        var m: [(String, Value)] = [("name", .scalar(scalar(t.name))), ("command", .scalar(scalar(t.command)))]
        let d = TrackScript(name: t.name, command: t.command)
        m.append(("interval", .scalar(duration(milliseconds: t.intervalSeconds * 1000))))
        if let timeout = t.timeoutSeconds { m.append(("timeout", .scalar(duration(milliseconds: timeout * 1000)))) }
        if t.rise != d.rise { m.append(("rise", .scalar("\(t.rise)"))) }
        if t.fall != d.fall { m.append(("fall", .scalar("\(t.fall)"))) }
        m.append(("weight", .scalar("\(t.weight)")))
        if t.reverse { m.append(("reverse", .scalar("true"))) }
        return .mapping(m)
    }

    func service(_ s: VirtualService) -> Value {
        var m: [(String, Value)] = [("port", .scalar("\(s.port)"))]
        if s.protocol != .tcp { m.append(("protocol", .scalar(s.protocol.rawValue))) }
        m.append(("scheduler", .scalar(s.scheduler.rawValue)))
        if !s.schedulerFlags.isEmpty { m.append(("scheduler_flags", .list(s.schedulerFlags.map { .scalar($0.rawValue) }))) }
        m.append(("forwarding", .scalar(s.forwarding.rawValue)))
        if let p = s.persistence {
            m.append(("persistence", .mapping([("timeout", .scalar("\(p.timeoutSeconds)")), ("netmask", .scalar(scalar(p.netmask.description)))])))
        }
        if s.quorum != 1 { m.append(("quorum", .scalar("\(s.quorum)"))) }
        if s.hysteresis != 0 { m.append(("hysteresis", .scalar("\(s.hysteresis)"))) }
        if let c = s.quorumUp { m.append(("quorum_up", .scalar(scalar(c)))) }
        if let c = s.quorumDown { m.append(("quorum_down", .scalar(scalar(c)))) }
        if s.alpha { m.append(("alpha", .scalar("true"))) }
        if s.omega { m.append(("omega", .scalar("true"))) }
        if let f = s.fwmark {
            m.append(("fwmark", .mapping([("mark", .scalar("\(f.mark)")), ("ports", .list(f.ports.map { .scalar("\($0)") }))])))
        }
        if let sorry = s.sorryServer {
            var e: [(String, Value)] = [("address", .scalar(scalar(sorry.address.description))), ("port", .scalar("\(sorry.port)"))]
            if let f = s.sorryServerForwarding { e.append(("forwarding", .scalar(f.rawValue))) }
            if s.sorryServerInhibit { e.append(("inhibit", .scalar("true"))) }
            m.append(("sorry_server", .mapping(e)))
        }
        if let hc = s.healthCheck { m.append(("health_check", healthCheck(hc))) }
        if s.inhibitOnFailure { m.append(("inhibit_on_failure", .scalar("true"))) }
        if s.ops { m.append(("ops", .scalar("true"))) }
        m.append(("real_servers", .list(s.realServers.map { rs in
            var e: [(String, Value)] = []
            if let node = rs.node { e.append(("node", .scalar(scalar(node)))) }
            if let a = rs.address { e.append(("address", .scalar(scalar(a.description)))) }
            if let p = rs.port { e.append(("port", .scalar("\(p)"))) }
            e.append(("weight", .scalar("\(rs.weight)")))
            if rs.drain { e.append(("drain", .scalar("true"))) }
            if let d = rs.drainDeadline { e.append(("drain_deadline", .scalar(scalar(RFC3339.format(d))))) }
            if let i = rs.inhibitOnFailure { e.append(("inhibit_on_failure", .scalar(i ? "true" : "false"))) }
            if let f = rs.forwarding { e.append(("forwarding", .scalar(f.rawValue))) }
            return .mapping(e)
        })))
        return .mapping(m)
    }

    func healthCheck(_ h: HealthCheck) -> Value {
        var m: [(String, Value)] = [("type", .scalar(h.kind.rawValue))]
        if let p = h.port { m.append(("port", .scalar("\(p)"))) }
        if h.isHTTP && h.urls.isEmpty {
            m.append(("path", .scalar(scalar(h.path))))
            m.append(("expect_status", .scalar("\(h.expectStatus)")))
        } else if h.path != "/" {
            m.append(("path", .scalar(scalar(h.path))))
        }
        if (!h.isHTTP || !h.urls.isEmpty) && h.expectStatus != HealthCheck(kind: h.kind).expectStatus {
            m.append(("expect_status", .scalar("\(h.expectStatus)")))
        }
        if let host = h.host { m.append(("host", .scalar(scalar(host)))) }
        if !h.urls.isEmpty { m.append(("urls", .list(h.urls.map(urlCheck)))) }
        if h.sni { m.append(("sni", .scalar("true"))) }
        if h.verifyCertificate { m.append(("verify_certificate", .scalar("true"))) }
        if let ca = h.caFile { m.append(("ca_file", .scalar(scalar(ca)))) }
        if let c = h.command { m.append(("command", .scalar(scalar(c)))) }
        if h.dynamicWeight { m.append(("dynamic_weight", .scalar("true"))) }
        if let v = h.payload { m.append(("payload", .scalar(scalar(v)))) }
        if h.requireReply { m.append(("require_reply", .scalar("true"))) }
        if let v = h.reply { m.append(("reply", .scalar(scalar(v)))) }
        if let v = h.minReplyLength { m.append(("min_reply_length", .scalar("\(v)"))) }
        if let v = h.maxReplyLength { m.append(("max_reply_length", .scalar("\(v)"))) }
        if let v = h.queryType { m.append(("query_type", .scalar(scalar(v)))) }
        if let v = h.queryName { m.append(("query_name", .scalar(scalar(v)))) }
        if let v = h.heloName { m.append(("helo_name", .scalar(scalar(v)))) }
        m.append(("interval", .scalar(duration(milliseconds: h.intervalMilliseconds))))
        m.append(("connect_timeout", .scalar(duration(milliseconds: h.connectTimeoutMilliseconds))))
        m.append(("retries", .scalar("\(h.retries)")))
        if h.retryDelayMilliseconds != HealthCheck(kind: h.kind).retryDelayMilliseconds {
            m.append(("retry_delay", .scalar(duration(milliseconds: h.retryDelayMilliseconds))))
        }
        return .mapping(m)
    }

    func urlCheck(_ u: HTTPURLCheck) -> Value {
        var m: [(String, Value)] = [("path", .scalar(scalar(u.path)))]
        if u.status != HTTPURLCheck.defaultStatus {
            let words = u.statusText.split(separator: " ").map { Value.scalar(String($0)) }
            m.append(("status", words.count == 1 ? words[0] : .list(words)))
        }
        if let d = u.digest { m.append(("digest", .scalar(scalar(d)))) }
        if let host = u.host { m.append(("host", .scalar(scalar(host)))) }
        return .mapping(m)
    }

    func ipvs(_ s: IPVSSettings) -> Value {
        var m: [(String, Value)] = []
        let t = s.timeouts, d = IPVSTimeouts()
        if t != d {
            m.append(("timeouts", .mapping([("tcp", .scalar("\(t.tcp)")), ("tcpfin", .scalar("\(t.tcpFin)")), ("udp", .scalar("\(t.udp)"))])))
        }
        if s.sync != ConnectionSync() {
            var e: [(String, Value)] = [("enabled", .scalar(s.sync.enabled ? "true" : "false"))]
            if s.sync.syncID != 0 || s.sync.enabled { e.append(("sync_id", .scalar("\(s.sync.syncID)"))) }
            if let i = s.sync.interface { e.append(("interface", .scalar(scalar(i)))) }
            m.append(("sync", .mapping(e)))
        }
        return .mapping(m)
    }

    func notifications(_ n: Notifications) -> Value {
        var m: [(String, Value)] = []
        if let e = n.email {
            m.append(("email", .mapping([
                ("to", .list(e.to.map { .scalar(scalar($0)) })),
                ("from", .scalar(scalar(e.from))),
                ("smtp_server", .scalar(scalar(e.smtpServer))),
                ("smtp_port", .scalar("\(e.smtpPort)")),
                ("timeout", .scalar("\(e.timeoutSeconds)")),
            ])))
        }
        if let w = n.webhook { m.append(("webhook", .scalar(scalar(w)))) }
        if let s = n.script { m.append(("script", .scalar(scalar(s)))) }
        return .mapping(m)
    }

    // MARK: layout

    /// `key: value`, with a flow mapping when it fits on one line.
    mutating func emit(key: String, _ value: Value, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .scalar(let s):
            out += "\(pad)\(key): \(s)\n"
        case .mapping(let entries):
            if let flow = flow(value), pad.count + key.count + 2 + flow.count <= SpecYAMLWriter.maxFlowWidth, entries.count <= 6 {
                out += "\(pad)\(key): \(flow)\n"
            } else {
                out += "\(pad)\(key):\n"
                for (k, v) in entries { emit(key: k, v, indent: indent + 2) }
            }
        case .list(let items):
            if items.isEmpty {
                out += "\(pad)\(key): []\n"
            } else if items.allSatisfy({ if case .scalar = $0 { return true } else { return false } }), let flow = flow(value),
                      pad.count + key.count + 2 + flow.count <= SpecYAMLWriter.maxFlowWidth {
                out += "\(pad)\(key): \(flow)\n"
            } else {
                out += "\(pad)\(key):\n"
                for item in items { emitListItem(item, indent: indent + 2) }
            }
        }
    }

    /// `- …`: a flow mapping on one line when it fits, else the mapping's keys under the dash.
    mutating func emitListItem(_ value: Value, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .scalar(let s):
            out += "\(pad)- \(s)\n"
        case .list:
            out += "\(pad)- \(flow(value) ?? "[]")\n"
        case .mapping(let entries):
            if let flow = flow(value), pad.count + 2 + flow.count <= SpecYAMLWriter.maxFlowWidth {
                out += "\(pad)- \(flow)\n"
                return
            }
            for (i, (k, v)) in entries.enumerated() {
                var line = ""
                let saved = out
                out = ""
                emit(key: k, v, indent: indent + 2)
                line = out
                out = saved
                if i == 0 {
                    // "- key: …" replaces the first line's indentation with the dash.
                    line = pad + "- " + line.dropFirst(indent + 2)
                }
                out += line
            }
        }
    }

    /// The one-line form of a value whose parts are all scalars (or scalar lists), else nil.
    func flow(_ value: Value) -> String? {
        switch value {
        case .scalar(let s):
            return s
        case .list(let items):
            let parts = items.compactMap(flow)
            guard parts.count == items.count else { return nil }
            return "[ \(parts.joined(separator: ", ")) ]"
        case .mapping(let entries):
            var parts: [String] = []
            for (k, v) in entries {
                // Only scalars and lists of scalars go on one line; nested structure stays in block style.
                switch v {
                case .mapping: return nil
                case .list(let items) where !items.allSatisfy({ if case .scalar = $0 { return true } else { return false } }): return nil
                default: break
                }
                guard let f = flow(v) else { return nil }
                parts.append("\(k): \(f)")
            }
            return "{ \(parts.joined(separator: ", ")) }"
        }
    }

    // MARK: scalars

    func duration(milliseconds ms: Int) -> String { SpecYAMLWriter.duration(milliseconds: ms) }

    func scalar(_ s: String) -> String { SpecYAMLWriter.scalar(s) }
}

private extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

/// Scalars as the readers accept them, for any writer of lb's YAML files (the agent configuration too).
extension SpecYAMLWriter {
    /// A duration as `YAMLReader.parseMilliseconds` reads it back: `5s`, `500ms`, `2m`, `1h`.
    public static func duration(milliseconds ms: Int) -> String {
        if ms != 0 && ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
        if ms != 0 && ms % 60_000 == 0 && ms < 3_600_000 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }

    /// A string as a YAML scalar: plain when that reads back unchanged in block and flow context,
    /// double-quoted otherwise (`"[2001:db8::1]:7946"`, `"a b: c"`).
    public static func scalar(_ s: String) -> String {
        isPlainSafe(s) ? s : quoted(s)
    }

    static func isPlainSafe(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
        // Addresses, names, paths, e-mail addresses and timestamps: the characters specs use, none special in flow style.
        let allowed = s.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-/@+:".unicodeScalars.contains($0)
        }
        guard allowed else { return false }
        // Leading indicators need quotes; a ':' is plain only inside an address, an IPv4 ADDRESS:PORT or a
        // timestamp, never followed by a blank (documented to read back; "[v6]:port" starts a flow list, so
        // it is quoted).
        if "-:@".unicodeScalars.contains(first) || last == ":" { return false }
        if s.contains(":") && IPAddress(s) == nil && CIDR(s) == nil && Endpoint(s)?.address.family != .ipv4
            && (try? RFC3339.parse(s)) == nil { return false }
        return true
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            // \x22 rather than \": SpecLoader's anchor/alias scan takes \" for the closing quote.
            case "\"": out += "\\x22"
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7F || (0x80...0x9F).contains(u.value) || u.value == 0xFEFF || (0x2028...0x2029).contains(u.value) {
                    let hex = String(u.value, radix: 16, uppercase: true)
                    let width = u.value > 0xFFFF ? 8 : 4
                    out += (width == 8 ? "\\U" : "\\u") + String(repeating: "0", count: width - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

