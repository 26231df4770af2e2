import LBSpec

/// Reads one director's statement tree as keepalived 2.2.7 runs it, and states it in lb's terms.
///
/// What keepalived runs, lb imports: `keepalived -t` complains about much that keepalived itself, when
/// it runs, passes over. A keyword it does not know is ignored (a warning, with the nearest known one);
/// a value it rejects leaves the setting at its default, or keepalived settles on one obvious meaning
/// (a password cut to 8 bytes, a DR real server port reset to the service port, …): imported as that,
/// with a warning naming what was assumed. Every keyword keepalived knows is either mapped, or reported
/// as `ignored: …` (a warning): not carried. Errors are left for what lb cannot carry faithfully.
/// keepalived's defaults are applied explicitly, so the spec keeps the file's behaviour.
public enum KeepalivedInterpreter {
    public static func interpret(_ tree: KeepalivedSyntaxTree) -> (file: KeepalivedFile, diagnostics: [KeepalivedDiagnostic]) {
        var reader = KeepalivedReader(path: tree.file)
        reader.file.name = tree.name
        reader.read(tree.statements)
        return (reader.file, reader.sink.diagnostics)
    }
}

/// keepalived's own defaults, where they differ from lb's or matter for a faithful import.
enum KeepalivedDefaults {
    static let priority = 100
    static let advertCentiseconds = 100
    static let delayLoopMilliseconds = 60_000
    static let connectTimeoutMilliseconds = 5_000
    /// retry: 1 for TCP and HTTP checkers, 0 for MISC_CHECK.
    static let retry = 1
    static let miscRetry = 0
    /// DNS_CHECK's own (check_dns.h, `DNS_DEFAULT_RETRY`); its delay_before_retry defaults to delay_loop.
    static let dnsRetry = 3
    /// delay_before_retry: 3 s for HTTP_GET and SSL_GET, 1 s otherwise.
    static let delayBeforeRetryMilliseconds = 1_000
    static let httpDelayBeforeRetryMilliseconds = 3_000
    /// persistence_timeout written without a value.
    static let persistenceSeconds = 360
    static let smtpConnectTimeout = 30
    /// When a virtual_server leaves them out (keepalived -t says so).
    static let scheduler = "wlc"
    static let forwarding = Forwarding.nat
    static let `protocol` = ServiceProtocol.udp
}

/// The interpreter's state for one file; its parts live in KeepalivedInterpreter+VRRP.swift (global_defs,
/// vrrp_instance) and KeepalivedInterpreter+LVS.swift (virtual_server, real servers, health checks).
struct KeepalivedReader {
    var sink = DiagnosticSink()
    var file: KeepalivedFile

    // global_defs settings that instances and sync need after all global_defs blocks are read.
    var globalVersion: Located<Int>?
    var globalGarpDelay: Located<Int>?
    var globalGarpRepeat: Located<Int>?
    var globalGarpRefresh: Located<Int>?
    var minGarp: SourcePosition?
    var syncStatement: KeepalivedStatement?
    /// global_defs smtp_alert and smtp_alert_vrrp: whether instances without their own smtp_alert mail.
    var globalSmtpAlert: Bool?
    var globalSmtpAlertVRRP: Bool?
    /// notification scripts seen, to warn when instances disagree.
    var scripts: [Located<String>] = []
    /// vrrp_script blocks by name, read before the instances whose track_script names them.
    var vrrpScripts: [String: Located<TrackScript>] = [:]
    /// virtual_server_group blocks by name, read before the virtual_servers that name them.
    var vsGroups: [String: Located<[Endpoint]>] = [:]
    /// vrrp_sync_group blocks in file order.
    var syncGroups: [ImportedSyncGroup] = []

    init(path: String) { file = KeepalivedFile(path: path) }

    // MARK: top level

