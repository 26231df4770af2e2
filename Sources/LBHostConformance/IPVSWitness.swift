#if canImport(Glibc)
import Glibc
#endif
import LBHost
import LBNetlink
import LBSpec

/// An independent view of the IPVS table: ipvsadm, which reads the kernel through its own library.
public struct IPVSWitness: Sendable {
    public let ipvsadm: String

    public init?(ipvsadm: String = "/sbin/ipvsadm") {
        guard access(ipvsadm, X_OK) == 0 else { return nil }
        self.ipvsadm = ipvsadm
    }

    /// `ipvsadm -Sn` normalised to one sorted line per service and destination.
    public func listing() -> [String]? {
        guard let r = try? Subprocess.run(ipvsadm, ["-S", "-n"]), r.status == 0 else { return nil }
        return Self.normalise(saved: r.output)
    }

    /// Turns ipvsadm's save format ("-A -t 1.2.3.4:80 -s wrr -p 3600 -M 255.255.255.0") into canonical lines.
    static func normalise(saved: String) -> [String] {
        var out: [String] = []
        for raw in saved.split(separator: "\n") {
            let t = raw.split(separator: " ").map(String.init)
            guard let verb = t.first else { continue }
            var options: [String: String] = [:]
            var i = 1
            while i < t.count {
                let key = t[i]
                let value = i + 1 < t.count && !t[i + 1].hasPrefix("-") ? t[i + 1] : ""
                options[key] = value
                i += value.isEmpty ? 1 : 2
            }
            var proto = options["-t"] != nil ? "tcp" : (options["-u"] != nil ? "udp" : "?")
            var vip = options["-t"] ?? options["-u"] ?? "?"
            if let mark = options["-f"] {
                // A firewall-mark service: "-A -f 7 [-6] -s wrr", its family only in the -6 flag.
                proto = "fwmark"
                vip = "\(mark)/\(options["-6"] != nil ? "ipv6" : "ipv4")"
            }
            switch verb {
            case "-A":
                var line = "service \(proto) \(vip) \(options["-s"] ?? "?")"
                if let flags = options["-b"] { line += " flags \(flags.split(separator: ",").sorted().joined(separator: ","))" }
                // ipvsadm saves one-packet scheduling as a bare -o (ipvsadm.c, print_service_entry).
                if options["-o"] != nil { line += " ops" }
                if let p = options["-p"] { line += " persistent \(p)" }
                if let m = options["-M"] { line += " mask \(m)" }
                out.append(line)
            case "-a":
                let method = options["-g"] != nil ? "dr" : (options["-m"] != nil ? "nat" : (options["-i"] != nil ? "tun" : "?"))
                out.append("dest \(proto) \(vip) \(options["-r"] ?? "?") \(method) weight \(options["-w"] ?? "?")")
            default:
                continue
            }
        }
        return out.sorted()
    }

    /// The same canonical lines from lb's own observation, to compare with the witness.
    public static func lines(of table: IPVSTable) -> [String] {
        var out: [String] = []
        for entry in table.services {
            let s = entry.service
            let vip = s.key.fwmark.map { "\($0)/\(s.key.address.family.rawValue)" }
                ?? "\(Endpoint(address: s.key.address, port: Int(s.key.port)))"
            let proto = s.key.fwmark == nil ? s.key.protocol.rawValue : "fwmark"
            var line = "service \(proto) \(vip) \(s.scheduler)"
            var flags: [String] = []
            if s.flags & IPVSService.schedulerFlag1 != 0 { flags.append(s.scheduler == "sh" || s.scheduler == "mh" ? "\(s.scheduler)-fallback" : "flag-1") }
            if s.flags & IPVSService.schedulerFlag2 != 0 { flags.append(s.scheduler == "sh" || s.scheduler == "mh" ? "\(s.scheduler)-port" : "flag-2") }
            if !flags.isEmpty { line += " flags \(flags.sorted().joined(separator: ","))" }
            if s.flags & IPVSService.onePacketFlag != 0 { line += " ops" }
            if s.isPersistent {
                line += " persistent \(s.timeout)"
                if s.key.address.family == .ipv4 && s.netmask != .max { line += " mask \(IPAddress.v4(s.netmask))" }
                if s.key.address.family == .ipv6 && s.netmask != 128 { line += " mask \(s.netmask)" }
            }
            out.append(line)
            for d in entry.destinations {
                out.append("dest \(proto) \(vip) \(d.endpoint) \(d.forwarding.rawValue) weight \(d.weight)")
            }
        }
        return out.sorted()
    }
}
