import LBSpec

/// global_defs and vrrp_instance: directors, VRRP groups, notifications, IPVS timeouts and sync.
extension KeepalivedReader {
    // MARK: global_defs

    mutating func globalDefs(_ g: KeepalivedStatement) {
        var emailTo: [Located<String>] = []
        var emailBlock: SourcePosition?
        var from: Located<String>?
        var server: Located<String>?
        var port: Located<Int>?
        var timeout: Located<Int>?
        for s in g.block ?? [] {
            let k = s.keyword
            guard KeepalivedKeywords.globalDefs.contains(k) else {
                unknown(s, in: "global_defs", known: KeepalivedKeywords.globalDefs)
                continue
            }
            guard checkBlock(s, takesBlock: k == "notification_email") else { continue }
            switch k {
            case "router_id":
                if let v = argument(s, 0, "a name for this director") {
                    file.routerID = Located(v, at: s.position)
                    extra(s, after: 1)
                }
            case "notification_email":
                emailBlock = s.position
                for line in s.block ?? [] {
                    if line.block != nil { _ = checkBlock(line, takesBlock: false) }
                    emailTo += line.words.map { Located($0.text, at: line.position) }
                }
            case "notification_email_from":
                if let v = argument(s, 0, "the sender address") { from = Located(v, at: s.position); extra(s, after: 1) }
            case "smtp_server":
                if let v = argument(s, 0, "the SMTP server's address or name") {
                    server = Located(v, at: s.position)
                    // smtpserver_handler: a port it cannot use leaves no SMTP server at all.
                    if s.words.count > 2 {
                        if let p = unsigned(s, 1, range: 1...65535, what: "SMTP port", otherwise: "has no SMTP server then and sends no mail") {
                            port = Located(p, at: s.position)
                        } else {
                            server = nil
                        }
                    }
                    extra(s, after: 2)
                }
            case "smtp_connect_timeout":
                if let v = unsigned(s, 0, range: 0...4294, what: "smtp_connect_timeout",
                                    otherwise: "ignores the line and waits its default \(KeepalivedDefaults.smtpConnectTimeout) s") { timeout = Located(v, at: s.position) }
            case "vrrp_version":
                if let v = unsigned(s, 0, range: 2...3, what: "vrrp_version", otherwise: "ignores the line and speaks VRRP version 2 (3 for IPv6)") {
                    globalVersion = Located(v, at: s.position)
                }
            case "vrrp_garp_master_delay":
                if let v = unsigned(s, 0, range: 0...4294, what: "vrrp_garp_master_delay", otherwise: "ignores the line and repeats them after its default 5 s") {
                    globalGarpDelay = Located(v, at: s.position)
                }
            case "vrrp_garp_master_repeat":
                if let v = garpRepeatCount(s, otherwise: "ignores the line and sends its default 5") { globalGarpRepeat = v }
            case "vrrp_garp_master_refresh":
                // vrrp_garp_refresh_handler: a rejected refresh is 0, no refresh.
                globalGarpRefresh = Located(unsigned(s, 0, range: 0...4294, what: "vrrp_garp_master_refresh", otherwise: "sends no refreshes") ?? 0, at: s.position)
            case "vrrp_min_garp":
                if boolean(s, default: true) == true { minGarp = s.position }
            case "lvs_timeouts":
                lvsTimeouts(s)
            case "lvs_sync_daemon":
                if let first = syncStatement {
                    rejected(s.position, "a second lvs_sync_daemon (the first is at \(first.position))", otherwise: "ignores it and runs the first")
                } else {
                    syncStatement = s
                }
            case "enable_script_security":
                break  // lb checks nothing of the kind, and runs scripts as root: nothing changes.
            case "script_user":
                if s.arguments.first != "root" { ignored(s, "lb runs notification and check scripts as root") }
            case "smtp_alert":
                globalSmtpAlert = boolean(s, default: true)
                if globalSmtpAlert == false {
                    sink.warning(s.position, "smtp_alert off: VRRP groups are imported with vrrp.email: false, but lb mails real-server changes when notifications.email is set (keepalived's checker alerts), which it cannot turn off")
                }
            case "smtp_alert_vrrp":
                globalSmtpAlertVRRP = boolean(s, default: true)
            case "smtp_alert_checker":
                if boolean(s, default: true) == false { ignored(s, "lb mails real-server changes when notifications.email is set") }
            default:
                ignored(s)
            }
        }
        if let block = emailBlock {
            guard !emailTo.isEmpty else {
                sink.warning(block, "ignored: notification_email has no addresses")
                return
            }
            guard let server else {
                sink.warning(block, "ignored: notification_email without smtp_server (keepalived sends no mail)")
                return
            }
            let sender: String
            if let from {
                sender = from.value
            } else {
                sender = "keepalived@\(file.routerID?.value ?? "localhost")"
                sink.warning(block, "no notification_email_from: keepalived sends as keepalived@<host name>; imported as \(sender)")
            }
            var email = EmailNotification(to: emailTo.map(\.value), from: sender, smtpServer: server.value)
            email.smtpPort = port?.value ?? 25
            email.timeoutSeconds = timeout?.value ?? KeepalivedDefaults.smtpConnectTimeout
            if email.timeoutSeconds == 0 {
                sink.warning(timeout?.position ?? block, "smtp_connect_timeout 0 is no timeout lb can use; imported as keepalived's default \(KeepalivedDefaults.smtpConnectTimeout) s")
                email.timeoutSeconds = KeepalivedDefaults.smtpConnectTimeout
            }
            file.email = Located(email, at: block)
            file.emailPositions["to"] = block
            for (i, to) in emailTo.enumerated() { file.emailPositions["to[\(i)]"] = to.position }
            file.emailPositions["from"] = from?.position ?? block
            file.emailPositions["smtp_server"] = server.position
            file.emailPositions["smtp_port"] = port?.position ?? server.position
            file.emailPositions["timeout"] = timeout?.position ?? block
        } else if let server {
            sink.warning(server.position, "ignored: smtp_server without notification_email (nobody to mail)")
        }
    }