    mutating func read(_ statements: [KeepalivedStatement]) {
        // global_defs first: keepalived applies its defaults (vrrp_version, garp) to every instance.
        for s in statements where s.keyword == "global_defs" {
            guard checkBlock(s, takesBlock: true) else { continue }
            globalDefs(s)
        }
        // Then vrrp_script: an instance may track a script written after it.
        for s in statements where s.keyword == "vrrp_script" {
            guard checkBlock(s, takesBlock: true) else { continue }
            vrrpScript(s)
        }
        // And virtual_server_group: keepalived finds a virtual_server's group wherever it is written.
        for s in statements where s.keyword == "virtual_server_group" {
            guard checkBlock(s, takesBlock: true) else { continue }
            virtualServerGroup(s)
        }
        for s in statements {
            switch s.keyword {
            case "global_defs", "vrrp_script", "virtual_server_group":
                continue
            case "vrrp_instance":
                guard checkBlock(s, takesBlock: true) else { continue }
                vrrpInstance(s)
            case "virtual_server":
                guard checkBlock(s, takesBlock: true) else { continue }
                virtualServer(s)
            case "vrrp_sync_group":
                guard checkBlock(s, takesBlock: true) else { continue }
                vrrpSyncGroup(s)
            default:
                otherTopLevel(s)
            }
        }
        // After every instance: a sync group may name instances written after it, as keepalived reads it.
        resolveSyncGroups()
        if let sync = syncStatement { syncDaemon(sync) }
        for script in scripts.dropFirst() where script.value != scripts[0].value {
            sink.warning(script.position, "notify script \(script.value) differs from \(scripts[0].value) at \(scripts[0].position); lb runs one notifications.script, using \(scripts[0].value)")
        }
        file.notifyScript = scripts.first
    }

    static let topLevelBlocks: Set<String> = [
        "global_defs", "vrrp_instance", "virtual_server", "vrrp_sync_group", "vrrp_script", "vrrp_track_file", "track_file",
        "vrrp_track_process", "virtual_server_group", "static_ipaddress", "static_routes", "static_rules", "linkbeat_interfaces",
        "bfd_instance", "SSL", "garp_group", "interface_up_down_delays", "track_group",
    ]

    mutating func otherTopLevel(_ s: KeepalivedStatement) {
        guard KeepalivedKeywords.topLevel.contains(s.keyword) else {
            unknown(s, in: Self.topLevel, known: KeepalivedKeywords.topLevel)
            return
        }
        guard checkBlock(s, takesBlock: Self.topLevelBlocks.contains(s.keyword)) else { return }
        let inner: [String: Set<String>] = [
            "vrrp_sync_group": KeepalivedKeywords.vrrpSyncGroup, "vrrp_script": KeepalivedKeywords.vrrpScript,
            "vrrp_track_file": KeepalivedKeywords.vrrpTrackFile, "track_file": KeepalivedKeywords.vrrpTrackFile,
            "vrrp_track_process": KeepalivedKeywords.vrrpTrackProcess, "SSL": KeepalivedKeywords.ssl,
        ]
        ignored(s)
        if let known = inner[s.keyword] {
            let listBlocks: Set<String> = ["group", "track_interface", "track_script", "track_file", "track_process", "track_bfd"]
            for child in s.block ?? [] where !listBlocks.contains(child.keyword) || child.block == nil {
                if !known.contains(child.keyword) { unknown(child, in: s.keyword, known: known) }
            }
        }
    }

    // MARK: reading values

