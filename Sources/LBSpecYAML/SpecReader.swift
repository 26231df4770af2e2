import LBSpec
import Yams

/// The spec reader: the cluster spec's schema as `YAMLReader` functions, one per type.
typealias SpecReader = YAMLReader

/// Turns a YAML node tree into a `ClusterSpec`, recording a diagnostic for every structural problem
/// (unknown or missing keys, wrong types, unparsable values) and the position of every value read.
extension YAMLReader {
    // MARK: the schema, one function per type

    mutating func readSpec(_ root: YAMLNode) -> ClusterSpec? {
        guard var m = mapping(root, at: .root, keys: ["cluster", "nodes", "vips", "ipvs", "notifications"]) else { return nil }
        var spec = ClusterSpec(cluster: required(&m, "cluster", "a cluster name") { $0.string($1, $2) } ?? "")
        spec.nodes = optional(&m, "nodes") { r, n, p in r.list(n, p, placeholder: LBSpec.Node(name: "", address: Self.placeholderAddress)) { $0.readNode($1, $2) } } ?? []
        spec.vips = optional(&m, "vips") { r, n, p in r.list(n, p, placeholder: VIP(name: "", address: Self.placeholderAddress, vrrp: VRRPGroup(routerID: 0))) { $0.readVIP($1, $2) } } ?? []
        spec.ipvs = optional(&m, "ipvs") { $0.readIPVS($1, $2) } ?? IPVSSettings()
        spec.notifications = optional(&m, "notifications") { $0.readNotifications($1, $2) } ?? Notifications()
        if !m.has("nodes") { error(SpecPath.root["nodes"], "missing key 'nodes': list the cluster's hosts") }
        if !m.has("vips") { warning(SpecPath.root["vips"], "no vips: agents will hold nothing") }
        finish(m)
        return spec
    }

    mutating func readNode(_ node: YAMLNode, _ path: SpecPath) -> LBSpec.Node? {
        guard var m = mapping(node, at: path, keys: ["name", "address", "interface"]) else { return nil }
        let name = required(&m, "name", "a node name") { $0.string($1, $2) } ?? ""
        let address = required(&m, "address", "the node's address, e.g. 192.168.1.100/24") { $0.cidr($1, $2) }
        let interface = optional(&m, "interface") { $0.string($1, $2) } ?? LBSpec.Node.defaultInterface
        finish(m)
        // Keep a node whose address is unreadable, so references to its name do not cascade into errors.
        return LBSpec.Node(name: name, address: address ?? Self.placeholderAddress, interface: interface)
    }

    mutating func readVIP(_ node: YAMLNode, _ path: SpecPath) -> VIP? {
        guard var m = mapping(node, at: path, keys: ["name", "address", "interface", "vrrp", "services"]) else { return nil }
        let address = required(&m, "address", "the VIP with its prefix, e.g. 192.168.1.200/24") { $0.cidr($1, $2) }
        let interface = optional(&m, "interface") { $0.string($1, $2) }
        let name = optional(&m, "name") { $0.string($1, $2) } ?? address.map { "\($0.address)".replacingOccurrences(of: ":", with: "-") } ?? ""
        let vrrp = required(&m, "vrrp", "the VRRP group that moves this VIP") { $0.readVRRP($1, $2) }
        let services = optional(&m, "services") { r, n, p in r.list(n, p, placeholder: VirtualService(port: 0)) { $0.readService($1, $2) } } ?? []
        finish(m)
        // Missing parts become placeholders whose checks SpecLoader suppresses; the rest is still checked.
        return VIP(name: name, address: address ?? Self.placeholderAddress, interface: interface, vrrp: vrrp ?? VRRPGroup(routerID: 0), services: services)
    }

