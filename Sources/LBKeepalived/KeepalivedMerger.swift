import LBSpec

/// How `lbctl import keepalived` names and places what the files do not say.
public struct KeepalivedImportOptions: Sendable {
    /// The spec's cluster name (keepalived.conf has none).
    public var cluster: String
    /// Node names by file path (`--name NODE=FILE`); a file not listed is named by its router_id.
    public var names: [String: String]
    /// Director addresses by node name (`--address NODE=IP[/PREFIX]`), for files without unicast_src_ip.
    public var addresses: [String: CIDR]

    public init(cluster: String = "imported", names: [String: String] = [:], addresses: [String: CIDR] = [:]) {
        self.cluster = cluster
        self.names = names
        self.addresses = addresses
    }
}

/// Merges several directors' keepalived.conf files into one cluster spec.
///
/// The same virtual_router_id in several files is one VRRP group, each file a director with its own
/// priority; the same virtual_server is one service; real servers become nodes rs1, rs2, … in order of
/// first appearance (or the director whose address they have). Files that disagree about a shared
/// thing are errors naming both places. The result is validated with `SpecValidator`, and its findings
/// are reported at the keepalived.conf line each spec value came from.
public enum KeepalivedMerger {
    public static func merge(_ files: [KeepalivedFile], options: KeepalivedImportOptions) -> (spec: ClusterSpec, locations: [SpecPath: SourcePosition], diagnostics: [KeepalivedDiagnostic]) {
        var m = Merge(files: files, options: options)
        m.run()
        return (m.spec, m.locations, m.sink.diagnostics)
    }
}

private struct Merge {
    let files: [KeepalivedFile]
    let options: KeepalivedImportOptions
    var sink = DiagnosticSink()
    var spec: ClusterSpec
    var locations: [SpecPath: SourcePosition] = [:]
    /// Node name of each file's director.
    var names: [String] = []
    /// Files whose director has no usable name yet (missing or duplicate): messages name the file instead.
    var unnamed: Set<Int> = []
    var directorNodes: [Int: Node] = [:]

    init(files: [KeepalivedFile], options: KeepalivedImportOptions) {
        self.files = files
        self.options = options
        spec = ClusterSpec(cluster: options.cluster)
    }

    func start(_ f: KeepalivedFile) -> SourcePosition { SourcePosition(file: f.path, line: 1) }

    mutating func run() {
        guard let first = files.first else { return }
        locations[.root] = start(first)
        nameDirectors()
        placeDirectors()
        let groups = vrrpGroups()
        vips(groups)
        services()
        realServerNodes()
        notifications()
        ipvs()
    }

    // MARK: directors

    mutating func nameDirectors() {
        var used: [String: Int] = [:]
        for (i, f) in files.enumerated() {
            var name: String
            if let given = f.name ?? options.names[f.path] {
                name = given
            } else if let id = f.routerID {
                name = id.value
            } else {
                sink.error(start(f), "global_defs has no router_id to name this director; name it with --name NODE=\(f.path)")
                name = "director\(i + 1)"
                unnamed.insert(i)
            }
            if let other = used[name] {
                sink.error(files[i].routerID?.position ?? start(f), "director name '\(name)' is also the name of \(files[other].path); give each file its own name with --name NODE=FILE")
                name = "\(name)-\(i + 1)"
                unnamed.insert(i)
            }
            used[name] = i
            names.append(name)
        }
    }