    /// Reports a keyword keepalived does not know, with the nearest one it does.
    ///
    /// keepalived runs such a file: it ignores the line, so a line alone is a warning. A block is worse
    /// (lib/parser.c, process_stream): keepalived ignores its `{`, reads its lines as part of the
    /// enclosing block and ends that block at its `}`. At the top level that only skips the block, when
    /// no line inside is a top-level keyword; anywhere else the rest of the enclosing block is read
    /// outside it, which is no configuration anyone meant: an error.
    mutating func unknown(_ s: KeepalivedStatement, in context: String, known: Set<String>) {
        var message = "unknown keyword '\(s.keyword)' in \(context)"
        if s.keyword.contains("\u{A0}") {
            message += " (it contains a non-breaking space, U+00A0, often pasted from a web page)"
        } else if let hint = Suggest.closest(to: s.keyword, among: known.sorted()) {
            message += " (did you mean '\(hint)'?)"
        }
        guard let block = s.block else {
            sink.warning(s.position, message + ": keepalived ignores the line when it runs (keepalived -t reports it); not imported")
            return
        }
        let first = block.first?.line ?? s.line, last = block.map(\.endLine).max() ?? s.endLine
        let lines = block.isEmpty ? "its block" : first == last ? "its block (line \(first))" : "its block (lines \(first)–\(last))"
        if context == Self.topLevel, !Self.flattened(block).contains(where: { KeepalivedKeywords.topLevel.contains($0.keyword) }) {
            sink.warning(s.position, message + ": keepalived ignores the line when it runs, and \(lines) as unknown top-level keywords too (keepalived -t reports them); not imported")
            return
        }
        let rest = context == Self.topLevel
            ? "a top-level keyword in it takes effect"
            : "its '}' at line \(s.endLine) ends \(context) there, so what follows is read outside \(context)"
        sink.error(s.position, message + " opens a block: keepalived ignores the '{', reads \(lines) as part of \(context), and \(rest); lb cannot import what keepalived makes of that: correct the keyword")
    }

    static let topLevel = "the top level"

    /// Every statement of a block and of the blocks inside it, as keepalived reads an unknown block.
    static func flattened(_ block: [KeepalivedStatement]) -> [KeepalivedStatement] {
        block.flatMap { [$0] + flattened($0.block ?? []) }
    }

    static let reasons: [String: String] = [
        "track_script": "a sync group's track_script is not imported; lb's track scripts belong to a VRRP group (vrrp.track_scripts)",
        "track_interface": "a sync group's track_interface is not imported; lb's tracked interfaces belong to a VRRP group (vrrp.track_interfaces)",
        "track_file": "lb tracks no files: a director's priority does not change",
        "track_process": "lb tracks no processes: a director's priority does not change",
        "track_bfd": "lb has no BFD",
        "virtual_routes": "lb manages no routes",
        "virtual_rules": "lb manages no routing rules",
        "static_ipaddress": "lb manages no static addresses on directors",
        "static_routes": "lb manages no routes",
        "static_rules": "lb manages no routing rules",
        "use_vmac": "lb uses the interface's own MAC address",
        "vrrp_track_process": "lb tracks no processes: a director's priority does not change",
        "vrrp_track_file": "lb tracks no files: a director's priority does not change",
        "bfd_instance": "lb has no BFD",
        "linkbeat_interfaces": "lb watches no link beat: a director's priority does not change",
        "linkbeat_use_polling": "lb watches no link beat",
        "garp_group": "lb sends gratuitous ARP per VRRP group (vrrp.gratuitous_arp)",
        "net_namespace": "lb-agent runs in the namespace it is started in",
        "net_namespace_ipvs": "lb-agent runs in the namespace it is started in",
        "enable_dbus": "lb has no D-Bus interface; lbctl and the controller's API report state",
        "dbus_service_name": "lb has no D-Bus interface",
        "enable_snmp_vrrp": "lb has no SNMP agent; lb-agent exports Prometheus metrics",
        "enable_snmp_checker": "lb has no SNMP agent; lb-agent exports Prometheus metrics",
        "enable_snmp_rfc": "lb has no SNMP agent; lb-agent exports Prometheus metrics",
        "enable_snmp_rfcv2": "lb has no SNMP agent; lb-agent exports Prometheus metrics",
        "enable_snmp_rfcv3": "lb has no SNMP agent; lb-agent exports Prometheus metrics",
        "enable_snmp_keepalived": "lb has no SNMP agent; lb-agent exports Prometheus metrics",
        "enable_traps": "lb has no SNMP agent",
        "snmp_socket": "lb has no SNMP agent",
    ]