    mutating func readVRRP(_ node: YAMLNode, _ path: SpecPath) -> VRRPGroup? {
        guard var m = mapping(node, at: path, keys: ["router_id", "version", "advert_interval", "auth", "preempt",
                                                      "preempt_delay", "unicast", "gratuitous_arp", "track_scripts", "track_interfaces", "notify", "sync_group", "email", "directors"]) else { return nil }
        var g = VRRPGroup(routerID: required(&m, "router_id", "the virtual router id, 1–255") { $0.int($1, $2) } ?? 0)
        g.version = optional(&m, "version") { $0.int($1, $2) } ?? 2
        g.advertIntervalCentiseconds = optional(&m, "advert_interval") { r, n, p in
            r.duration(n, p, unit: 10).map { $0 / 10 }
        } ?? 100
        g.authPassword = optional(&m, "auth") { $0.readAuth($1, $2) } ?? nil
        g.preempt = optional(&m, "preempt") { $0.bool($1, $2) } ?? true
        g.preemptDelaySeconds = optional(&m, "preempt_delay") { $0.seconds($1, $2) } ?? 0
        g.unicast = optional(&m, "unicast") { $0.bool($1, $2) } ?? false
        g.gratuitousARP = optional(&m, "gratuitous_arp") { $0.readGARP($1, $2) } ?? GratuitousARP()
        g.trackScripts = optional(&m, "track_scripts") { r, n, p in r.list(n, p) { $0.readTrackScript($1, $2) } } ?? []
        g.trackInterfaces = optional(&m, "track_interfaces") { r, n, p in r.list(n, p) { $0.readTrackInterface($1, $2) } } ?? []
        g.notify = optional(&m, "notify") { $0.readStateScripts($1, $2) } ?? StateScripts()
        g.syncGroup = optional(&m, "sync_group") { $0.string($1, $2) }
        g.email = optional(&m, "email") { $0.bool($1, $2) } ?? true
        g.directors = required(&m, "directors", "the directors with their priorities") { r, n, p in
            r.list(n, p, placeholder: Director(node: "", priority: 0)) { $0.readDirector($1, $2) }
        } ?? []
        finish(m)
        return g
    }

    /// `auth: none`, or `auth: {type: pass, password: s3cret}` / `auth: {password: s3cret}`.
    mutating func readAuth(_ node: YAMLNode, _ path: SpecPath) -> String?? {
        if case .scalar(let s) = node {
            record(path, node)
            if s.string == "none" { return .some(nil) }
            error(path, "auth must be 'none' or a mapping with a password")
            return nil
        }
        guard var m = mapping(node, at: path, keys: ["type", "password"]) else { return nil }
        let type = optional(&m, "type") { r, n, p in r.choice(n, p, ["none", "pass"], what: "auth type") } ?? "pass"
        let password = optional(&m, "password") { $0.string($1, $2) }
        finish(m)
        if type == "none" {
            if password != nil { error(path["password"], "a password with auth type none is ignored; remove one of them") }
            return .some(nil)
        }
        guard let password else {
            error(path, "auth type pass needs a password")
            return nil
        }
        return .some(password)
    }

    mutating func readGARP(_ node: YAMLNode, _ path: SpecPath) -> GratuitousARP? {
        guard var m = mapping(node, at: path, keys: ["count", "repeat_delay", "refresh"]) else { return nil }
        var g = GratuitousARP()
        g.count = optional(&m, "count") { $0.int($1, $2) } ?? g.count
        g.repeatDelaySeconds = optional(&m, "repeat_delay") { $0.seconds($1, $2) } ?? g.repeatDelaySeconds
        g.refreshSeconds = optional(&m, "refresh") { $0.seconds($1, $2) } ?? g.refreshSeconds
        finish(m)
        return g
    }

    /// `{ master: "/usr/local/bin/became-master", backup: …, fault: …, stop: … }`.
    mutating func readStateScripts(_ node: YAMLNode, _ path: SpecPath) -> StateScripts? {
        guard var m = mapping(node, at: path, keys: ["master", "backup", "fault", "stop"]) else { return nil }
        var s = StateScripts()
        s.master = optional(&m, "master") { $0.string($1, $2) }
        s.backup = optional(&m, "backup") { $0.string($1, $2) }
        s.fault = optional(&m, "fault") { $0.string($1, $2) }
        s.stop = optional(&m, "stop") { $0.string($1, $2) }
        finish(m)
        return s
    }