    mutating func lvsTimeouts(_ s: KeepalivedStatement) {
        var t = IPVSTimeouts()
        var args = s.arguments[...]
        let kernels = "leaves the kernel's value", lbs = "imported as lb's default"
        guard args.count >= 2 else {
            rejected(s.position, "lvs_timeouts needs at least one of tcp SECONDS, tcpfin SECONDS, udp SECONDS",
                     otherwise: "ignores the line and \(kernels)s", imported: "imported as lb's defaults")
            return
        }
        var given: [String] = []
        // lvs_timeouts (global_parser.c) goes on after a word it does not know, and reads the next as an option.
        while let key = args.popFirst() {
            guard ["tcp", "tcpfin", "udp"].contains(key) else {
                rejected(s.position, "unknown lvs_timeouts option '\(key)'; expected tcp, tcpfin or udp", otherwise: "skips the word", imported: "so does the import")
                continue
            }
            guard let text = args.popFirst() else {
                rejected(s.position, "lvs_timeouts \(key) needs a number of seconds", otherwise: kernels, imported: lbs)
                continue
            }
            guard let v = Self.parseUnsigned(text), v <= Int(UInt32.max) else {
                rejected(s.position, "lvs_timeouts \(key) '\(text)' is not a whole number of seconds", otherwise: kernels, imported: lbs)
                continue
            }
            if v == 0 {
                sink.warning(s.position, "lvs_timeouts \(key) 0 leaves the kernel's value; imported as lb's default")
                continue
            }
            given.append(key)
            switch key {
            case "tcp": t.tcp = v
            case "tcpfin": t.tcpFin = v
            default: t.udp = v
            }
        }
        let missing = ["tcp", "tcpfin", "udp"].filter { !given.contains($0) }
        if !missing.isEmpty && !given.isEmpty {
            sink.warning(s.position, "lvs_timeouts leaves \(missing.joined(separator: ", ")) at the kernel's value; imported as lb's default (tcp 7260, tcpfin 120, udp 300)")
        }
        file.timeouts = Located(t, at: s.position)
    }

