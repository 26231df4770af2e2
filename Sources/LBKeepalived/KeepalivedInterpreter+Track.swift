import LBSpec

/// vrrp_script and track_script: the scripts a vrrp_instance tracks, as its VRRP group's track_scripts.
extension KeepalivedReader {
    // MARK: vrrp_script

    /// `vrrp_script NAME { script …; interval; timeout; weight W [reverse]; rise; fall; user; init_fail }`,
    /// with keepalived 2.2.7's defaults (alloc_vrrp_script: interval 1 s, timeout the interval, weight 0,
    /// rise and fall 1) and its handling of values it rejects (vrrp_parser.c).
    mutating func vrrpScript(_ v: KeepalivedStatement) {
        guard let name = argument(v, 0, "a script name") else { return }
        var t = TrackScript(name: name, command: "")
        var command: String?
        for s in v.block ?? [] {
            guard KeepalivedKeywords.vrrpScript.contains(s.keyword) else {
                unknown(s, in: "vrrp_script", known: KeepalivedKeywords.vrrpScript)
                continue
            }
            guard checkBlock(s, takesBlock: false) else { continue }
            switch s.keyword {
            case "script":
                // keepalived splits the rest of the line into the program and its arguments; /bin/sh -c runs
                // the same words the same way.
                if argument(s, 0, "the command to run") != nil { command = s.arguments.joined(separator: " ") }
            case "interval", "timeout":
                let otherwise = s.keyword == "interval" ? "ignores the line and runs it every second" : "ignores the line and gives each run the interval"
                if let seconds = unsigned(s, 0, range: 0...Int(UInt32.max) / 1_000_000, what: s.keyword, otherwise: otherwise) {
                    var value = seconds
                    if seconds == 0 {
                        rejected(s.position, "vrrp_script \(s.keyword) 0", otherwise: "sets it to 1 s")
                        value = 1
                    }
                    if s.keyword == "interval" { t.intervalSeconds = value } else { t.timeoutSeconds = value }
                }
            case "weight":
                if let (weight, reverse) = weight(s, range: -253...253, otherwise: "keeps weight 0") {
                    t.weight = weight
                    t.reverse = reverse
                }
            case "rise", "fall":
                let value = unsigned(s, 0, range: 1...Int(Int32.max), what: s.keyword, otherwise: "uses 1") ?? 1
                if s.keyword == "rise" { t.rise = value } else { t.fall = value }
            case "user":
                if s.arguments.first != "root" { ignored(s, "lb runs track scripts as root") }
            default:
                ignored(s, "lb starts a script unknown and takes its first result, success or failure")
            }
        }
        guard let command, !command.isEmpty else {
            sink.warning(v.position, "vrrp_script \(name) has no script: keepalived -t reports it, and keepalived, when it runs, removes it; not imported")
            return
        }
        t.command = command
        if let first = vrrpScripts[name] {
            sink.warning(v.position, "a second vrrp_script \(name) (the first is at \(first.position)); keepalived uses the first, and so does the import")
            return
        }
        vrrpScripts[name] = Located(t, at: v.position)
    }

    /// `weight W [reverse|noreverse]` of a vrrp_script (at index 0) or a track_script line (at index 1).
    /// keepalived turns ±254 into ±253 and ignores a weight it cannot read.
    mutating func weight(_ s: KeepalivedStatement, at index: Int = 0, range: ClosedRange<Int>, otherwise: String, noreverse: Bool = true) -> (Int, Bool)? {
        guard s.words.count > index + 1 else {
            rejected(s.position, "weight without a value", otherwise: otherwise)
            return nil
        }
        let text = s.words[index + 1].text
        let magnitude = text.hasPrefix("-") || text.hasPrefix("+") ? String(text.dropFirst()) : text
        guard let m = Self.parseUnsigned(magnitude), m <= 254, range.contains(text.hasPrefix("-") ? -m : m) || m == 254 else {
            rejected(s.position, "weight '\(text)' is not a whole number in \(range.lowerBound)–\(range.upperBound)", otherwise: otherwise)
            return nil
        }
        var value = text.hasPrefix("-") ? -m : m
        if m == 254 {
            rejected(s.position, "weight \(value) would take any priority past an end of 1–254", otherwise: "uses \(value < 0 ? -253 : 253)")
            value = value < 0 ? -253 : 253
        }
        var reverse = false
        if s.words.count > index + 2 {
            switch s.words[index + 2].text {
            case "reverse": reverse = true
            case "noreverse" where index > 0 && noreverse: reverse = false
            case let other: rejected(s.position, "unknown weight option '\(other)'", otherwise: "ignores it")
            }
        }
        if s.words.count > index + 3 { extra(s, after: index + 2) }
        return (value, reverse)
    }

    // MARK: track_script

    /// A vrrp_instance's `track_script { NAME [weight W [reverse|noreverse]] … }`: the named scripts, each
    /// with the weight of its line or else the script's own (alloc_track_script).
    mutating func trackScripts(_ block: KeepalivedStatement, instance: String) -> [TrackScript] {
        var out: [TrackScript] = []
        for line in block.block ?? [] {
            guard checkBlock(line, takesBlock: false) else { continue }
            guard let script = vrrpScripts[line.keyword] else {
                sink.warning(line.position, "track script \(line.keyword) of \(instance) is no vrrp_script of this file: keepalived -t reports it, and keepalived, when it runs, ignores the line; not imported")
                continue
            }
            if out.contains(where: { $0.name == line.keyword }) {
                sink.warning(line.position, "duplicate track_script \(line.keyword) in \(instance): keepalived ignores the line, and so does the import")
                continue
            }
            var t = script.value
            if line.words.count > 1 {
                if line.words[1].text == "weight" {
                    if let (weight, reverse) = weight(line, at: 1, range: -254...254, otherwise: "uses the vrrp_script's weight") {
                        t.weight = weight
                        t.reverse = reverse
                    }
                } else {
                    rejected(line.position, "unknown track_script option '\(line.words[1].text)'", otherwise: "ignores it")
                }
            }
            out.append(t)
        }
        return out
    }
}

extension KeepalivedReader {
    // MARK: track_interface

    /// A vrrp_instance's `track_interface { IF [weight W [reverse]] … }` (alloc_track_if in vrrp_track.c):
    /// an unknown option drops the line, a weight keepalived cannot read is 0 (FAULT while down).
    mutating func trackInterfaces(_ block: KeepalivedStatement, instance: String, into out: inout [TrackInterface]) {
        for line in block.block ?? [] {
            guard checkBlock(line, takesBlock: false) else { continue }
            if out.contains(where: { $0.interface == line.keyword }) {
                sink.warning(line.position, "duplicate track_interface \(line.keyword) in \(instance): keepalived ignores the line, and so does the import")
                continue
            }
            var t = TrackInterface(interface: line.keyword)
            if line.words.count > 1 {
                guard line.words[1].text == "weight" else {
                    rejected(line.position, "unknown track_interface option '\(line.words[1].text)'", otherwise: "ignores the line", imported: "not imported")
                    continue
                }
                guard line.words.count > 2 else {
                    rejected(line.position, "track_interface \(line.keyword) weight without a value", otherwise: "ignores the line", imported: "not imported")
                    continue
                }
                if let (weight, reverse) = weight(line, at: 1, range: -254...254, otherwise: "uses weight 0 (FAULT while the link is down)", noreverse: false) {
                    t.weight = weight
                    t.reverse = reverse
                }
            }
            out.append(t)
        }
    }
}