    mutating func ignored(_ s: KeepalivedStatement, _ reason: String? = nil) {
        let args = s.arguments.isEmpty ? "" : " " + s.arguments.prefix(3).joined(separator: " ") + (s.arguments.count > 3 ? " …" : "")
        sink.warning(s.position, "ignored: \(s.keyword)\(args) (\(reason ?? Self.reasons[s.keyword] ?? "lb has no equivalent"))")
    }

    /// Checks that a keyword which opens a block has one and that others do not; false to skip it.
    mutating func checkBlock(_ s: KeepalivedStatement, takesBlock: Bool) -> Bool {
        if takesBlock && s.block == nil {
            sink.error(s.position, "'\(s.keyword)' needs a block: \(s.keyword) … { … }")
            return false
        }
        if !takesBlock, s.block != nil {
            sink.error(s.position, "'\(s.keyword)' takes no block; the block (lines \(s.line)–\(s.endLine)) is ignored")
            return false
        }
        return true
    }

    mutating func argument(_ s: KeepalivedStatement, _ index: Int, _ what: String) -> String? {
        guard s.words.count > index + 1 else {
            sink.error(s.position, "'\(s.keyword)' is missing a value: \(what) (keepalived stops reading here)")
            return nil
        }
        return s.words[index + 1].text
    }

    /// Words after the ones a keyword takes: keepalived ignores them silently.
    mutating func extra(_ s: KeepalivedStatement, after count: Int) {
        if s.words.count > count + 1 {
            sink.warning(s.position, "ignored: '\(s.words[(count + 1)...].map(\.text).joined(separator: " "))' after \(s.keyword)")
        }
    }

    /// A value keepalived rejects. `otherwise` says what keepalived does instead when it runs (it ignores
    /// the line and keeps a default, or uses a fixed value), for a setting lb imports the same way: then
    /// it is a warning. Without it, an error.
    mutating func rejected(_ at: SourcePosition, _ problem: String, otherwise: String?, imported: String = "imported as that") {
        if let otherwise {
            sink.warning(at, "\(problem): keepalived -t reports it, and keepalived, when it runs, \(otherwise); \(imported)")
        } else {
            sink.error(at, problem)
        }
    }

    mutating func unsigned(_ s: KeepalivedStatement, _ index: Int, range: ClosedRange<Int>, what: String, otherwise: String? = nil) -> Int? {
        guard let text = argument(s, index, "a whole number") else { return nil }
        if index == 0 { extra(s, after: 1) }
        guard let v = Self.parseUnsigned(text) else {
            rejected(s.position, "\(what) '\(text)' is not a whole number", otherwise: otherwise)
            return nil
        }
        guard range.contains(v) else {
            rejected(s.position, "\(what) \(v) is out of range \(range.lowerBound)–\(range.upperBound)", otherwise: otherwise)
            return nil
        }
        return v
    }

    mutating func decimal(_ s: KeepalivedStatement, _ index: Int, range: ClosedRange<Double>, what: String, otherwise: String? = nil) -> Double? {
        guard let text = argument(s, index, "a number") else { return nil }
        if index == 0 { extra(s, after: 1) }
        guard let v = Self.parseDecimal(text) else {
            rejected(s.position, "\(what) '\(text)' is not a number", otherwise: otherwise)
            return nil
        }
        guard range.contains(v) else {
            rejected(s.position, "\(what) \(text) is out of range \(range.lowerBound.formatted)–\(range.upperBound.formatted)", otherwise: otherwise)
            return nil
        }
        return v
    }