    /// Each director's own address: --address, unicast_src_ip/mcast_src_ip, else the one address the
    /// other directors list as a unicast peer that nobody else has.
    mutating func placeDirectors() {
        for name in options.addresses.keys.sorted() where !names.contains(name) {
            sink.error(start(files[0]), "--address \(name)=…: no director is named \(name) (the directors are \(names.joined(separator: ", ")))")
        }
        var addresses: [Int: Located<IPAddress>] = [:]
        var given: [Int: CIDR] = [:]
        for (i, f) in files.enumerated() where !f.instances.isEmpty {
            if let cidr = options.addresses[names[i]] {
                given[i] = cidr
                addresses[i] = Located(cidr.address, at: f.instances[0].position)
                continue
            }
            let sources = f.instances.compactMap(\.sourceAddress)
            if let a = sources.first {
                for b in sources.dropFirst() where b.value != a.value {
                    sink.error(b.position, "source address \(b.value) differs from \(a.value) at \(a.position); lb gives a director one address")
                }
                addresses[i] = a
            }
        }
        for (i, f) in files.enumerated() where !f.instances.isEmpty && addresses[i] == nil {
            let routerIDs = Set(f.instances.map(\.routerID))
            let ownPeers = Set(f.instances.flatMap { $0.unicastPeers.map(\.value) })
            let known = Set(addresses.values.map(\.value))
            var candidates: [IPAddress] = []
            for (j, other) in files.enumerated() where j != i {
                for inst in other.instances where routerIDs.contains(inst.routerID) {
                    for peer in inst.unicastPeers.map(\.value) where !known.contains(peer) && !ownPeers.contains(peer) && !candidates.contains(peer) {
                        candidates.append(peer)
                    }
                }
            }
            if candidates.count == 1 {
                addresses[i] = Located(candidates[0], at: f.instances[0].position)
                sink.warning(f.instances[0].position, "no unicast_src_ip: took \(candidates[0]) as director '\(names[i])''s address, the unicast peer the other directors list and nobody else has")
            } else if unnamed.contains(i) {
                sink.error(f.instances[0].position, "cannot tell this director's address: its keepalived.conf has no unicast_src_ip or mcast_src_ip; name it with --name NODE=\(f.path) and pass --address NODE=IP/PREFIX")
            } else {
                sink.error(f.instances[0].position, "cannot tell the address of director '\(names[i])': its keepalived.conf has no unicast_src_ip or mcast_src_ip; pass --address \(names[i])=IP/PREFIX")
            }
        }
        for (i, f) in files.enumerated() {
            guard let a = addresses[i] else { continue }
            let interface = f.instances.first?.interface?.value ?? Node.defaultInterface
            var cidr = given[i] ?? CIDR(address: a.value, prefixLength: a.value.bitWidth)
            if given[i] == nil || given[i]!.prefixLength == a.value.bitWidth,
               let vip = f.instances.flatMap(\.vips).first(where: { $0.value.prefixLength < $0.value.address.bitWidth && $0.value.contains(a.value) }) {
                cidr.prefixLength = vip.value.prefixLength
            }
            let node = Node(name: names[i], address: cidr, interface: interface)
            let p = SpecPath.root["nodes"][spec.nodes.count]
            locations[p] = f.instances[0].position
            locations[p["name"]] = f.routerID?.position ?? f.instances[0].position
            locations[p["address"]] = a.position
            locations[p["interface"]] = f.instances.first?.interface?.position ?? f.instances[0].position
            spec.nodes.append(node)
            directorNodes[i] = node
        }
        for (i, f) in files.enumerated() where f.declaredInstances == 0 {
            let who = unnamed.contains(i) ? "its director" : "'\(names[i])'"
            sink.warning(start(f), "\(f.path) has no vrrp_instance: \(who) directs no VIP in the spec, and its virtual servers run on the directors of their VIPs")
        }
    }

    // MARK: VRRP groups

    struct Member {
        var file: Int
        var instance: ImportedInstance
    }