    /// `lvs_sync_daemon IFACE [[inst] INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group IP]`.
    mutating func syncDaemon(_ s: KeepalivedStatement) {
        guard let interface = argument(s, 0, "the interface for connection sync") else { return }
        var args = s.arguments.dropFirst()
        let options: Set<String> = ["id", "maxlen", "port", "ttl", "group"]
        var instance: String?
        if let next = args.first, !options.contains(next) {
            args = args.dropFirst()
            if next == "inst" {
                instance = args.popFirst()
                if instance == nil { sink.error(s.position, "lvs_sync_daemon inst needs a vrrp_instance name"); return }
            } else {
                instance = next
            }
        }
        var syncID: Int?
        while let key = args.popFirst() {
            guard options.contains(key), let value = args.popFirst() else {
                sink.error(s.position, "lvs_sync_daemon: unexpected '\(key)'; expected id, maxlen, port, ttl or group with a value")
                return
            }
            if key == "id" {
                guard let v = Self.parseUnsigned(value), v <= 255 else {
                    rejected(s.position, "lvs_sync_daemon id '\(value)' is not 0–255",
                             otherwise: "uses the vrrp_instance's virtual_router_id (0 without an instance)")
                    continue
                }
                syncID = v
            } else {
                sink.warning(s.position, "ignored: lvs_sync_daemon \(key) \(value) (lb uses the kernel's defaults)")
            }
        }
        if let instance {
            let match = file.instances.first { $0.name == instance }
            if match == nil {
                sink.warning(s.position, "lvs_sync_daemon names vrrp_instance \(instance), which this file does not define")
            }
            sink.warning(s.position, "lvs_sync_daemon follows vrrp_instance \(instance) in keepalived (the master daemon only on the MASTER); lb runs both sync daemons on every director, so either can take over")
            if syncID == nil, let vrid = match?.routerID { syncID = vrid }
        }
        file.sync = Located(ImportedSync(interface: interface, syncID: syncID ?? 0), at: s.position)
    }

    // MARK: vrrp_instance