    /// A keepalived TIMER (seconds, decimals allowed) in milliseconds.
    mutating func timer(_ s: KeepalivedStatement, minimum: Int, otherwise: String? = nil) -> Int? {
        guard let v = decimal(s, 0, range: 0...4_294_967, what: s.keyword, otherwise: otherwise) else { return nil }
        let ms = v * 1000
        var rounded = Int(ms.rounded())
        if abs(ms - ms.rounded()) > 1e-6 {
            rounded = Int(ms.rounded(.up))
            sink.warning(s.position, "\(s.keyword) \(s.arguments[0]) is finer than lb's 1 ms; imported as \(rounded) ms")
        }
        guard rounded >= minimum else {
            rejected(s.position, "\(s.keyword) \(s.arguments[0]) must be more than 0", otherwise: otherwise)
            return nil
        }
        return rounded
    }

    /// `on`/`true`/`yes` or `off`/`false`/`no`; no word means `default`.
    mutating func boolean(_ s: KeepalivedStatement, default value: Bool) -> Bool? {
        guard s.words.count > 1 else { return value }
        switch s.words[1].text.lowercased() {
        case "on", "true", "yes": return true
        case "off", "false", "no": return false
        default:
            sink.error(s.position, "\(s.keyword) '\(s.words[1].text)' is not on/off, true/false or yes/no")
            return nil
        }
    }

    static func parseUnsigned(_ text: String) -> Int? {
        guard !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    static func parseDecimal(_ text: String) -> Double? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count <= 2, !text.isEmpty, text != ".", text.count <= 24,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        return Double(text)
    }
}

extension Double {
    /// 1 for 1.0, 0.5 for 0.5: how keepalived.conf and messages write seconds.
    var formatted: String {
        self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}

// MARK: vrrp_sync_group

/// A vrrp_sync_group as read: its members, and the tracking it gives every one of them.
struct ImportedSyncGroup {
    var name: Located<String>
    var members: [Located<String>] = []
    var trackScripts: [TrackScript] = []
    var trackInterfaces: [TrackInterface] = []
    var trackingAt: SourcePosition?
    /// sync_group_tracking_weight: the members' own weighted tracking stays (keepalived drops it otherwise).
    var trackingWeight = false
}

extension KeepalivedReader {
    /// `vrrp_sync_group NAME { group { VI_1 VI_2 } … }`: the instances change state together; lb's VRRP
    /// groups carry it as `vrrp.sync_group`. The block's track_script and track_interface go to every
    /// member, as keepalived's sync_group_tracking_init adds them; its notify scripts are not carried.
    mutating func vrrpSyncGroup(_ s: KeepalivedStatement) {
        guard let name = argument(s, 0, "the sync group's name") else { return }
        extra(s, after: 1)
        var group = ImportedSyncGroup(name: Located(name, at: s.position))
        let what = "vrrp_sync_group \(name)"
        for child in s.block ?? [] {
            switch child.keyword {
            case "group":
                guard let block = child.block else {
                    sink.error(child.position, "'group' needs a block listing the instances: group { VI_1 VI_2 }")
                    continue
                }
                for line in block { for word in line.words { group.members.append(Located(word.text, at: line.position)) } }
            case "track_script":
                guard checkBlock(child, takesBlock: true) else { continue }
                group.trackingAt = group.trackingAt ?? child.position
                group.trackScripts += trackScripts(child, instance: what).filter { t in !group.trackScripts.contains { $0.name == t.name } }
            case "track_interface":
                guard checkBlock(child, takesBlock: true) else { continue }
                group.trackingAt = group.trackingAt ?? child.position
                trackInterfaces(child, instance: what, into: &group.trackInterfaces)
            case "sync_group_tracking_weight", "global_tracking":
                group.trackingWeight = true
            case "notify", "notify_master", "notify_backup", "notify_fault", "notify_stop":
                ignored(child, "a sync group's notify scripts are not imported; each VRRP group runs its own vrrp.notify, and notifications.script hears every instance")
            case "smtp_alert", "notify_priority_changes":
                ignored(child, "lb has no settings for a sync group beyond its members and their tracking")
            case "track_file", "track_process", "track_bfd":
                ignored(child)
            default:
                unknown(child, in: "vrrp_sync_group", known: KeepalivedKeywords.vrrpSyncGroup)
            }
        }
        if group.members.isEmpty {
            sink.warning(s.position, "vrrp_sync_group \(name) lists no instance (group { … }): keepalived removes it; not imported")
            return
        }
        syncGroups.append(group)
    }