    /// `{ name: chk_nginx, command: "pidof nginx", interval: 2s, timeout: 1s, rise: 2, fall: 3, weight: -20 }`.
    mutating func readTrackScript(_ node: YAMLNode, _ path: SpecPath) -> TrackScript? {
        guard var m = mapping(node, at: path, keys: ["name", "command", "interval", "timeout", "rise", "fall", "weight",
                                                      "reverse"]) else { return nil }
        var t = TrackScript(name: required(&m, "name", "a name for the script") { $0.string($1, $2) } ?? "",
                            command: required(&m, "command", "the command to run, e.g. 'pidof nginx'") { $0.string($1, $2) } ?? "")
        t.intervalSeconds = optional(&m, "interval") { $0.seconds($1, $2) } ?? t.intervalSeconds
        t.timeoutSeconds = optional(&m, "timeout") { $0.seconds($1, $2) }
        t.rise = optional(&m, "rise") { $0.int($1, $2) } ?? t.rise
        t.fall = optional(&m, "fall") { $0.int($1, $2) } ?? t.fall
        t.weight = optional(&m, "weight") { $0.int($1, $2) } ?? t.weight
        t.reverse = optional(&m, "reverse") { $0.bool($1, $2) } ?? false
        finish(m)
        return t
    }

    /// `{ interface: eth1, weight: -20 }`.
    mutating func readTrackInterface(_ node: YAMLNode, _ path: SpecPath) -> TrackInterface? {
        guard var m = mapping(node, at: path, keys: ["interface", "weight", "reverse"]) else { return nil }
        var t = TrackInterface(interface: required(&m, "interface", "the interface whose link is tracked") { $0.string($1, $2) } ?? "")
        t.weight = optional(&m, "weight") { $0.int($1, $2) } ?? 0
        t.reverse = optional(&m, "reverse") { $0.bool($1, $2) } ?? false
        finish(m)
        return t
    }

    mutating func readDirector(_ node: YAMLNode, _ path: SpecPath) -> Director? {
        guard var m = mapping(node, at: path, keys: ["node", "priority", "interface"]) else { return nil }
        let name = required(&m, "node", "the director's node name") { $0.string($1, $2) }
        let priority = required(&m, "priority", "a VRRP priority, 1–254") { $0.int($1, $2) }
        let interface = optional(&m, "interface") { $0.string($1, $2) }
        finish(m)
        return Director(node: name ?? "", priority: priority ?? 0, interface: interface)
    }

    mutating func readService(_ node: YAMLNode, _ path: SpecPath) -> VirtualService? {
        guard var m = mapping(node, at: path, keys: ["port", "protocol", "scheduler", "scheduler_flags", "forwarding",
                                                      "persistence", "quorum", "sorry_server", "health_check", "inhibit_on_failure",
                                                      "ops", "hysteresis", "quorum_up", "quorum_down", "alpha", "omega",
                                                      "fwmark", "real_servers"]) else { return nil }
        let port = required(&m, "port", "the service port", { $0.int($1, $2) }) ?? 0
        var s = VirtualService(port: port)
        s.protocol = optional(&m, "protocol") { $0.enumValue($1, $2, ServiceProtocol.self, what: "protocol") } ?? .tcp
        s.scheduler = optional(&m, "scheduler") { $0.enumValue($1, $2, Scheduler.self, what: "scheduler") } ?? .wrr
        s.schedulerFlags = optional(&m, "scheduler_flags") { r, n, p in
            r.list(n, p) { $0.enumValue($1, $2, SchedulerFlag.self, what: "scheduler flag") }
        } ?? []
        s.forwarding = optional(&m, "forwarding") { $0.enumValue($1, $2, Forwarding.self, what: "forwarding method") } ?? .dr
        s.persistence = optional(&m, "persistence") { $0.readPersistence($1, $2) }
        s.quorum = optional(&m, "quorum") { $0.int($1, $2) } ?? 1
        s.hysteresis = optional(&m, "hysteresis") { $0.int($1, $2) } ?? 0
        s.quorumUp = optional(&m, "quorum_up") { $0.string($1, $2) }
        s.quorumDown = optional(&m, "quorum_down") { $0.string($1, $2) }
        s.alpha = optional(&m, "alpha") { $0.bool($1, $2) } ?? false
        s.omega = optional(&m, "omega") { $0.bool($1, $2) } ?? false
        if let sorry = optional(&m, "sorry_server", { $0.readSorryServer($1, $2, defaultPort: port) }) {
            (s.sorryServer, s.sorryServerForwarding, s.sorryServerInhibit) = sorry
        }
        s.healthCheck = optional(&m, "health_check") { $0.readHealthCheck($1, $2) }
        s.inhibitOnFailure = optional(&m, "inhibit_on_failure") { $0.bool($1, $2) } ?? false
        s.ops = optional(&m, "ops") { $0.bool($1, $2) } ?? false
        s.fwmark = optional(&m, "fwmark") { $0.readFirewallMark($1, $2) }
        s.realServers = optional(&m, "real_servers") { r, n, p in r.list(n, p, placeholder: RealServer(node: "")) { $0.readRealServer($1, $2) } } ?? []
        finish(m)
        return s
    }