    mutating func vrrpInstance(_ i: KeepalivedStatement) {
        file.declaredInstances += 1
        guard let name = argument(i, 0, "an instance name") else { return }
        var routerID: Int?
        var routerIDPosition = i.position
        var state: Located<String>?
        var priority = Located(KeepalivedDefaults.priority, at: i.position)
        var interface: Located<String>?
        var version: Located<Int>?
        var advert: Located<Double>?
        var password: Located<String>?
        var authPosition: SourcePosition?
        var vips: [(cidr: Located<CIDR>, dev: String?)] = []
        var nopreempt: SourcePosition?
        var smtpAlert: Located<Bool>?
        var preemptDelay: Located<Int>?
        var unicastSource: Located<IPAddress>?
        var mcastSource: Located<IPAddress>?
        var peers: [Located<IPAddress>] = []
        var peerBlock: SourcePosition?
        var garpDelay = globalGarpDelay, garpRepeat = globalGarpRepeat, garpRefresh = globalGarpRefresh
        var tracked: Located<[TrackScript]>?
        var trackedInterfaces: [TrackInterface] = []
        var stateScripts = StateScripts()
        var stateScriptsAt: SourcePosition?
        var trackedInterfacesAt: SourcePosition?
        let blocks: Set<String> = ["authentication", "virtual_ipaddress", "virtual_ipaddress_excluded", "unicast_peer", "track_interface",
                                   "track_script", "track_file", "track_process", "track_bfd", "virtual_routes", "virtual_rules"]
        for s in i.block ?? [] {
            let k = s.keyword
            guard KeepalivedKeywords.vrrpInstance.contains(k) else {
                unknown(s, in: "vrrp_instance", known: KeepalivedKeywords.vrrpInstance)
                continue
            }
            guard checkBlock(s, takesBlock: blocks.contains(k)) else { continue }
            switch k {
            case "state":
                if let v = argument(s, 0, "MASTER or BACKUP") {
                    if v == "MASTER" || v == "BACKUP" {
                        state = Located(v, at: s.position)
                    } else {
                        sink.warning(s.position, "unknown state '\(v)' (keepalived wants MASTER or BACKUP, in capitals) and starts as BACKUP; the state is informational anyway: the priority decides")
                        state = Located("BACKUP", at: s.position)
                    }
                }
            case "interface":
                if let v = argument(s, 0, "the interface for VRRP") { interface = Located(v, at: s.position) }
            case "virtual_router_id":
                routerID = unsigned(s, 0, range: 1...255, what: "virtual_router_id")
                routerIDPosition = s.position
            case "priority":
                // vrrp_prio_handler: a rejected priority is the default, not the previous value.
                let v = unsigned(s, 0, range: 1...255, what: "priority", otherwise: "uses its default priority \(KeepalivedDefaults.priority)")
                priority = Located(v ?? KeepalivedDefaults.priority, at: s.position)
            case "advert_int":
                if let v = decimal(s, 0, range: 0.01...255, what: "advert_int",
                                   otherwise: "ignores the line and keeps advert_int \(advert?.value.formatted ?? "1") s") {
                    advert = Located(v, at: s.position)
                }
            case "version":
                if let v = unsigned(s, 0, range: 2...3, what: "version",
                                    otherwise: "ignores the line and keeps the global vrrp_version, else 2 (3 for IPv6)") {
                    version = Located(v, at: s.position)
                }
            case "authentication":
                authPosition = s.position
                password = authentication(s)
            case "virtual_ipaddress", "virtual_ipaddress_excluded":
                if k == "virtual_ipaddress_excluded" && !(s.block ?? []).isEmpty {
                    sink.warning(s.position, "virtual_ipaddress_excluded addresses are imported as ordinary VIPs (lb lists every VIP in its adverts)")
                }
                for line in s.block ?? [] {
                    if let vip = virtualAddress(line) { vips.append(vip) }
                }
            case "nopreempt":
                nopreempt = s.position
            case "preempt":
                break  // keepalived's default, kept for old files.
            case "preempt_delay":
                // vrrp_preempt_delay_handler: a rejected delay is 0.
                preemptDelay = nil
                if let v = decimal(s, 0, range: 0...1000, what: "preempt_delay", otherwise: "preempts without delay") {
                    let whole = Int(v.rounded(.up))
                    if Double(whole) != v {
                        sink.warning(s.position, "preempt_delay \(s.arguments[0]) is not whole seconds; imported as \(whole) s")
                    }
                    preemptDelay = Located(whole, at: s.position)
                }
            case "unicast_src_ip", "mcast_src_ip":
                if let v = argument(s, 0, "this director's address") {
                    if let a = IPAddress(v) {
                        if k == "unicast_src_ip" { unicastSource = Located(a, at: s.position) } else { mcastSource = Located(a, at: s.position) }
                    } else {
                        rejected(s.position, "\(k) '\(v)' is not an IP address", otherwise: "skips the line", imported: "imported without it")
                    }
                }
            case "unicast_peer":
                peerBlock = s.position
                for line in s.block ?? [] {
                    if line.block != nil { _ = checkBlock(line, takesBlock: false); continue }
                    if let a = IPAddress(line.keyword) {
                        peers.append(Located(a, at: line.position))
                    } else {
                        rejected(line.position, "unicast_peer '\(line.keyword)' is not an IP address", otherwise: "skips it", imported: "imported without it")
                    }
                }
            case "notify":
                notify(s)
            case "notify_master", "notify_backup", "notify_fault", "notify_stop":
                if let command = stateScript(s) {
                    stateScriptsAt = stateScriptsAt ?? s.position
                    switch k {
                    case "notify_master": stateScripts.master = command
                    case "notify_backup": stateScripts.backup = command
                    case "notify_fault": stateScripts.fault = command
                    default: stateScripts.stop = command
                    }
                }
            case "track_interface":
                trackedInterfacesAt = trackedInterfacesAt ?? s.position
                trackInterfaces(s, instance: name, into: &trackedInterfaces)
            case "track_script":
                tracked = Located((tracked?.value ?? []) + trackScripts(s, instance: name).filter { t in !(tracked?.value.contains { $0.name == t.name } ?? false) },
                                  at: tracked?.position ?? s.position)
            case "garp_master_delay":
                if let v = unsigned(s, 0, range: 0...4294, what: "garp_master_delay", otherwise: "ignores the line and keeps vrrp_garp_master_delay, else 5 s") {
                    garpDelay = Located(v, at: s.position)
                }
            case "garp_master_repeat":
                if let v = garpRepeatCount(s, otherwise: "ignores the line and keeps vrrp_garp_master_repeat, else 5") { garpRepeat = v }
            case "garp_master_refresh":
                garpRefresh = Located(unsigned(s, 0, range: 0...4294, what: "garp_master_refresh", otherwise: "sends no refreshes") ?? 0, at: s.position)
            case "lvs_sync_daemon_interface":
                if let v = argument(s, 0, "an interface") {
                    sink.warning(s.position, "lvs_sync_daemon_interface is deprecated in keepalived; imported as connection sync on \(v) (ipvs.sync)")
                    if syncStatement == nil {
                        var words = [KeepalivedToken(kind: .word, text: "lvs_sync_daemon", line: s.line, column: 1), s.words[1]]
                        words.append(KeepalivedToken(kind: .word, text: name, line: s.line, column: 1))
                        syncStatement = KeepalivedStatement(words: words, file: s.file)
                    }
                }
            case "smtp_alert":
                if let on = boolean(s, default: true) { smtpAlert = Located(on, at: s.position) }
            default:
                ignored(s)
            }
        }

        guard let routerID else {
            sink.error(i.position, "vrrp_instance \(name) has no virtual_router_id (keepalived refuses to start)")
            return
        }
        // The family of an instance is that of its first address; keepalived drops the others.
        if let family = vips.first?.cidr.value.address.family {
            vips = vips.filter { vip in
                guard vip.cidr.value.address.family == family else {
                    sink.warning(vip.cidr.position, "ignored: \(vip.cidr.value) is not of the instance's address family (keepalived skips it)")
                    return false
                }
                return true
            }
        }
        if vips.isEmpty {
            sink.error(i.position, "vrrp_instance \(name) has no virtual_ipaddress: lb needs the VIP it moves")
            return
        }
        let devs = vips.compactMap { v in v.dev.map { Located($0, at: v.cidr.position) } }
        if interface == nil, let first = devs.first {
            interface = first
        }
        guard let interface else {
            sink.error(i.position, "vrrp_instance \(name) has no interface (keepalived refuses to start without one)")
            return
        }
        // A VIP on another interface than the adverts' (`dev eth1`) goes there, as keepalived puts it.
        var vipDevices: [IPAddress: Located<String>] = [:]
        for vip in vips { if let dev = vip.dev, dev != interface.value { vipDevices[vip.cidr.value.address] = Located(dev, at: vip.cidr.position) } }

        var settings = VRRPGroup(routerID: routerID)
        settings.notify = stateScripts
        var positions: [String: SourcePosition] = ["router_id": routerIDPosition]
        if let stateScriptsAt { positions["notify"] = stateScriptsAt }
        let ipv6 = vips[0].cidr.value.address.family == .ipv6
        if let version {
            settings.version = version.value
            positions["version"] = version.position
            if ipv6 && version.value == 2 {
                sink.warning(version.position, "version 2 on an IPv6 instance: keepalived always uses version 3 for IPv6; imported as 3")
                settings.version = 3
            }
        } else if ipv6 {
            settings.version = 3
        } else if let g = globalVersion {
            settings.version = g.value
            positions["version"] = g.position
        }
        if let advert {
            positions["advert_interval"] = advert.position
            let exact = advert.value * 100
            var cs = Int(exact.rounded())
            if settings.version == 2 && advert.value != advert.value.rounded() {
                let whole = max(1, Int(advert.value.rounded()))
                sink.warning(advert.position, "VRRPv2 adverts are whole seconds: keepalived rounds advert_int \(advert.value.formatted) to \(whole) s; imported as \(whole)s (use version 3 for sub-second adverts)")
                cs = whole * 100
            } else if abs(exact - exact.rounded()) > 1e-6 {
                sink.warning(advert.position, "advert_int \(advert.value.formatted) is finer than VRRPv3's 10 ms; imported as \(Double(cs) / 100) s")
            }
            settings.advertIntervalCentiseconds = cs
        }
        if let password {
            settings.authPassword = password.value
            positions["auth"] = authPosition
            positions["auth.password"] = password.position
        }
        // keepalived mails an instance's transitions only when smtp_alert says so (vrrp_complete_instance:
        // the instance's, else global_defs smtp_alert_vrrp, else smtp_alert, else off).
        if file.email != nil {
            let mails = smtpAlert?.value ?? globalSmtpAlertVRRP ?? globalSmtpAlert
            if mails == nil {
                sink.warning(i.position, "keepalived mails no transition of vrrp_instance \(name) without smtp_alert (off unless set, here or in global_defs); imported as vrrp.email: false (make it true to be mailed)")
            }
            settings.email = mails ?? false
            if !settings.email { positions["email"] = smtpAlert?.position ?? i.position }
        }
        if let nopreempt {
            settings.preempt = false
            positions["preempt"] = nopreempt
            if state?.value == "MASTER" {
                sink.warning(nopreempt, "nopreempt works in keepalived only when the instance starts as BACKUP (this one says MASTER); lb applies preempt: false whatever the state")
            }
        }
        if let preemptDelay {
            settings.preemptDelaySeconds = preemptDelay.value
            positions["preempt_delay"] = preemptDelay.position
        }
        if !peers.isEmpty {
            settings.unicast = true
            positions["unicast"] = peerBlock
        } else if let peerBlock {
            sink.warning(peerBlock, "unicast_peer lists no peer: keepalived falls back to multicast; imported as multicast")
        } else if let unicastSource {
            sink.warning(unicastSource.position, "unicast_src_ip without unicast_peer: keepalived falls back to multicast (and calls this usage deprecated); imported as multicast")
        }
        var garp = GratuitousARP()
        if let minGarp {
            garp.count = 1
            garp.repeatDelaySeconds = 0
            positions["gratuitous_arp"] = minGarp
        }
        if let garpDelay { garp.repeatDelaySeconds = garpDelay.value; positions["gratuitous_arp.repeat_delay"] = garpDelay.position }
        if let garpRepeat { garp.count = garpRepeat.value; positions["gratuitous_arp.count"] = garpRepeat.position }
        if let garpRefresh { garp.refreshSeconds = garpRefresh.value; positions["gratuitous_arp.refresh"] = garpRefresh.position }
        settings.gratuitousARP = garp
        if let tracked, !tracked.value.isEmpty {
            settings.trackScripts = tracked.value
            positions["track_scripts"] = tracked.position
        }
        if !trackedInterfaces.isEmpty, let at = trackedInterfacesAt {
            settings.trackInterfaces = trackedInterfaces
            positions["track_interfaces"] = at
        }

        if let duplicate = file.instances.first(where: { $0.routerID == routerID }) {
            sink.error(i.position, "vrrp_instance \(name) uses virtual_router_id \(routerID) like \(duplicate.name) at \(duplicate.position); lb needs one instance per router id on a director")
            return
        }
        file.instances.append(ImportedInstance(
            name: name, position: i.position, routerID: routerID, state: state, priority: priority, interface: interface,
            settings: settings, settingPositions: positions, vips: vips.map(\.cidr), vipDevices: vipDevices,
            sourceAddress: unicastSource ?? mcastSource, unicastPeers: peers))
    }

