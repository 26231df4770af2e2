import LBSpec

/// virtual_server: services, real servers and their health checks.
extension KeepalivedReader {
    /// The schedulers keepalived 2.2.7 accepts (check_parser.c, lvs_schedulers); lb runs the first six of them.
    static let ipvsSchedulers: Set<String> = ["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"]

    // MARK: virtual_server

    mutating func virtualServer(_ v: KeepalivedStatement) {
        let args = v.arguments
        guard let first = args.first else {
            sink.error(v.position, "virtual_server needs an address and a port")
            return
        }
        if first == "group" {
            // The block is read once, for the first member, so each of its diagnostics is said once.
            guard let members = groupMembers(v), let service = serviceBlock(v, address: members[0].address, port: members[0].port) else { return }
            add(service)
            for m in members.dropFirst() { add(service.member(m)) }
            return
        }
        if first == "fwmark" {
            sink.error(v.position, "virtual_server fwmark is not supported by lb: declare each VIP:port as its own virtual_server")
            return
        }
        guard let address = IPAddress(first) else {
            sink.error(v.position, "virtual_server address '\(first)' is not an IP address")
            return
        }
        guard args.count >= 2 else {
            sink.error(v.position, "virtual_server \(address) has no port: lb services are VIP:port (keepalived allows that only for persistent services)")
            return
        }
        guard let port = Self.parseUnsigned(args[1]), (1...65535).contains(port) else {
            sink.error(v.position, "virtual_server port '\(args[1])' is not 1–65535")
            return
        }
        extra(v, after: 2)
        if let service = serviceBlock(v, address: address, port: port) { add(service) }
    }