    /// `fwmark: {mark: 1, ports: [80, 443]}`.
    mutating func readFirewallMark(_ node: YAMLNode, _ path: SpecPath) -> FirewallMark? {
        guard var m = mapping(node, at: path, keys: ["mark", "ports"]) else { return nil }
        let mark = required(&m, "mark", "the firewall mark, 1–4294967295") { $0.int($1, $2) }
        let ports = optional(&m, "ports") { r, n, p in r.list(n, p) { $0.int($1, $2) } } ?? []
        finish(m)
        return mark.map { FirewallMark(mark: $0, ports: ports) }
    }

    /// `persistence: 3600` or `persistence: {timeout: 1h, netmask: 255.255.255.0}`.
    mutating func readPersistence(_ node: YAMLNode, _ path: SpecPath) -> Persistence? {
        if case .scalar = node {
            return seconds(node, path).map { Persistence(timeoutSeconds: $0) }
        }
        guard var m = mapping(node, at: path, keys: ["timeout", "netmask"]) else { return nil }
        let timeout = required(&m, "timeout", "the persistence timeout in seconds") { $0.seconds($1, $2) }
        let netmask = optional(&m, "netmask") { $0.address($1, $2) } ?? .v4(.max)
        finish(m)
        return timeout.map { Persistence(timeoutSeconds: $0, netmask: netmask) }
    }

    mutating func readHealthCheck(_ node: YAMLNode, _ path: SpecPath) -> HealthCheck? {
        guard var m = mapping(node, at: path, keys: ["type", "port", "path", "expect_status", "host", "urls", "sni",
                                                      "verify_certificate", "ca_file", "command", "dynamic_weight",
                                                      "payload", "require_reply", "reply", "min_reply_length", "max_reply_length",
                                                      "query_type", "query_name", "helo_name",
                                                      "interval", "connect_timeout", "retries", "retry_delay"]) else { return nil }
        guard let kind = required(&m, "type", "the check type: tcp, http, https, websocket, exec, udp, dns, smtp or ping", { $0.enumValue($1, $2, HealthCheck.Kind.self, what: "health check type") }) else {
            finish(m)
            return nil
        }
        var hc = HealthCheck(kind: kind)
        hc.port = optional(&m, "port") { $0.int($1, $2) }
        hc.path = optional(&m, "path") { $0.string($1, $2) } ?? hc.path
        hc.expectStatus = optional(&m, "expect_status") { $0.int($1, $2) } ?? hc.expectStatus
        hc.host = optional(&m, "host") { $0.string($1, $2) }
        hc.urls = optional(&m, "urls") { r, n, p in
            r.list(n, p, placeholder: HTTPURLCheck(path: "/")) { $0.readURLCheck($1, $2) }
        } ?? []
        hc.sni = optional(&m, "sni") { $0.bool($1, $2) } ?? false
        hc.verifyCertificate = optional(&m, "verify_certificate") { $0.bool($1, $2) } ?? false
        hc.caFile = optional(&m, "ca_file") { $0.string($1, $2) }
        hc.command = optional(&m, "command") { $0.string($1, $2) }
        hc.dynamicWeight = optional(&m, "dynamic_weight") { $0.bool($1, $2) } ?? false
        hc.payload = optional(&m, "payload") { $0.string($1, $2) }
        hc.requireReply = optional(&m, "require_reply") { $0.bool($1, $2) } ?? false
        hc.reply = optional(&m, "reply") { $0.string($1, $2) }
        hc.minReplyLength = optional(&m, "min_reply_length") { $0.int($1, $2) }
        hc.maxReplyLength = optional(&m, "max_reply_length") { $0.int($1, $2) }
        hc.queryType = optional(&m, "query_type") { $0.string($1, $2) }
        hc.queryName = optional(&m, "query_name") { $0.string($1, $2) }
        hc.heloName = optional(&m, "helo_name") { $0.string($1, $2) }
        hc.intervalMilliseconds = optional(&m, "interval") { $0.duration($1, $2, unit: 1) } ?? hc.intervalMilliseconds
        hc.connectTimeoutMilliseconds = optional(&m, "connect_timeout") { $0.duration($1, $2, unit: 1) } ?? hc.connectTimeoutMilliseconds
        hc.retries = optional(&m, "retries") { $0.int($1, $2) } ?? hc.retries
        hc.retryDelayMilliseconds = optional(&m, "retry_delay") { $0.duration($1, $2, unit: 1) } ?? hc.retryDelayMilliseconds
        finish(m)
        return hc
    }