    /// `garp_master_repeat N`: keepalived turns 0 into 1 (vrrp_garp_rep_handler), and ignores what it cannot read.
    mutating func garpRepeatCount(_ s: KeepalivedStatement, otherwise: String) -> Located<Int>? {
        guard let v = unsigned(s, 0, range: 0...Int(Int32.max), what: s.keyword, otherwise: otherwise) else { return nil }
        if v == 0 {
            rejected(s.position, "\(s.keyword) 0 sends no gratuitous ARP", otherwise: "sends 1")
            return Located(1, at: s.position)
        }
        return Located(v, at: s.position)
    }

    mutating func authentication(_ a: KeepalivedStatement) -> Located<String>? {
        var type: Located<String>?
        var pass: Located<String>?
        for s in a.block ?? [] {
            guard KeepalivedKeywords.authentication.contains(s.keyword) else {
                unknown(s, in: "authentication", known: KeepalivedKeywords.authentication)
                continue
            }
            guard checkBlock(s, takesBlock: false) else { continue }
            if s.keyword == "auth_type" {
                if let v = argument(s, 0, "PASS or AH") { type = Located(v, at: s.position) }
            } else if let v = argument(s, 0, "the password") {
                pass = Located(v, at: s.position)
            }
        }
        switch type?.value {
        case nil:
            if let pass {
                sink.warning(pass.position, "ignored: auth_pass without auth_type (keepalived then sends no authentication)")
            }
            return nil
        case "PASS":
            guard let pass, !pass.value.isEmpty else {
                rejected(type!.position, "auth_type PASS without auth_pass", otherwise: "sends no authentication", imported: "imported without it")
                return nil
            }
            let bytes = Array(pass.value.utf8)
            guard bytes.count > 8 else { return pass }
            guard let cut = String(validating: bytes.prefix(8), as: UTF8.self) else {
                sink.error(pass.position, "auth_pass is \(bytes.count) bytes; VRRPv2 carries 8 and keepalived cuts it inside a character: choose a password of at most 8 bytes")
                return nil
            }
            sink.warning(pass.position, "auth_pass is \(bytes.count) bytes; VRRPv2 carries 8 and keepalived sends only '\(cut)': imported as that")
            return Located(cut, at: pass.position)
        case "AH":
            sink.error(type!.position, "auth_type AH (IPsec authentication header) is not supported by lb; use PASS, or no authentication")
            return nil
        case let other?:
            rejected(type!.position, "unknown auth_type '\(other)'; keepalived knows PASS and AH (in capitals)",
                     otherwise: "ignores the line and sends no authentication", imported: "imported without it")
            return nil
        }
    }