    /// A virtual_server's block as the service at address:port.
    mutating func serviceBlock(_ v: KeepalivedStatement, address: IPAddress, port: Int) -> ImportedService? {
        var service = VirtualService(port: port)
        var positions: [String: SourcePosition] = [:]
        var scheduler: Located<String>?
        var forwarding: Located<Forwarding>?
        var proto: Located<ServiceProtocol>?
        var persistence: Located<Int>?
        var granularity: Located<IPAddress>?
        var quorum: Located<Int>?
        var hysteresis: Located<Int>?
        var inhibit: SourcePosition?
        var sorryInhibit: SourcePosition?
        var defaults = CheckTiming()
        var virtualhost: String?
        var realServers: [RealServerBlock] = []
        /// Settings written with a value keepalived rejects: reported already, so no "missing" warning.
        var written = Set<String>()
        for s in v.block ?? [] {
            let k = s.keyword
            guard KeepalivedKeywords.virtualServer.contains(k) else {
                unknown(s, in: "virtual_server", known: KeepalivedKeywords.virtualServer)
                continue
            }
            guard checkBlock(s, takesBlock: k == "real_server") else { continue }
            switch k {
            case "lb_algo", "lvs_sched":
                guard let v = argument(s, 0, "a scheduler") else { continue }
                if Self.ipvsSchedulers.contains(v) {
                    scheduler = Located(v, at: s.position)
                } else {
                    // lbalgo_handler: a name IPVS does not know leaves the scheduler as it was.
                    written.insert("scheduler")
                    let hint = Suggest.closest(to: v, among: Scheduler.allCases.map(\.rawValue)).map { " (did you mean \($0)?)" } ?? ""
                    rejected(s.position, "unknown scheduler '\(v)'\(hint)",
                             otherwise: "ignores the line and uses \(scheduler?.value ?? KeepalivedDefaults.scheduler)")
                }
            case "lb_kind", "lvs_method":
                written.insert("forwarding")
                if let f = forwardingMethod(s, current: forwarding?.value) { forwarding = Located(f, at: s.position) }
            case "protocol":
                written.insert("protocol")
                if let v = argument(s, 0, "TCP or UDP") {
                    switch v.uppercased() {
                    case "TCP": proto = Located(.tcp, at: s.position)
                    case "UDP": proto = Located(.udp, at: s.position)
                    case "SCTP": sink.error(s.position, "protocol SCTP is not supported by lb (tcp and udp only)")
                    default:
                        let kept = proto.map { "keeps \($0.value.rawValue.uppercased())" } ?? "creates a UDP service, as without a protocol line"
                        rejected(s.position, "unknown protocol '\(v)'; expected TCP or UDP", otherwise: "ignores the line and \(kept)")
                        if proto == nil { proto = Located(KeepalivedDefaults.protocol, at: s.position) }
                    }
                }
            case "persistence_timeout":
                if s.words.count == 1 {
                    persistence = Located(KeepalivedDefaults.persistenceSeconds, at: s.position)
                } else if let v = unsigned(s, 0, range: 1...Int(Int32.max), what: "persistence_timeout",
                                           otherwise: persistence.map { "ignores the line and keeps \($0.value) s" }
                                               ?? "ignores the line: no persistence, unless a persistence_granularity gives it 360 s") {
                    persistence = Located(v, at: s.position)
                }
            case "persistence_granularity":
                if let v = argument(s, 0, "a netmask such as 255.255.255.255") {
                    granularity = netmask(v, at: s.position, family: address.family) ?? granularity
                }
            case "quorum":
                // quorum_handler: a rejected quorum is 1, not the previous value.
                quorum = Located(unsigned(s, 0, range: 1...Int(UInt32.max), what: "quorum", otherwise: "uses quorum 1") ?? 1, at: s.position)
            case "hysteresis":
                // hysteresis_handler: a rejected value leaves the previous one.
                if let v = unsigned(s, 0, range: 0...Int(UInt32.max), what: "hysteresis", otherwise: "ignores the line") {
                    hysteresis = Located(v, at: s.position)
                }
            case "quorum_up", "quorum_down":
                // quorum_up_handler, quorum_down_handler: the first one stands; keepalived splits the rest of the
                // line into the program and its arguments, and /bin/sh -c runs the same words the same way.
                let first = k == "quorum_up" ? service.quorumUp : service.quorumDown
                guard first == nil else {
                    rejected(s.position, "\(k) is written twice", otherwise: "keeps the first one")
                    continue
                }
                if argument(s, 0, "the command to run") != nil {
                    let command = s.arguments.joined(separator: " ")
                    if k == "quorum_up" { service.quorumUp = command } else { service.quorumDown = command }
                    positions[k] = s.position
                }
            case "alpha", "omega":
                // vs_alpha_handler, omega_handler: no value read, always on.
                if k == "alpha" { service.alpha = true } else { service.omega = true }
                positions[k] = s.position
                extra(s, after: 0)
            case "ops":
                // lbflags_handler: IP_VS_SVC_F_ONEPACKET, whatever the protocol (the kernel ignores it for TCP).
                service.ops = true
                positions["ops"] = s.position
                extra(s, after: 0)
            case "sorry_server":
                if let e = endpoint(s, defaultPort: port, what: "sorry server") {
                    service.sorryServer = e
                    positions["sorry_server"] = s.position
                }
            case "sorry_server_inhibit", "sorry_server_lvs_method":
                // ssvri_handler, ss_forwarding_handler: they apply to the sorry_server written before them.
                guard service.sorryServer != nil else {
                    rejected(s.position, "\(k) before or without a sorry_server", otherwise: "ignores the line")
                    continue
                }
                if k == "sorry_server_inhibit" {
                    sorryInhibit = s.position
                    extra(s, after: 0)
                } else if let f = forwardingMethod(s, current: service.sorryServerForwarding, unset: "forwards to it as to the real servers") {
                    service.sorryServerForwarding = f
                    positions["sorry_server.forwarding"] = s.position
                }
            case "sh-port", "mh-port":
                service.schedulerFlags.append(.port)
                positions["scheduler_flags"] = s.position
            case "sh-fallback", "mh-fallback":
                service.schedulerFlags.append(.fallback)
                positions["scheduler_flags"] = s.position
            case "delay_loop", "connect_timeout", "retry", "delay_before_retry":
                timing(s, into: &defaults)
            case "inhibit_on_failure":
                serviceInhibit(s)
                inhibit = s.position
            case "virtualhost":
                virtualhost = argument(s, 0, "a host name")
            case "real_server":
                if let rs = realServer(s, servicePort: port) { realServers.append(rs) }
            default:
                ignored(s)
            }
        }

        if let scheduler {
            positions["scheduler"] = scheduler.position
            if let known = Scheduler(rawValue: scheduler.value) {
                service.scheduler = known
            } else {
                sink.error(scheduler.position, "scheduler \(scheduler.value) is not supported by lb; use one of \(Scheduler.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        } else {
            if !written.contains("scheduler") {
                sink.warning(v.position, "no lb_algo: keepalived uses \(KeepalivedDefaults.scheduler); imported as that")
            }
            service.scheduler = .wlc
            positions["scheduler"] = v.position
        }
        if !service.schedulerFlags.isEmpty && !service.scheduler.acceptsFlags {
            sink.warning(positions["scheduler_flags"]!, "ignored: sh/mh flags on scheduler \(service.scheduler.rawValue) (they only affect sh and mh)")
            service.schedulerFlags = []
        }
        service.schedulerFlags = Array(Set(service.schedulerFlags)).sorted { $0.rawValue < $1.rawValue }
        if let forwarding {
            service.forwarding = forwarding.value
            positions["forwarding"] = forwarding.position
        } else {
            if !written.contains("forwarding") {
                sink.warning(v.position, "no lb_kind: keepalived forwards by NAT then; imported as forwarding: nat")
            }
            service.forwarding = KeepalivedDefaults.forwarding
            positions["forwarding"] = v.position
        }
        if let proto {
            service.protocol = proto.value
            positions["protocol"] = proto.position
        } else if !written.contains("protocol") {
            sink.warning(v.position, "no protocol: keepalived 2.2.7 then creates a UDP service; imported as protocol: udp (write protocol TCP if you meant TCP)")
            service.protocol = KeepalivedDefaults.protocol
            positions["protocol"] = v.position
        }
        if let persistence {
            service.persistence = Persistence(timeoutSeconds: persistence.value, netmask: granularity?.value ?? .v4(.max))
            positions["persistence"] = persistence.position
            positions["persistence.netmask"] = granularity?.position ?? persistence.position
        } else if let granularity {
            // pgr_handler gives a service without persistence_timeout IPVS's default timeout.
            sink.warning(granularity.position, "persistence_granularity without persistence_timeout: keepalived makes the service persistent for \(KeepalivedDefaults.persistenceSeconds) s then; imported as persistence.timeout \(KeepalivedDefaults.persistenceSeconds)")
            service.persistence = Persistence(timeoutSeconds: KeepalivedDefaults.persistenceSeconds, netmask: granularity.value)
            positions["persistence"] = granularity.position
            positions["persistence.netmask"] = granularity.position
        }
        // Real servers: duplicates dropped as keepalived does, DR/TUN ports reset to the service port.
        var seen: [Endpoint: SourcePosition] = [:]
        var kept: [RealServerBlock] = []
        for var rs in realServers {
            let forwarding = rs.forwarding ?? service.forwarding
            if forwarding != .nat && rs.port != port {
                sink.warning(rs.position, "real server \(rs.address) port \(rs.port) differs from the service port \(port): \(forwarding == .dr ? "direct routing" : "tunnelling") cannot change ports, and keepalived resets it to \(port); imported as \(port) (a server listening only on \(rs.port) receives nothing)")
                rs.port = port
            }
            let e = Endpoint(address: rs.address, port: rs.port)
            if let first = seen[e] {
                sink.warning(rs.position, "real server \(e) is listed twice (first at \(first)); keepalived drops the second: imported once")
                continue
            }
            seen[e] = rs.position
            kept.append(rs)
        }
        if let inhibit {
            service.inhibitOnFailure = true
            positions["inhibit_on_failure"] = inhibit
        }
        // keepalived gives a real server without its own inhibit_on_failure the virtual_server's (wherever in
        // the block that is written); one that repeats the service's says nothing the spec needs.
        service.realServers = kept.map { rs in
            RealServer(address: rs.address, port: rs.port == port ? nil : rs.port, weight: rs.weight,
                       inhibitOnFailure: rs.inhibit == service.inhibitOnFailure ? nil : rs.inhibit,
                       forwarding: rs.forwarding == service.forwarding ? nil : rs.forwarding)
        }
        if service.sorryServerForwarding == service.forwarding { service.sorryServerForwarding = nil }
        // A sorry server that is also a real server is that one IPVS destination: keepalived gives it the real
        // server's inhibit_on_failure (check_data.c, "matches sorry server, but inhibit setting differs").
        if let sorry = service.sorryServer, let twin = service.realServers.first(where: { Endpoint(address: $0.address!, port: $0.port ?? port) == sorry }) {
            let inhibits = service.inhibitsOnFailure(twin)
            if let sorryInhibit, !inhibits {
                sink.warning(sorryInhibit, "the sorry server \(sorry) is also a real server without inhibit_on_failure: keepalived then clears sorry_server_inhibit; imported as that (the server is removed when not needed)")
            }
        } else if let sorryInhibit {
            service.sorryServerInhibit = true
            positions["sorry_server.inhibit"] = sorryInhibit
        }
        if let quorum {
            service.quorum = quorumInServers(quorum, realServers: kept)
            positions["quorum"] = quorum.position
        }
        if let hysteresis, hysteresis.value > 0 {
            service.hysteresis = hysteresisInServers(hysteresis, quorum: quorum?.value ?? 1, realServers: kept)
            positions["hysteresis"] = hysteresis.position
        }
        if service.ops && service.protocol != .udp {
            sink.warning(positions["ops"]!, "ignored: ops on a \(service.protocol.rawValue.uppercased()) service (one-packet scheduling applies to UDP only)")
            service.ops = false
        }
        positions["real_servers"] = v.position
        if kept.isEmpty {
            sink.warning(v.position, "virtual_server \(Endpoint(address: address, port: port)) has no real servers: keepalived ignores it; imported with none (IPVS drops its connections)")
        }
        resolveAlpha(kept, into: &service, positions: &positions)
        if let check = healthCheck(kept, service: service, defaults: defaults, virtualhost: virtualhost, at: v.position) {
            service.healthCheck = check.value
            positions["health_check"] = check.position
        }

        return ImportedService(position: v.position, address: address, service: service, settingPositions: positions,
                               realServerPositions: kept.map(\.position))
    }

    mutating func add(_ imported: ImportedService) {
        if let twin = file.services.first(where: { $0.key == imported.key }) {
            sink.error(imported.position, "virtual_server \(imported.key) is defined twice in this file (first at \(twin.position))")
            return
        }
        file.services.append(imported)
    }

    /// virtual_server `inhibit_on_failure`: keepalived's handler reads no value and always turns it on, so
    /// `inhibit_on_failure false` there means on; that is imported as keepalived runs it, with a warning.
    mutating func serviceInhibit(_ s: KeepalivedStatement) {
        guard let word = s.arguments.first else { return }
        switch Self.keepalivedBoolean(word.lowercased()) {
        case false?:
            sink.warning(s.position, "virtual_server inhibit_on_failure takes no value: keepalived turns it on even when written '\(word)'; imported as inhibit_on_failure: true (remove the line to leave it off)")
            extra(s, after: 1)
        case true? where Self.keepalivedBoolean(word) == true:
            extra(s, after: 1)
        default:
            extra(s, after: 0)
        }
    }

    /// `alpha [BOOL]` in a real_server or checker: no value means true; keepalived refuses other words and
    /// the line then sets nothing.
    mutating func alphaValue(_ s: KeepalivedStatement) -> Bool? {
        optionalBoolean(s, otherwise: "ignores the line and takes the enclosing block's alpha")
    }

    /// keepalived resolves alpha per checker (check_data.c): the checker's own, else its real server's,
    /// else the virtual_server's. lb's is the service's: one value when every checked server agrees; when
    /// they differ, the first checked server's, with a warning naming the one that differs.
    mutating func resolveAlpha(_ servers: [RealServerBlock], into service: inout VirtualService, positions: inout [String: SourcePosition]) {
        let fallback = service.alpha
        var first: (value: Bool, at: SourcePosition)?
        for rs in servers {
            guard let check = rs.check else { continue }
            let own = check.alpha ?? rs.alpha
            let value = own?.value ?? fallback
            let at = own?.position ?? positions["alpha"] ?? rs.position
            guard let (expected, there) = first else {
                first = (value, at)
                continue
            }
            if value != expected {
                sink.warning(at, "alpha is \(value ? "on" : "off") for real server \(rs.address) but \(expected ? "on" : "off") at \(there): keepalived starts each checker its own way, lb's alpha is the service's; imported as \(expected ? "on" : "off") for every server")
            }
        }
        guard let first else { return }
        service.alpha = first.value
        if first.value { positions["alpha"] = first.at }
    }

    /// real_server `inhibit_on_failure [true|false]`: no value means true; keepalived refuses other words
    /// (case matters) and keeps the virtual_server's setting.
    mutating func realServerInhibit(_ s: KeepalivedStatement) -> Bool? {
        optionalBoolean(s, otherwise: "ignores the line and keeps the virtual_server's setting")
    }

    /// `KEYWORD [BOOL]`: no value means true; a word check_true_false refuses is reported with what
    /// keepalived does `otherwise`, and sets nothing.
    mutating func optionalBoolean(_ s: KeepalivedStatement, otherwise: String) -> Bool? {
        guard let word = s.arguments.first else { return true }
        guard let v = Self.keepalivedBoolean(word) else {
            rejected(s.position, "\(s.keyword) '\(word)' is not true/false, on/off or yes/no in lower case", otherwise: otherwise)
            return nil
        }
        extra(s, after: 1)
        return v
    }

    /// keepalived's check_true_false (lib/parser.c): exactly these lower-case words.
    static func keepalivedBoolean(_ word: String) -> Bool? {
        switch word {
        case "true", "on", "yes": return true
        case "false", "off", "no": return false
        default: return nil
        }
    }

    /// keepalived's hysteresis is a weight too: with unit weights it is a number of servers as it stands;
    /// otherwise the servers between the quorum and the quorum plus the band, counted as `quorumInServers`.
    /// keepalived's check_data.c lowers a hysteresis at or above the quorum (after the quorum is lowered to
    /// the total weight) to the quorum − 1.
    mutating func hysteresisInServers(_ hysteresis: Located<Int>, quorum written: Int, realServers: [RealServerBlock]) -> Int {
        let weights = realServers.map(\.weight).sorted()
        let total = weights.reduce(0, +)
        let quorum = weights.isEmpty ? written : min(written, total)
        var hysteresis = hysteresis
        if hysteresis.value >= quorum {
            sink.warning(hysteresis.position, "hysteresis \(hysteresis.value) is not below the quorum \(quorum): keepalived lowers it to \(quorum - 1); imported as that")
            hysteresis.value = quorum - 1
        }
        guard !weights.allSatisfy({ $0 == 1 }), hysteresis.value > 0 else { return hysteresis.value }
        func servers(_ weight: Int) -> Int {
            var total = 0
            for (i, w) in weights.enumerated() {
                total += w
                if total >= weight { return i + 1 }
            }
            return weights.count + 1
        }
        let band = max(servers(quorum + hysteresis.value) - servers(quorum), 0)
        sink.warning(hysteresis.position, "keepalived's hysteresis is a total weight (\(hysteresis.value)), lb's a number of healthy real servers: imported as \(band)")
        return band
    }

    /// keepalived's quorum is a total weight, lb's a number of servers: the fewest servers (lightest
    /// first) whose weights reach it, so any that many healthy servers satisfy it.
    mutating func quorumInServers(_ quorum: Located<Int>, realServers: [RealServerBlock]) -> Int {
        let weights = realServers.map(\.weight).sorted()
        guard !weights.isEmpty else { return quorum.value }
        if weights.allSatisfy({ $0 == 1 }) && quorum.value <= weights.count { return quorum.value }
        var total = 0
        for (i, w) in weights.enumerated() {
            total += w
            if total >= quorum.value {
                sink.warning(quorum.position, "keepalived's quorum is a total weight (\(quorum.value)), lb's a number of healthy real servers: imported as \(i + 1), since any \(i + 1) healthy servers reach that weight")
                return i + 1
            }
        }
        sink.warning(quorum.position, "quorum \(quorum.value) exceeds the total weight \(total) of the real servers; keepalived lowers it to \(total): imported as all \(weights.count) servers")
        return weights.count
    }

    /// `current`: the method an earlier line set, which a rejected one leaves in place.
    /// `unset`: what keepalived does with a rejected word when nothing was written before.
    mutating func forwardingMethod(_ s: KeepalivedStatement, current: Forwarding?, unset: String = "forwards by NAT, its default") -> Forwarding? {
        guard let v = argument(s, 0, "DR, NAT or TUN") else { return nil }
        let f: Forwarding
        switch v {
        case "DR": f = .dr
        case "NAT": f = .nat
        case "TUN": f = .tun
        default:
            let hint = ["DR", "NAT", "TUN"].first { $0 == v.uppercased() }.map { " (write \($0) in capitals)" } ?? ""
            let kept = current.map { "keeps \($0.rawValue.uppercased())" } ?? unset
            rejected(s.position, "unknown \(s.keyword) '\(v)'\(hint); keepalived knows DR, NAT and TUN", otherwise: "ignores the line and \(kept)")
            return nil
        }
        if s.words.count > 2 {
            sink.warning(s.position, "ignored: \(s.arguments.dropFirst().joined(separator: " ")) (lb tunnels with ipip, the kernel's default)")
        }
        return f
    }

    /// A persistence_granularity: a netmask, or a prefix length written where a netmask belongs. For an
    /// IPv4 service, keepalived ignores a word that is no IPv4 address (pgr_handler), which leaves IPVS's
    /// per-client netmask: nil then, with a warning.
    mutating func netmask(_ text: String, at position: SourcePosition, family: IPAddress.Family) -> Located<IPAddress>? {
        let perClient = "ignores the line, so persistence, if any, is per client (netmask 255.255.255.255)"
        if let a = IPAddress(text) {
            if a.family == .ipv4 && a.contiguousPrefixLength == nil {
                sink.error(position, "persistence_granularity \(text) is not a contiguous netmask such as 255.255.255.255 (per client) or 255.255.255.0 (per /24)")
                return nil
            }
            if a.family == .ipv6 {
                rejected(position, "persistence_granularity \(text) is no IPv4 netmask", otherwise: family == .ipv4 ? perClient : nil)
                return nil
            }
            return Located(a, at: position)
        }
        var digits = Substring(text)
        if digits.hasPrefix("/") { digits = digits.dropFirst() }
        if let p = Self.parseUnsigned(String(digits)), (1...32).contains(p) {
            let mask = IPAddress.netmask(prefixLength: p)
            sink.warning(position, "persistence_granularity is a netmask, not a prefix length: imported \(text) as \(mask)")
            return Located(mask, at: position)
        }
        rejected(position, "persistence_granularity '\(text)' is not a netmask such as 255.255.255.255 (per client)", otherwise: family == .ipv4 ? perClient : nil)
        return nil
    }

    /// `IP [PORT]`; `address` and `skipped` name the thing in the message about a bad address.
    /// keepalived skips a server whose address or port it cannot read, with its block (alloc_rs, alloc_ssvr).
    mutating func endpoint(_ s: KeepalivedStatement, defaultPort: Int, what: String,
                           address: String? = nil, skipped: String = "it") -> Endpoint? {
        guard let text = argument(s, 0, "an address") else { return nil }
        guard let a = IPAddress(text) else {
            rejected(s.position, "\(address ?? what) '\(text)' is not an IP address", otherwise: "skips \(skipped)", imported: "imported without it")
            return nil
        }
        var port = defaultPort
        if s.words.count > 2 {
            guard let p = unsigned(s, 1, range: 1...65535, what: "\(what) port", otherwise: "skips \(skipped)") else { return nil }
            port = p
        }
        extra(s, after: 2)
        return Endpoint(address: a, port: port)
    }

    // MARK: real servers and health checks

    /// The delay_loop, connect_timeout, retry and delay_before_retry a checker inherits or sets.
    struct CheckTiming: Equatable {
        var delayLoop: Int?
        var connectTimeout: Int?
        var retry: Int?
        var delayBeforeRetry: Int?

        func over(_ parent: CheckTiming) -> CheckTiming {
            CheckTiming(delayLoop: delayLoop ?? parent.delayLoop, connectTimeout: connectTimeout ?? parent.connectTimeout,
                        retry: retry ?? parent.retry, delayBeforeRetry: delayBeforeRetry ?? parent.delayBeforeRetry)
        }
    }

    struct RealServerBlock {
        var address: IPAddress
        var port: Int
        var weight: Int
        /// The real server's own inhibit_on_failure; nil takes the virtual_server's.
        var inhibit: Bool?
        /// The real server's own lvs_method; nil takes the virtual_server's.
        var forwarding: Forwarding?
        var position: SourcePosition
        var check: CheckBlock?
        /// The real server's own alpha (rs_alpha_handler); nil takes the virtual_server's.
        var alpha: Located<Bool>?
    }

    struct CheckBlock {
        enum Kind: String {
            case tcp = "TCP_CHECK", http = "HTTP_GET", ssl = "SSL_GET", misc = "MISC_CHECK"
            case udp = "UDP_CHECK", dns = "DNS_CHECK", smtp = "SMTP_CHECK", ping = "PING_CHECK"
        }
        var kind: Kind
        var position: SourcePosition
        var timing: CheckTiming
        var connectPort: Int?
        /// Every url with a path, in order; each has its own virtualhost, which wins over the checker's,
        /// the real server's and the service's.
        var urls: [HTTPURLCheck] = []
        var virtualhost: String?
        var enableSNI = false
        var command: String?
        var miscTimeout: Int?
        var miscDynamic = false
        /// UDP_CHECK's payload and require_reply data, in keepalived's hex notation as written.
        var payload: String?
        var requireReply = false
        var reply: String?
        var minReplyLength: Int?
        var maxReplyLength: Int?
        /// DNS_CHECK's type and name, as written.
        var dnsType: String?
        var dnsName: String?
        var heloName: String?
        /// The checker's own alpha (alpha_handler); nil takes the real server's.
        var alpha: Located<Bool>?
    }

    /// A timing line of a virtual_server, real_server or checker; keepalived ignores a rejected value and
    /// the checker takes the next level's, else the default (check_api.c, check_parser.c).
    mutating func timing(_ s: KeepalivedStatement, into t: inout CheckTiming) {
        let inherited = "ignores the line and uses the enclosing block's \(s.keyword == "nb_get_retry" ? "retry" : s.keyword), else its default"
        switch s.keyword {
        case "delay_loop":
            if let v = timer(s, minimum: 1, otherwise: inherited + " 60 s") { t.delayLoop = v }
        case "connect_timeout":
            if let v = timer(s, minimum: 1, otherwise: inherited + " 5 s") { t.connectTimeout = v }
        case "delay_before_retry":
            if let v = timer(s, minimum: 0, otherwise: inherited + " 1 s (HTTP_GET 3 s)") { t.delayBeforeRetry = v }
        default:  // retry, nb_get_retry
            if let v = unsigned(s, 0, range: 0...Int(UInt32.max), what: s.keyword, otherwise: inherited + " 1 (MISC_CHECK 0)") { t.retry = v }
        }
    }

    mutating func realServer(_ r: KeepalivedStatement, servicePort: Int) -> RealServerBlock? {
        guard let target = endpoint(r, defaultPort: servicePort, what: "real_server", address: "real_server address",
                                    skipped: "this server") else { return nil }
        var rs = RealServerBlock(address: target.address, port: target.port, weight: 1, position: r.position)
        var timing = CheckTiming()
        var virtualhost: String?
        var checks: [CheckBlock] = []
        for s in r.block ?? [] {
            let k = s.keyword
            guard KeepalivedKeywords.realServer.contains(k) else {
                unknown(s, in: "real_server", known: KeepalivedKeywords.realServer)
                continue
            }
            let isChecker = KeepalivedKeywords.checkers[k] != nil
            guard checkBlock(s, takesBlock: isChecker) else { continue }
            switch k {
            case "weight":
                if let v = unsigned(s, 0, range: 0...Int(Int32.max), what: "weight", otherwise: "ignores the line and keeps weight \(rs.weight)") { rs.weight = v }
            case "inhibit_on_failure":
                if let v = realServerInhibit(s) { rs.inhibit = v }
            case "lvs_method":
                if let f = forwardingMethod(s, current: rs.forwarding, unset: "forwards to it as the virtual_server says") { rs.forwarding = f }
            case "alpha":
                if let v = alphaValue(s) { rs.alpha = Located(v, at: s.position) }
            case "delay_loop", "connect_timeout", "retry", "delay_before_retry":
                self.timing(s, into: &timing)
            case "virtualhost":
                virtualhost = argument(s, 0, "a host name")
            case "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "UDP_CHECK", "DNS_CHECK", "SMTP_CHECK", "PING_CHECK":
                if let c = checker(s) { checks.append(c) }
            default:
                if isChecker {
                    for child in s.block ?? [] where !(KeepalivedKeywords.checkers[k] ?? []).contains(child.keyword) {
                        unknown(child, in: k, known: KeepalivedKeywords.checkers[k] ?? [])
                    }
                    ignored(s, "lb checks with TCP connect, HTTP(S) GET, WebSocket upgrade, a command, UDP, DNS, SMTP or ping")
                } else {
                    ignored(s)
                }
            }
        }
        if var first = checks.first {
            for other in checks.dropFirst() {
                sink.warning(other.position, "ignored: a second health check (\(other.kind.rawValue)) on this real server; lb runs one per service, the \(first.kind.rawValue) at line \(first.position.line)")
            }
            first.timing = first.timing.over(timing)
            if first.virtualhost == nil { first.virtualhost = virtualhost }
            rs.check = first
        }
        return rs
    }

    mutating func checker(_ c: KeepalivedStatement) -> CheckBlock? {
        let kind = CheckBlock.Kind(rawValue: c.keyword)!
        let known = KeepalivedKeywords.checkers[c.keyword] ?? []
        var check = CheckBlock(kind: kind, position: c.position, timing: CheckTiming())
        var urls = 0
        for s in c.block ?? [] {
            let k = s.keyword
            guard known.contains(k) else {
                if k == "nb_get_retry" && s.block == nil {
                    // 2.2.7 knows nb_get_retry in HTTP_GET and SSL_GET only; elsewhere it is unknown.
                    sink.warning(s.position, "unknown keyword 'nb_get_retry' in \(c.keyword): keepalived 2.2.7 reads it in HTTP_GET and SSL_GET only (it was renamed retry), so it ignores the line when it runs (keepalived -t reports it), and the checker keeps the enclosing block's retry, else its default \(kind == .misc ? KeepalivedDefaults.miscRetry : KeepalivedDefaults.retry); imported as that (write retry \(s.arguments.first ?? "N") to retry that often)")
                } else {
                    unknown(s, in: c.keyword, known: known)
                }
                continue
            }
            guard checkBlock(s, takesBlock: k == "url" || (k == "host" && kind == .smtp)) else { continue }
            if protocolCheckerKeyword(s, of: c.keyword, into: &check) { continue }
            switch k {
            case "connect_port":
                check.connectPort = unsigned(s, 0, range: 1...65535, what: "connect_port", otherwise: "ignores the line and checks the real server's own port") ?? check.connectPort
            case "nb_get_retry":
                sink.warning(s.position, "nb_get_retry is deprecated (keepalived -t says so; it was renamed retry), but \(c.keyword) still reads it as retry: imported as retry")
                timing(s, into: &check.timing)
            case "delay_loop", "connect_timeout", "retry", "delay_before_retry":
                timing(s, into: &check.timing)
            case "url":
                urls += 1
                if let u = url(s) { check.urls.append(u) }
            case "virtualhost":
                check.virtualhost = argument(s, 0, "a host name")
            case "enable_sni" where kind == .http:
                ignored(s, "HTTP_GET has no TLS, so no server name to send (SSL_GET does)")
            case "enable_sni":
                // enable_sni_handler: no value is true; a value check_true_false rejects leaves it as it was.
                if let word = s.arguments.first {
                    if let v = Self.keepalivedBoolean(word) {
                        check.enableSNI = v
                    } else {
                        rejected(s.position, "invalid enable_sni value '\(word)'", otherwise: "ignores the line", imported: "imported without SNI")
                    }
                } else {
                    check.enableSNI = true
                }
            case "alpha":
                if let v = alphaValue(s) { check.alpha = Located(v, at: s.position) }
            case "misc_dynamic":
                check.miscDynamic = true
            case "misc_path":
                check.command = argument(s, 0, "the command to run")
            case "misc_timeout":
                if let v = unsigned(s, 0, range: 1...Int(UInt32.max), what: "misc_timeout",
                                    otherwise: "ignores the line and gives the command the checker's delay_loop to finish") { check.miscTimeout = v * 1000 }
            default:
                ignored(s)
            }
        }
        switch kind {
        case .http where urls == 0, .ssl where urls == 0:
            sink.warning(c.position, "\(c.keyword) has no url { path … }: keepalived -t reports it, and keepalived, when it runs, ignores the checker; imported without it")
            return nil
        case .http where check.urls.isEmpty, .ssl where check.urls.isEmpty:
            return nil
        case .misc where check.command == nil:
            sink.warning(c.position, "MISC_CHECK has no misc_path: keepalived -t reports it, and keepalived, when it runs, skips the checker; imported without it")
            return nil
        default:
            return check
        }
    }

    /// A keyword of UDP_CHECK, DNS_CHECK or SMTP_CHECK, read as their handlers read it (check_udp.c,
    /// check_dns.c, check_smtp.c): a value keepalived rejects leaves what was there, with a warning. false for
    /// any other keyword.
    mutating func protocolCheckerKeyword(_ s: KeepalivedStatement, of checker: String, into check: inout CheckBlock) -> Bool {
        switch s.keyword {
        case "payload":
            // make_strvec_str: the words joined by one space, then read as hex.
            guard argument(s, 0, "the payload in hex") != nil else { return true }
            let hex = s.arguments.joined(separator: " ")
            if HexPattern(hex, wildcards: false) == nil {
                rejected(s.position, "Invalid hex string for UDP_CHECK payload '\(hex)'", otherwise: "sends its default payload", imported: "imported without it")
            } else {
                check.payload = hex
            }
        case "require_reply":
            check.requireReply = true
            guard !s.arguments.isEmpty else { return true }
            let hex = s.arguments.joined(separator: " ")
            if HexPattern(hex, wildcards: true) == nil {
                rejected(s.position, "Invalid hex string for UDP_CHECK reply '\(hex)'", otherwise: "requires a reply and accepts any",
                         imported: "imported as require_reply without reply data")
            } else {
                check.reply = hex
            }
        case "min_reply_length", "max_reply_length":
            let current = s.keyword == "min_reply_length" ? check.minReplyLength : check.maxReplyLength
            let v = unsigned(s, 0, range: 0...65535, what: "UDP_CHECK \(s.keyword)", otherwise: "ignores the line") ?? current
            if s.keyword == "min_reply_length" { check.minReplyLength = v } else { check.maxReplyLength = v }
        case "type" where checker == "DNS_CHECK":
            guard let word = argument(s, 0, "a DNS type") else { return true }
            if DNSQueryType(name: word) == nil {
                let known = DNSQueryType.allCases.map(\.rawValue).joined(separator: " ")
                rejected(s.position, "Unknown DNS check type \(word) (keepalived knows \(known))", otherwise: "ignores the line",
                         imported: "imported as \(check.dnsType ?? "SOA")")
            } else {
                check.dnsType = word
            }
        case "name" where checker == "DNS_CHECK":
            guard let word = argument(s, 0, "the name to query") else { return true }
            if check.dnsName != nil {
                rejected(s.position, "DNS_CHECK name already specified", otherwise: "keeps the first", imported: "imported with the first")
            } else if let problem = HealthCheck.dnsNameProblem(word) {
                rejected(s.position, "DNS_CHECK name '\(word)' \(problem)", otherwise: "ignores the line and asks about the root",
                         imported: "imported without it")
            } else {
                check.dnsName = word
            }
        case "helo_name":
            // smtp_helo_name_handler reports a missing name and goes on, unlike the handlers argument() is for.
            if let name = s.arguments.first {
                check.heloName = name
            } else {
                rejected(s.position, "SMTP_CHECK helo name missing", otherwise: "ignores the line",
                         imported: "imported with \(check.heloName ?? "the default, \(HealthCheck.defaultHeloName)")")
            }
        case "host" where checker == "SMTP_CHECK":
            ignored(s, "deprecated in keepalived; lb checks the real server itself, at connect_port")
        default:
            return false
        }
        return true
    }

    /// One url block; nil when it has no path, which keepalived drops (url_check).
    mutating func url(_ u: KeepalivedStatement) -> HTTPURLCheck? {
        var path: String?
        var status: [ClosedRange<Int>] = []
        var digest: String?
        var host: String?
        for s in u.block ?? [] {
            guard KeepalivedKeywords.url.contains(s.keyword) else {
                unknown(s, in: "url", known: KeepalivedKeywords.url)
                continue
            }
            guard checkBlock(s, takesBlock: false) else { continue }
            switch s.keyword {
            case "path":
                path = argument(s, 0, "the path to GET")
            case "status_code":
                status += statusCode(s)
            case "digest":
                digest = self.digest(s, current: digest)
            case "virtualhost":
                host = argument(s, 0, "a host name")
            default:
                ignored(s, "lb has no equivalent")
            }
        }
        guard let path else {
            sink.warning(u.position, "url has no path: keepalived -t reports it, and keepalived, when it runs, ignores the url (and a checker left without one); imported without it")
            return nil
        }
        // url_check: a url without a valid status_code accepts any 2xx.
        return HTTPURLCheck(path: path, status: status.isEmpty ? HTTPURLCheck.defaultStatus : status, digest: digest, host: host)
    }

    /// `status_code 200`, or codes and ranges (`200-299 404`). keepalived skips a word it cannot read
    /// (status_code_handler), and a url left without codes accepts any 2xx.
    mutating func statusCode(_ s: KeepalivedStatement) -> [ClosedRange<Int>] {
        guard argument(s, 0, "a status code") != nil else { return [] }
        var valid: [ClosedRange<Int>] = []
        for word in s.arguments {
            guard let range = HTTPURLCheck.statusRange(Substring(word)), (100...599).contains(range.lowerBound),
                  (100...599).contains(range.upperBound) else {
                rejected(s.position, "invalid status_code '\(word)'; HTTP status codes are 100–599", otherwise: "skips it", imported: "imported without it")
                continue
            }
            valid.append(range)
        }
        return valid
    }

    /// `digest HEX`: the body's MD5, 32 hex digits (digest_handler); keepalived ignores a second one and one
    /// it cannot read, and then compares no digest.
    mutating func digest(_ s: KeepalivedStatement, current: String?) -> String? {
        guard let word = argument(s, 0, "the MD5 digest of the body") else { return current }
        if current != nil {
            rejected(s.position, "digest '\(word)' is a duplicate", otherwise: "keeps the first", imported: "imported with the first")
            return current
        }
        guard word.utf8.count == 32, word.utf8.allSatisfy({ $0 < 0x80 && Character(Unicode.Scalar($0)).isHexDigit }) else {
            rejected(s.position, "digest '\(word)' is not 32 hexadecimal digits", otherwise: "ignores it and compares no digest", imported: "imported without it")
            return nil
        }
        return word.lowercased()
    }

    /// The service's health check: every real server's checker must say the same in lb's terms.
    mutating func healthCheck(_ servers: [RealServerBlock], service: VirtualService, defaults: CheckTiming, virtualhost: String?,
                              at position: SourcePosition) -> Located<HealthCheck>? {
        var derived: [(check: HealthCheck?, position: SourcePosition)] = []
        for rs in servers {
            guard let c = rs.check else {
                derived.append((nil, rs.position))
                continue
            }
            derived.append((healthCheck(c, server: rs, defaults: defaults, virtualhost: virtualhost, service: service), c.position))
        }
        // connect_port equal to each server's own port says the same as no port: lb's default.
        let distinct = derived.compactMap(\.check).reduce(into: [HealthCheck]()) { if !$0.contains($1) { $0.append($1) } }
        if distinct.count > 1 {
            for i in derived.indices where derived[i].check?.port == servers[i].port {
                derived[i].check?.port = nil
            }
        }
        guard let reference = derived.first(where: { $0.check != nil }) else { return nil }
        for other in derived where other.check != reference.check {
            let describe: (HealthCheck?) -> String = { $0.map { "\($0.kind.rawValue) check" } ?? "no health check" }
            let detail = other.check == nil || reference.check == nil || other.check!.kind != reference.check!.kind
                ? "\(describe(other.check)) here, \(describe(reference.check)) at \(reference.position)"
                : "settings differ from the check at \(reference.position) (\(Self.difference(reference.check!, other.check!)))"
            sink.error(other.position, "real servers of one service need the same health check in lb: \(detail)")
            return nil
        }
        return Located(reference.check!, at: reference.position)
    }

    mutating func healthCheck(_ c: CheckBlock, server rs: RealServerBlock, defaults: CheckTiming, virtualhost: String?,
                              service: VirtualService) -> HealthCheck? {
        let t = c.timing.over(defaults)
        var hc: HealthCheck
        switch c.kind {
        case .tcp:
            hc = HealthCheck(kind: .tcp)
        case .http, .ssl:
            hc = HealthCheck(kind: c.kind == .ssl ? .https : .http, host: c.virtualhost ?? virtualhost)
            var urls = c.urls
            // A lone url's virtualhost is the check's: it wins over the others anyway.
            if urls.count == 1, let host = urls[0].host {
                hc.host = host
                urls[0].host = nil
            }
            // One url of one status is the spec's short form, path and expect_status.
            if urls.count == 1, let u = urls.first, u.status.count == 1, u.status[0].count == 1, u.digest == nil {
                hc.path = u.path
                hc.expectStatus = u.status[0].lowerBound
            } else {
                hc.urls = urls
            }
            hc.sni = c.enableSNI
        case .misc:
            var words = (c.command ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            // lb appends the server's address and port itself; a command that ends with them says the same.
            if words.count >= 3, words[words.count - 2] == rs.address.description, words.last == String(rs.port) {
                words.removeLast(2)
            } else if words.count >= 2, words.last == rs.address.description {
                words.removeLast()
            }
            hc = HealthCheck(kind: .exec, command: words.joined(separator: " "), dynamicWeight: c.miscDynamic)
            if words.isEmpty { return nil }
        case .udp:
            hc = HealthCheck(kind: .udp, payload: c.payload, requireReply: c.requireReply, reply: c.reply)
            if c.reply != nil {
                hc.minReplyLength = c.minReplyLength
                hc.maxReplyLength = c.maxReplyLength
            } else if c.minReplyLength != nil || c.maxReplyLength != nil {
                // check_udp.c compares lengths only with reply data.
                sink.warning(c.position, "ignored: min_reply_length and max_reply_length without reply data after require_reply (keepalived checks lengths only against reply data)")
            }
        case .dns:
            hc = HealthCheck(kind: .dns, queryType: c.dnsType, queryName: c.dnsName)
        case .smtp:
            hc = HealthCheck(kind: .smtp, heloName: c.heloName)
        case .ping:
            hc = HealthCheck(kind: .ping)
        }
        hc.port = c.connectPort
        hc.intervalMilliseconds = t.delayLoop ?? KeepalivedDefaults.delayLoopMilliseconds
        let retry = t.retry ?? (c.kind == .misc ? KeepalivedDefaults.miscRetry : c.kind == .dns ? KeepalivedDefaults.dnsRetry : KeepalivedDefaults.retry)
        hc.retries = retry + 1
        hc.retryDelayMilliseconds = t.delayBeforeRetry
            ?? (c.kind == .http ? KeepalivedDefaults.httpDelayBeforeRetryMilliseconds
                : c.kind == .dns ? hc.intervalMilliseconds : KeepalivedDefaults.delayBeforeRetryMilliseconds)
        if c.kind == .ping && c.connectPort != nil {
            sink.warning(c.position, "ignored: connect_port in PING_CHECK (an ICMP echo has no port)")
            hc.port = nil
        }
        if c.kind == .misc {
            hc.connectTimeoutMilliseconds = c.miscTimeout ?? hc.intervalMilliseconds
        } else {
            hc.connectTimeoutMilliseconds = t.connectTimeout ?? KeepalivedDefaults.connectTimeoutMilliseconds
        }
        return hc
    }

    static func difference(_ a: HealthCheck, _ b: HealthCheck) -> String {
        var out: [String] = []
        if a.port != b.port { out.append("port \(a.port.map(String.init) ?? "the server's") vs \(b.port.map(String.init) ?? "the server's")") }
        if a.path != b.path { out.append("path \(a.path) vs \(b.path)") }
        if a.expectStatus != b.expectStatus { out.append("status_code \(a.expectStatus) vs \(b.expectStatus)") }
        if a.host != b.host { out.append("virtualhost \(a.host ?? "none") vs \(b.host ?? "none")") }
        if a.urls != b.urls { out.append("urls \(a.fetches.map(\.path)) vs \(b.fetches.map(\.path))") }
        if a.sni != b.sni { out.append("enable_sni \(a.sni) vs \(b.sni)") }
        if a.dynamicWeight != b.dynamicWeight { out.append("misc_dynamic \(a.dynamicWeight) vs \(b.dynamicWeight)") }
        if a.payload != b.payload { out.append("payload \(a.payload ?? "none") vs \(b.payload ?? "none")") }
        if a.requireReply != b.requireReply || a.reply != b.reply { out.append("require_reply \(a.reply ?? "\(a.requireReply)") vs \(b.reply ?? "\(b.requireReply)")") }
        if a.minReplyLength != b.minReplyLength || a.maxReplyLength != b.maxReplyLength { out.append("reply lengths differ") }
        if a.queryType != b.queryType || a.queryName != b.queryName { out.append("DNS query \(a.dnsQueryType) \(a.queryName ?? ".") vs \(b.dnsQueryType) \(b.queryName ?? ".")") }
        if a.heloName != b.heloName { out.append("helo_name \(a.heloName ?? "default") vs \(b.heloName ?? "default")") }
        if a.command != b.command { out.append("misc_path \(a.command ?? "") vs \(b.command ?? "")") }
        if a.intervalMilliseconds != b.intervalMilliseconds { out.append("delay_loop \(seconds(a.intervalMilliseconds)) vs \(seconds(b.intervalMilliseconds))") }
        if a.connectTimeoutMilliseconds != b.connectTimeoutMilliseconds { out.append("connect_timeout \(seconds(a.connectTimeoutMilliseconds)) vs \(seconds(b.connectTimeoutMilliseconds))") }
        if a.retries != b.retries { out.append("retry \(a.retries - 1) vs \(b.retries - 1)") }
        if a.retryDelayMilliseconds != b.retryDelayMilliseconds { out.append("delay_before_retry \(seconds(a.retryDelayMilliseconds)) vs \(seconds(b.retryDelayMilliseconds))") }
        return out.joined(separator: ", ")
    }

    static func seconds(_ ms: Int) -> String { ms % 1000 == 0 ? "\(ms / 1000)" : "\(Double(ms) / 1000)" }
}