    /// `{ path: /, status: [200-299, 301], digest: …, host: … }`.
    mutating func readURLCheck(_ node: YAMLNode, _ path: SpecPath) -> HTTPURLCheck? {
        guard var m = mapping(node, at: path, keys: ["path", "status", "digest", "host"]) else { return nil }
        var url = HTTPURLCheck(path: required(&m, "path", "the path to fetch, e.g. /healthz") { $0.string($1, $2) } ?? "/")
        url.status = optional(&m, "status") { r, n, p -> [ClosedRange<Int>]? in
            if case .scalar = n { return r.statusRanges(n, p) }
            return r.list(n, p) { $0.statusRanges($1, $2) }.map { $0.flatMap { $0 } }
        } ?? url.status
        url.digest = optional(&m, "digest") { $0.string($1, $2) }
        url.host = optional(&m, "host") { $0.string($1, $2) }
        finish(m)
        return url
    }

    /// `200`, `200-299`, or several of them separated by blanks (keepalived's `status_code 200-299 301`).
    mutating func statusRanges(_ node: YAMLNode, _ path: SpecPath) -> [ClosedRange<Int>]? {
        guard let s = scalar(node, path, expecting: "a status or a range of statuses, e.g. 200 or 200-299") else { return nil }
        var out: [ClosedRange<Int>] = []
        for word in s.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let range = HTTPURLCheck.statusRange(word) else {
                error(path, "'\(word)' is not an HTTP status or a range of them (e.g. 200 or 200-299, lower end first)")
                return nil
            }
            out.append(range)
        }
        if out.isEmpty { error(path, "no status given: write one, e.g. 200, or a range, e.g. 200-299") }
        return out.isEmpty ? nil : out
    }

    mutating func readRealServer(_ node: YAMLNode, _ path: SpecPath) -> RealServer? {
        guard var m = mapping(node, at: path, keys: ["node", "address", "port", "weight", "drain", "drain_deadline",
                                                      "inhibit_on_failure", "forwarding"]) else { return nil }
        var rs = RealServer()
        rs.node = optional(&m, "node") { $0.string($1, $2) }
        rs.address = optional(&m, "address") { $0.address($1, $2) }
        rs.port = optional(&m, "port") { $0.int($1, $2) }
        rs.weight = optional(&m, "weight") { $0.int($1, $2) } ?? 1
        rs.drain = optional(&m, "drain") { $0.bool($1, $2) } ?? false
        // Without drain: true the deadline is still read, so the validator can say what is missing.
        rs.drainDeadline = optional(&m, "drain_deadline") { $0.timestamp($1, $2) }
        rs.inhibitOnFailure = optional(&m, "inhibit_on_failure") { $0.bool($1, $2) }
        rs.forwarding = optional(&m, "forwarding") { $0.enumValue($1, $2, Forwarding.self, what: "forwarding method") }
        finish(m)
        return rs
    }

    /// `address:port`, or `{address, port, forwarding, inhibit}`.
    mutating func readSorryServer(_ node: YAMLNode, _ path: SpecPath, defaultPort: Int) -> (Endpoint?, Forwarding?, Bool)? {
        guard case .mapping = node else { return endpoint(node, path, defaultPort: defaultPort).map { ($0, nil, false) } }
        guard var m = mapping(node, at: path, keys: ["address", "port", "forwarding", "inhibit"]) else { return nil }
        let a = required(&m, "address", "the address") { $0.address($1, $2) }
        let port = optional(&m, "port") { $0.int($1, $2) } ?? defaultPort
        let forwarding = optional(&m, "forwarding") { $0.enumValue($1, $2, Forwarding.self, what: "forwarding method") }
        let inhibit = optional(&m, "inhibit") { $0.bool($1, $2) } ?? false
        finish(m)
        return a.map { (Endpoint(address: $0, port: port), forwarding, inhibit) }
    }

    mutating func readIPVS(_ node: YAMLNode, _ path: SpecPath) -> IPVSSettings? {
        guard var m = mapping(node, at: path, keys: ["timeouts", "sync"]) else { return nil }
        var s = IPVSSettings()
        s.timeouts = optional(&m, "timeouts") { r, n, p -> IPVSTimeouts? in
            guard var t = r.mapping(n, at: p, keys: ["tcp", "tcpfin", "udp"]) else { return nil }
            var v = IPVSTimeouts()
            v.tcp = r.optional(&t, "tcp") { $0.seconds($1, $2) } ?? v.tcp
            v.tcpFin = r.optional(&t, "tcpfin") { $0.seconds($1, $2) } ?? v.tcpFin
            v.udp = r.optional(&t, "udp") { $0.seconds($1, $2) } ?? v.udp
            r.finish(t)
            return v
        } ?? s.timeouts
        s.sync = optional(&m, "sync") { r, n, p -> ConnectionSync? in
            guard var t = r.mapping(n, at: p, keys: ["enabled", "sync_id", "interface"]) else { return nil }
            var v = ConnectionSync()
            v.enabled = r.optional(&t, "enabled") { $0.bool($1, $2) } ?? v.enabled
            v.syncID = r.optional(&t, "sync_id") { $0.int($1, $2) } ?? v.syncID
            v.interface = r.optional(&t, "interface") { $0.string($1, $2) }
            r.finish(t)
            return v
        } ?? s.sync
        finish(m)
        return s
    }

    mutating func readNotifications(_ node: YAMLNode, _ path: SpecPath) -> Notifications? {
        guard var m = mapping(node, at: path, keys: ["email", "webhook", "script"]) else { return nil }
        var n = Notifications()
        n.email = optional(&m, "email") { r, node, p -> EmailNotification? in
            guard var e = r.mapping(node, at: p, keys: ["to", "from", "smtp_server", "smtp_port", "timeout"]) else { return nil }
            let to = r.required(&e, "to", "the recipients") { r, n, p in
                if case .scalar = n { return r.string(n, p).map { [$0] } }
                return r.list(n, p, placeholder: "") { $0.string($1, $2) }
            }
            let from = r.required(&e, "from", "the sender address") { $0.string($1, $2) }
            let server = r.required(&e, "smtp_server", "the SMTP server host") { $0.string($1, $2) }
            var email = EmailNotification(to: to ?? [], from: from ?? "", smtpServer: server ?? "")
            email.smtpPort = r.optional(&e, "smtp_port") { $0.int($1, $2) } ?? email.smtpPort
            email.timeoutSeconds = r.optional(&e, "timeout") { $0.seconds($1, $2) } ?? email.timeoutSeconds
            r.finish(e)
            return email
        }
        n.webhook = optional(&m, "webhook") { $0.string($1, $2) }
        n.script = optional(&m, "script") { $0.string($1, $2) }
        finish(m)
        return n
    }

    /// Stands in for a value that could not be read; its own checks are suppressed (SpecLoader).
    static let placeholderAddress = CIDR(address: .v4(0), prefixLength: 32)

    /// `192.168.1.50:8080`, `[2001:db8::1]:80`, a bare address (service port), or {address, port}.
    mutating func endpoint(_ node: YAMLNode, _ path: SpecPath, defaultPort: Int) -> Endpoint? {
        if case .mapping = node {
            guard var m = mapping(node, at: path, keys: ["address", "port"]) else { return nil }
            let a = required(&m, "address", "the address") { $0.address($1, $2) }
            let port = optional(&m, "port") { $0.int($1, $2) } ?? defaultPort
            finish(m)
            return a.map { Endpoint(address: $0, port: port) }
        }
        guard let s = scalar(node, path, expecting: "address:port") else { return nil }
        if let a = IPAddress(s) { return Endpoint(address: a, port: defaultPort) }
        guard let e = Endpoint(s) else {
            error(path, "'\(s)' is not address:port (e.g. 192.168.1.50:80 or [2001:db8::1]:80)")
            return nil
        }
        return e
    }
}