    /// `ADDRESS[/PREFIX] [dev IF] [label L] [brd X] [scope S] …` inside virtual_ipaddress.
    mutating func virtualAddress(_ s: KeepalivedStatement) -> (cidr: Located<CIDR>, dev: String?)? {
        if s.block != nil { _ = checkBlock(s, takesBlock: false); return nil }
        let text = s.keyword
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else {
            rejected(s.position, "'\(text)' is not an IP address", otherwise: "skips this VIP", imported: "imported without it")
            return nil
        }
        var prefix = address.bitWidth
        if parts.count == 2 {
            guard let p = Self.parseUnsigned(String(parts[1])) else {
                sink.error(s.position, "'\(text)' has no valid prefix length after '/'")
                return nil
            }
            if p > address.bitWidth {
                sink.warning(s.position, "prefix /\(p) is longer than /\(address.bitWidth): keepalived uses /\(address.bitWidth); imported as that")
            } else {
                prefix = p
            }
        }
        var dev: String?
        var args = s.arguments[...]
        let withValue: Set<String> = ["dev", "label", "brd", "scope", "peer", "preferred_lft", "track_group"]
        let flags: Set<String> = ["home", "-nodad", "nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track", "use_vmac"]
        while let option = args.popFirst() {
            if withValue.contains(option) {
                guard let value = args.popFirst() else {
                    sink.error(s.position, "'\(option)' needs a value")
                    break
                }
                if option == "dev" {
                    dev = value
                } else {
                    sink.warning(s.position, "ignored: \(option) \(value) (lb adds the VIP with the prefix only, without \(option))")
                }
            } else if flags.contains(option) {
                sink.warning(s.position, "ignored: \(option) (lb has no equivalent)")
            } else {
                sink.error(s.position, "unknown virtual_ipaddress option '\(option)'")
            }
        }
        return (Located(CIDR(address: address, prefixLength: prefix), at: s.position), dev)
    }