    mutating func vrrpGroups() -> [[Member]] {
        var order: [Int] = []
        var groups: [Int: [Member]] = [:]
        for (i, f) in files.enumerated() where directorNodes[i] != nil {
            for inst in f.instances {
                if groups[inst.routerID] == nil { order.append(inst.routerID) }
                groups[inst.routerID, default: []].append(Member(file: i, instance: inst))
            }
        }
        var out: [[Member]] = []
        for id in order {
            let members = groups[id]!
            let ref = members[0].instance
            var consistent = true
            for other in members.dropFirst() {
                let o = other.instance
                let differences = Self.differences(ref.settings, o.settings)
                for key in differences {
                    sink.error(o.settingPositions[key] ?? o.position,
                               "vrrp_instance \(o.name) (virtual_router_id \(id)) has \(Self.describe(key, o.settings)) but \(ref.name) at \(ref.settingPositions[key] ?? ref.position) has \(Self.describe(key, ref.settings)); the directors of one VRRP group need the same setting")
                    consistent = false
                }
                let mine = Set(o.vips.map(\.value)), theirs = Set(ref.vips.map(\.value))
                if mine != theirs {
                    let onlyHere = o.vips.map(\.value).filter { !theirs.contains($0) }.map(\.description)
                    let onlyThere = ref.vips.map(\.value).filter { !mine.contains($0) }.map(\.description)
                    var detail: [String] = []
                    if !onlyHere.isEmpty { detail.append("\(onlyHere.joined(separator: ", ")) only here") }
                    if !onlyThere.isEmpty { detail.append("\(onlyThere.joined(separator: ", ")) only in \(ref.name) at \(ref.position)") }
                    sink.error(o.vips.first?.position ?? o.position,
                               "virtual_ipaddress of virtual_router_id \(id) differs between directors (\(detail.joined(separator: "; "))); a VRRP group moves the same VIPs on every director")
                    consistent = false
                }
            }
            // state is informational; say so when it contradicts the priorities.
            let backups = members.filter { $0.instance.state?.value == "BACKUP" }
            for master in members where master.instance.state?.value == "MASTER" {
                if let higher = backups.first(where: { $0.instance.priority.value > master.instance.priority.value }) {
                    sink.warning(master.instance.state!.position, "state MASTER with priority \(master.instance.priority.value), lower than BACKUP \(names[higher.file]) (priority \(higher.instance.priority.value) at \(higher.instance.priority.position)): the priority decides, so \(names[higher.file]) becomes master")
                }
            }
            // An inconsistent group is still imported (its errors stop the import), so later checks do not cascade.
            _ = consistent
            out.append(members)
        }
        return out
    }

    static let settingKeys = ["version", "advert_interval", "auth", "preempt", "preempt_delay", "unicast", "gratuitous_arp", "track_scripts", "track_interfaces", "notify", "sync_group", "email"]

    static func differences(_ a: VRRPGroup, _ b: VRRPGroup) -> [String] {
        settingKeys.filter { describe($0, a) != describe($0, b) }
    }

    /// A group setting as keepalived.conf writes it, for messages.
    static func describe(_ key: String, _ g: VRRPGroup) -> String {
        switch key {
        case "version": return "version \(g.version)"
        case "advert_interval": return "advert_int \((Double(g.advertIntervalCentiseconds) / 100).formatted)"
        case "auth": return g.authPassword.map { "auth_pass '\($0)'" } ?? "no authentication"
        case "preempt": return g.preempt ? "preemption" : "nopreempt"
        case "preempt_delay": return "preempt_delay \(g.preemptDelaySeconds)"
        case "unicast": return g.unicast ? "unicast peers" : "multicast adverts"
        case "track_interfaces":
            guard !g.trackInterfaces.isEmpty else { return "no track_interface" }
            return "track_interface " + g.trackInterfaces.map { "\($0.interface) weight \($0.weight)\($0.reverse ? " reverse" : "")" }.joined(separator: ", ")
        case "email": return g.email ? "smtp_alert on" : "smtp_alert off"
        case "sync_group": return g.syncGroup.map { "vrrp_sync_group \($0)" } ?? "no vrrp_sync_group"
        case "notify":
            guard !g.notify.isEmpty else { return "no notify_master, _backup, _fault or _stop" }
            return g.notify.named.map { "notify_\($0.state) '\($0.command)'" }.joined(separator: ", ")
        case "track_scripts":
            guard !g.trackScripts.isEmpty else { return "no track_script" }
            return "track_script " + g.trackScripts.map {
                "\($0.name) ('\($0.command)', interval \($0.intervalSeconds), timeout \($0.timeoutSeconds ?? $0.intervalSeconds), rise \($0.rise), fall \($0.fall), weight \($0.weight)\($0.reverse ? " reverse" : ""))"
            }.joined(separator: ", ")
        default:
            let a = g.gratuitousARP
            return "garp_master_repeat \(a.count), garp_master_delay \(a.repeatDelaySeconds), garp_master_refresh \(a.refreshSeconds)"
        }
    }