    /// Puts each sync group's name on the instances it lists, as keepalived's vrrp_sync_set_group does:
    /// an instance that does not exist, or is already in another group, is skipped (warning).
    mutating func resolveSyncGroups() {
        for group in syncGroups {
            var found = 0
            for member in group.members {
                guard let i = file.instances.firstIndex(where: { $0.name == member.value }) else {
                    let hint = Suggest.closest(to: member.value, among: file.instances.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
                    sink.warning(member.position, "vrrp_sync_group \(group.name.value) names \(member.value), which is no vrrp_instance of this file\(hint): keepalived ignores it; not imported")
                    continue
                }
                if let other = file.instances[i].settings.syncGroup {
                    sink.warning(member.position, "\(member.value) is already in vrrp_sync_group \(other): an instance is in one sync group, and keepalived ignores it in \(group.name.value)")
                    continue
                }
                var instance = file.instances[i]
                instance.settings.syncGroup = group.name.value
                instance.settingPositions["sync_group"] = member.position
                track(&instance, in: group)
                file.instances[i] = instance
                found += 1
            }
            if found == 1 {
                sink.warning(group.name.position, "vrrp_sync_group \(group.name.value) has one instance: it changes state with nothing (keepalived says the same)")
            }
        }
    }

    /// A member's tracking in its sync group, as keepalived's vrrp_complete_instance and
    /// sync_group_tracking_init leave it: without sync_group_tracking_weight its own weighted scripts are
    /// dropped and its tracked interfaces lose their weights (so priorities cannot pull the group apart);
    /// then the group's scripts and interfaces are added.
    mutating func track(_ instance: inout ImportedInstance, in group: ImportedSyncGroup) {
        let positions = instance.settingPositions, start = instance.position
        let at = { (key: String) in positions[key] ?? start }
        let why = "in vrrp_sync_group \(group.name.value) without sync_group_tracking_weight"
        if !group.trackingWeight {
            for t in instance.settings.trackScripts where t.weight != 0 {
                sink.warning(at("track_scripts"), "keepalived ignores track script \(t.name) of \(instance.name) (weight \(t.weight)) \(why); not imported")
            }
            instance.settings.trackScripts.removeAll { $0.weight != 0 }
            for i in instance.settings.trackInterfaces.indices where instance.settings.trackInterfaces[i].weight != 0 {
                let t = instance.settings.trackInterfaces[i]
                sink.warning(at("track_interfaces"), "keepalived tracks interface \(t.interface) of \(instance.name) without its weight \(t.weight) \(why): FAULT while it is down; imported as that")
                instance.settings.trackInterfaces[i].weight = 0
                instance.settings.trackInterfaces[i].reverse = false
            }
        }
        for t in group.trackScripts where !instance.settings.trackScripts.contains(where: { $0.name == t.name }) {
            instance.settings.trackScripts.append(t)
        }
        for t in group.trackInterfaces where !instance.settings.trackInterfaces.contains(where: { $0.interface == t.interface }) {
            instance.settings.trackInterfaces.append(t)
        }
        if let position = group.trackingAt {
            if !group.trackScripts.isEmpty && instance.settingPositions["track_scripts"] == nil { instance.settingPositions["track_scripts"] = position }
            if !group.trackInterfaces.isEmpty && instance.settingPositions["track_interfaces"] == nil { instance.settingPositions["track_interfaces"] = position }
        }
    }
}