    /// notify_master, _backup, _fault, _stop: the command as written, which lb runs with `/bin/sh -c` on
    /// that transition only, as keepalived runs it.
    mutating func stateScript(_ s: KeepalivedStatement) -> String? {
        guard let command = argument(s, 0, "a script") else { return nil }
        guard let program = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) else {
            sink.error(s.position, "\(s.keyword) names no script")
            return nil
        }
        if s.words.count > 2 {
            sink.warning(s.position, "ignored: \(s.keyword) as user \(s.arguments.dropFirst().joined(separator: " ")) (lb runs scripts as root)")
        }
        if !program.hasPrefix("/") {
            sink.error(s.position, "\(s.keyword) script '\(program)' is not an absolute path; keepalived resolves it against its own working directory, lb needs the full path")
            return nil
        }
        return command
    }

    mutating func notify(_ s: KeepalivedStatement) {
        guard let command = argument(s, 0, "a script") else { return }
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let program = words.first.map(String.init) else {
            sink.error(s.position, "\(s.keyword) names no script")
            return
        }
        if words.count > 1 {
            sink.warning(s.position, "ignored: the arguments '\(words.dropFirst().joined(separator: " "))' of \(s.keyword) (lb runs notifications.script with TYPE NAME STATE PRIORITY only)")
        }
        if s.words.count > 2 {
            sink.warning(s.position, "ignored: \(s.keyword) as user \(s.arguments.dropFirst().joined(separator: " ")) (lb runs scripts as root)")
        }
        if !program.hasPrefix("/") {
            sink.error(s.position, "\(s.keyword) script '\(program)' is not an absolute path; keepalived resolves it against its own working directory, lb needs the full path")
            return
        }
        scripts.append(Located(program, at: s.position))
    }
}