    // MARK: VIPs

    /// The interface a VIP goes on when some director puts it on another than its adverts' (`dev`); the
    /// spec has one for every director, so they must agree.
    mutating func vipInterface(_ vip: Located<CIDR>, _ members: [Member]) -> String? {
        let address = vip.value.address
        guard let dev = members.lazy.compactMap({ $0.instance.vipDevices[address] }).first else { return nil }
        for m in members {
            guard let other = m.instance.device(of: address), other != dev.value else { continue }
            let at = m.instance.vipDevices[address]?.position ?? m.instance.interface?.position ?? m.instance.position
            sink.error(at, "VIP \(address) is on \(other) here but on dev \(dev.value) at \(dev.position); lb puts a VIP on the same interface on every director of its group")
        }
        return dev.value
    }

    mutating func vips(_ groups: [[Member]]) {
        var owner: [IPAddress: (vip: Int, at: SourcePosition)] = [:]
        for members in groups {
            let ref = members[0].instance
            var group = ref.settings
            for member in members {
                guard let node = directorNodes[member.file] else { continue }
                let iface = member.instance.interface?.value
                group.directors.append(Director(node: node.name, priority: member.instance.priority.value,
                                                interface: iface == node.interface ? nil : iface))
            }
            checkPeers(members)
            for vip in ref.vips {
                if let first = owner[vip.value.address] {
                    sink.error(vip.position, "VIP \(vip.value.address) is also in another VRRP group at \(first.at); one VIP moves with one group")
                    continue
                }
                let index = spec.vips.count
                owner[vip.value.address] = (index, vip.position)
                let name = vip.value.address.description.replacingOccurrences(of: ":", with: "-")
                spec.vips.append(VIP(name: name, address: vip.value, interface: vipInterface(vip, members), vrrp: group))
                let p = SpecPath.root["vips"][index]
                locations[p] = vip.position
                locations[p["name"]] = vip.position
                locations[p["address"]] = vip.position
                locations[p["interface"]] = vip.position
                locations[p["vrrp"]] = ref.position
                for (key, position) in ref.settingPositions {
                    var path = p["vrrp"]
                    for part in key.split(separator: ".") { path = path[String(part)] }
                    locations[path] = position
                }
                for (d, member) in members.enumerated() {
                    let dp = p["vrrp"]["directors"][d]
                    locations[dp] = member.instance.position
                    locations[dp["node"]] = member.instance.position
                    locations[dp["priority"]] = member.instance.priority.position
                    locations[dp["interface"]] = member.instance.interface?.position ?? member.instance.position
                }
                locations[p["vrrp"]["directors"]] = members.last!.instance.position
            }
        }
    }

    /// lb sends unicast adverts to the other directors' addresses; say where the files listed others.
    mutating func checkPeers(_ members: [Member]) {
        guard members[0].instance.settings.unicast else { return }
        for member in members {
            let others = Set(members.filter { $0.file != member.file }.compactMap { directorNodes[$0.file]?.address.address })
            for peer in member.instance.unicastPeers where !others.contains(peer.value) {
                sink.warning(peer.position, "unicast_peer \(peer.value) is none of the imported directors of virtual_router_id \(member.instance.routerID) (import its keepalived.conf too); lb sends adverts only to the directors in the spec")
            }
            let listed = Set(member.instance.unicastPeers.map(\.value))
            for missing in others.sorted() where !listed.contains(missing) {
                sink.warning(member.instance.position, "unicast_peer does not list director \(missing); lb sends adverts to every other director of the group")
            }
        }
    }

    // MARK: services

    mutating func services() {
        var origin: [String: (file: Int, service: ImportedService)] = [:]
        var vipIndex: [IPAddress: Int] = [:]
        for (i, v) in spec.vips.enumerated() { vipIndex[v.address.address] = i }
        var present: [Int: Set<String>] = [:]
        for (fi, f) in files.enumerated() {
            for imported in f.services {
                guard let v = vipIndex[imported.address] else {
                    // A VIP whose group could not be imported has its own error already.
                    let declared = files.contains { $0.instances.contains { $0.vips.contains { $0.value.address == imported.address } } }
                    if declared { continue }
                    sink.error(imported.position, "virtual_server \(imported.key) is on no VIP: lb runs services on VIPs that a vrrp_instance moves; add \(imported.address) to a virtual_ipaddress")
                    continue
                }
                present[fi, default: []].insert(imported.key)
                let directors = spec.vips[v].vrrp.directors.map(\.node)
                if directorNodes[fi] != nil && !directors.contains(names[fi]) {
                    sink.warning(imported.position, "'\(names[fi])' runs no vrrp_instance for VIP \(imported.address); lb sets up virtual_server \(imported.key) on that VIP's directors (\(directors.joined(separator: ", "))) only")
                }
                if let first = origin[imported.key] {
                    compare(imported, with: first.service)
                    continue
                }
                origin[imported.key] = (fi, imported)
                let s = spec.vips[v].services.count
                spec.vips[v].services.append(imported.service)
                let p = SpecPath.root["vips"][v]["services"][s]
                locations[p] = imported.position
                locations[p["port"]] = imported.position
                for (key, position) in imported.settingPositions {
                    var path = p
                    for part in key.split(separator: ".") { path = path[String(part)] }
                    locations[path] = position
                }
                for (r, position) in imported.realServerPositions.enumerated() {
                    locations[p["real_servers"][r]] = position
                }
            }
        }
        // A director of a VIP whose file lacks one of the VIP's services gets it anyway.
        for (v, vip) in spec.vips.enumerated() {
            for director in vip.vrrp.directors {
                guard let fi = names.firstIndex(of: director.node) else { continue }
                for s in vip.services {
                    let key = "\(Endpoint(address: vip.address.address, port: s.port))/\(s.protocol.rawValue)"
                    if !(present[fi]?.contains(key) ?? false), let from = origin[key] {
                        sink.warning(locations[SpecPath.root["vips"][v]["vrrp"]["directors"][vip.vrrp.directors.firstIndex { $0.node == director.node }!]] ?? start(files[fi]),
                                     "\(files[fi].path) has no virtual_server \(key) (defined at \(from.service.position)); lb sets it up on every director of VIP \(vip.address.address), '\(director.node)' included")
                    }
                }
            }
        }
    }

    /// The same virtual_server in two files must say the same.
    mutating func compare(_ b: ImportedService, with a: ImportedService) {
        let x = a.service, y = b.service
        var checks: [(String, Bool, String, String)] = [
            ("scheduler", x.scheduler == y.scheduler && x.schedulerFlags == y.schedulerFlags,
             ([x.scheduler.rawValue] + x.schedulerFlags.map(\.rawValue)).joined(separator: " "), ([y.scheduler.rawValue] + y.schedulerFlags.map(\.rawValue)).joined(separator: " ")),
            ("forwarding", x.forwarding == y.forwarding, x.forwarding.rawValue.uppercased(), y.forwarding.rawValue.uppercased()),
            ("persistence", x.persistence == y.persistence, Self.text(x.persistence), Self.text(y.persistence)),
            ("quorum", x.quorum == y.quorum, "quorum \(x.quorum)", "quorum \(y.quorum)"),
            ("hysteresis", x.hysteresis == y.hysteresis, "hysteresis \(x.hysteresis)", "hysteresis \(y.hysteresis)"),
            ("quorum_up", x.quorumUp == y.quorumUp, "quorum_up \(x.quorumUp ?? "none")", "quorum_up \(y.quorumUp ?? "none")"),
            ("quorum_down", x.quorumDown == y.quorumDown, "quorum_down \(x.quorumDown ?? "none")", "quorum_down \(y.quorumDown ?? "none")"),
            ("alpha", x.alpha == y.alpha, x.alpha ? "alpha" : "no alpha", y.alpha ? "alpha" : "no alpha"),
            ("omega", x.omega == y.omega, x.omega ? "omega" : "no omega", y.omega ? "omega" : "no omega"),
            ("ops", x.ops == y.ops, x.ops ? "ops" : "no ops", y.ops ? "ops" : "no ops"),
            ("sorry_server", x.sorryServer == y.sorryServer && x.sorryForwarding == y.sorryForwarding && x.sorryServerInhibit == y.sorryServerInhibit,
             Self.sorry(x), Self.sorry(y)),
            ("health_check", x.healthCheck == y.healthCheck, Self.text(x.healthCheck), Self.text(y.healthCheck)),
        ]
        // inhibit_on_failure compares per server: the service's or the server's own, both say the same.
        let servers: (VirtualService) -> [String] = { s in
            s.realServers.map { "\($0.address!):\($0.port ?? s.port) weight \($0.weight)\(s.inhibitsOnFailure($0) ? " inhibit_on_failure" : "")\($0.forwarding.map { " lvs_method \($0.rawValue.uppercased())" } ?? "")" }
        }
        checks.append(("real_servers", Set(servers(x)) == Set(servers(y)), servers(x).joined(separator: ", "), servers(y).joined(separator: ", ")))
        for (key, same, first, second) in checks where !same {
            sink.error(b.settingPositions[key] ?? b.position,
                       "virtual_server \(b.key) has \(second.isEmpty ? "no real servers" : second) here but \(first.isEmpty ? "no real servers" : first) at \(a.settingPositions[key] ?? a.position); every director needs the same service")
        }
    }

    static func sorry(_ s: VirtualService) -> String {
        guard let sorry = s.sorryServer else { return "no sorry_server" }
        return "sorry_server \(sorry)" + (s.sorryServerForwarding.map { " by \($0.rawValue.uppercased())" } ?? "") + (s.sorryServerInhibit ? " with sorry_server_inhibit" : "")
    }

    static func text(_ p: Persistence?) -> String {
        p.map { "persistence_timeout \($0.timeoutSeconds) with granularity \($0.netmask)" } ?? "no persistence"
    }

    static func text(_ h: HealthCheck?) -> String {
        guard let h else { return "no health check" }
        return "a \(h.kind.rawValue) check every \(Double(h.intervalMilliseconds) / 1000) s, timeout \(Double(h.connectTimeoutMilliseconds) / 1000) s, \(h.retries) tries"
    }

    // MARK: real servers

    /// Real servers become nodes rs1, rs2, … in order of first appearance, or the director with their address.
    mutating func realServerNodes() {
        var byAddress: [IPAddress: String] = [:]
        for node in spec.nodes { byAddress[node.address.address] = node.name }
        var taken = Set(spec.nodes.map(\.name))
        var counter = 0
        for v in spec.vips.indices {
            for s in spec.vips[v].services.indices {
                for r in spec.vips[v].services[s].realServers.indices {
                    guard let address = spec.vips[v].services[s].realServers[r].address else { continue }
                    let path = SpecPath.root["vips"][v]["services"][s]["real_servers"][r]
                    let name: String
                    if let existing = byAddress[address] {
                        name = existing
                    } else {
                        repeat { counter += 1 } while taken.contains("rs\(counter)")
                        name = "rs\(counter)"
                        taken.insert(name)
                        byAddress[address] = name
                        let subnet = spec.nodes.map(\.address).first { $0.prefixLength < $0.address.bitWidth && $0.contains(address) }
                        let cidr = CIDR(address: address, prefixLength: subnet?.prefixLength ?? address.bitWidth)
                        let np = SpecPath.root["nodes"][spec.nodes.count]
                        locations[np] = locations[path]
                        spec.nodes.append(Node(name: name, address: cidr))
                        if spec.vips[v].services[s].forwarding == .dr && subnet == nil && directorNodes.values.contains(where: { $0.hasSubnet }),
                           let at = locations[path] {
                            sink.warning(at, "real server \(address) is outside every director's subnet; direct routing only reaches servers on the directors' own network segment")
                        }
                    }
                    spec.vips[v].services[s].realServers[r].node = name
                    spec.vips[v].services[s].realServers[r].address = nil
                }
            }
        }
    }

    // MARK: cluster-wide settings

    mutating func notifications() {
        let withEmail = files.filter { $0.email != nil }
        if let ref = withEmail.first, let email = ref.email {
            for other in withEmail.dropFirst() where other.email!.value != email.value {
                sink.error(other.email!.position, "notification e-mail settings differ from \(email.position); lb has one notifications.email for the cluster")
            }
            for other in files where other.email == nil && !other.instances.isEmpty {
                sink.warning(email.position, "only some files configure notification_email (not \(other.path)); lb mails from every director")
            }
            spec.notifications.email = email.value
            for (key, position) in ref.emailPositions {
                if key.hasPrefix("to[") {
                    let i = Int(key.dropFirst(3).dropLast()) ?? 0
                    locations[SpecPath.root["notifications"]["email"]["to"][i]] = position
                } else {
                    locations[SpecPath.root["notifications"]["email"][key]] = position
                }
            }
            locations[SpecPath.root["notifications"]["email"]] = email.position
        }
        let scripts = files.compactMap(\.notifyScript)
        if let first = scripts.first {
            for other in scripts.dropFirst() where other.value != first.value {
                sink.warning(other.position, "notify script \(other.value) differs from \(first.value) at \(first.position); lb runs one notifications.script, using \(first.value)")
            }
            spec.notifications.script = first.value
            locations[SpecPath.root["notifications"]["script"]] = first.position
        }
    }

    mutating func ipvs() {
        let directorFiles = files.enumerated().filter { directorNodes[$0.offset] != nil }
        let timeouts = directorFiles.compactMap(\.element.timeouts)
        if let first = timeouts.first {
            for other in timeouts.dropFirst() where other.value != first.value {
                sink.error(other.position, "lvs_timeouts tcp \(other.value.tcp) tcpfin \(other.value.tcpFin) udp \(other.value.udp) differ from tcp \(first.value.tcp) tcpfin \(first.value.tcpFin) udp \(first.value.udp) at \(first.position); lb sets the same timeouts on every director")
            }
            spec.ipvs.timeouts = first.value
            locations[SpecPath.root["ipvs"]["timeouts"]] = first.position
        } else if let f = directorFiles.first?.element {
            sink.warning(start(f), "no lvs_timeouts: keepalived leaves the kernel's (tcp 900 s drops WebSockets idle for 15 minutes); the spec uses lb's tcp 7260, tcpfin 120, udp 300")
        }

        let syncs = directorFiles.compactMap { f in f.element.sync.map { (file: f.offset, sync: $0) } }
        guard let first = syncs.first else {
            spec.ipvs.sync.enabled = false
            if let f = directorFiles.first?.element, directorFiles.count > 1 || !spec.vips.isEmpty {
                sink.warning(start(f), "no lvs_sync_daemon: a director failover drops every open connection; imported with ipvs.sync disabled as in these files (enable it to keep connections across a failover)")
                locations[SpecPath.root["ipvs"]["sync"]] = start(f)
            }
            return
        }
        for other in syncs.dropFirst() where other.sync.value.syncID != first.sync.value.syncID {
            sink.error(other.sync.position, "lvs_sync_daemon id \(other.sync.value.syncID) differs from id \(first.sync.value.syncID) at \(first.sync.position); directors must share the sync id")
        }
        for (i, f) in directorFiles where f.sync == nil {
            _ = i
            sink.warning(first.sync.position, "\(f.path) runs no lvs_sync_daemon; lb runs connection sync on every director")
        }
        spec.ipvs.sync = ConnectionSync(enabled: true, syncID: first.sync.value.syncID)
        let allOwn = syncs.allSatisfy { directorNodes[$0.file]?.interface == $0.sync.value.interface }
        if !allOwn {
            let interfaces = Set(syncs.map(\.sync.value.interface))
            if interfaces.count == 1 {
                spec.ipvs.sync.interface = first.sync.value.interface
            } else {
                for other in syncs.dropFirst() where other.sync.value.interface != first.sync.value.interface {
                    sink.error(other.sync.position, "lvs_sync_daemon on \(other.sync.value.interface) but on \(first.sync.value.interface) at \(first.sync.position); lb syncs on one interface name, or on each director's own client interface")
                }
            }
        }
        locations[SpecPath.root["ipvs"]["sync"]] = first.sync.position
    }
}
