import ArgumentParser
import LBHost
import LBNetlink
import LBSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Agent {
    /// `lb-agent inspect`: `ip addr`, `sysctl` and `ipvsadm -Ln --stats` in one view, read through netlink.
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what lb manages on this host: addresses with labels, the sysctls lb uses, IPVS services with stats, timeouts and sync daemons."
        )

        enum Format: String, ExpressibleByArgument { case text, json }

        @Option(name: .shortAndLong, help: "text (for people) or json (stable, for scripts).")
        var output: Format = .text

        func run() async throws {
            let host = LinuxHost()
            let names = try await host.observe(sysctls: []).interfaces.map(\.name)
            let state = try await host.observe(sysctls: ManagedSysctls.keys(interfaces: names), statistics: true)
            switch output {
            case .json:
                let data = try SpecJSON.encoder(pretty: true).encode(state)
                print(String(decoding: data, as: UTF8.self))
            case .text:
                print(InspectText.render(state), terminator: "")
            }
        }
    }
}

/// The human form of a host's state; ipvsadm's layout for the IPVS part, so operators read it at once.
public enum InspectText {
    public static func render(_ s: HostState) -> String {
        var out = "interfaces\n"
        for i in s.interfaces {
            out += "  \(i.index): \(i.name) \(i.isUp ? "up" : "down")\(i.isLoopback ? " loopback" : "")\n"
            for a in i.addresses {
                let scope = a.scope == 254 ? " scope host" : (a.scope == 253 ? " scope link" : "")
                let label = a.label.flatMap { $0 == i.name ? nil : " label \($0)" } ?? ""
                out += "      \(a.address)\(scope)\(label)\n"
            }
        }
        out += "sysctls\n"
        for (k, v) in s.sysctls.sorted(by: { $0.key < $1.key }) { out += "  \(k) = \(v)\n" }
        switch s.ipvs {
        case .unavailable(let reason):
            out += "ipvs: not available: \(reason)\n"
        case .available(let t):
            out += "ipvs \(t.version): timeouts tcp \(t.timeouts.tcp) tcpfin \(t.timeouts.tcpFin) udp \(t.timeouts.udp)\n"
            out += pad("Prot LocalAddress:Port Scheduler Flags", 46) + "Conns   InPkts  OutPkts  InBytes OutBytes\n"
            out += pad("  -> RemoteAddress:Port Forward Weight ActiveConn InActConn", 46) + "\n"
            for e in t.services.sorted(by: { $0.service.key < $1.service.key }) {
                let sv = e.service
                var line = "\(sv.key.protocol.rawValue.uppercased())  \(Endpoint(address: sv.key.address, port: Int(sv.key.port))) \(sv.scheduler)"
                let flags = [(IPVSService.schedulerFlag1, "fallback"), (IPVSService.schedulerFlag2, "port")]
                    .filter { sv.flags & $0.0 != 0 }.map { "\(sv.scheduler)-\($0.1)" }
                if !flags.isEmpty { line += " (\(flags.joined(separator: ",")))" }
                // Where ipvsadm -Ln puts it: after the flags, before persistence.
                if sv.flags & IPVSService.onePacketFlag != 0 { line += " ops" }
                if sv.isPersistent {
                    line += " persistent \(sv.timeout)"
                    if sv.key.address.family == .ipv4 && sv.netmask != .max { line += " mask \(IPAddress.v4(sv.netmask))" }
                }
                out += pad(line, 46) + stats(sv.stats) + "\n"
                for d in e.destinations {
                    let method = d.forwarding == .dr ? "Route" : (d.forwarding == .nat ? "Masq" : "Tunnel")
                    out += pad("  -> \(d.endpoint) \(method) \(d.weight) \(d.activeConnections) \(d.inactiveConnections)", 46) + stats(d.stats) + "\n"
                }
            }
            for d in t.syncDaemons { out += "sync daemon \(d.state.rawValue) on \(d.interface), sync id \(d.syncID)\n" }
        }
        return out
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    static func stats(_ s: IPVSStats?) -> String {
        guard let s else { return "" }
        return [s.connections, s.inPackets, s.outPackets, s.inBytes, s.outBytes].map { v in
            let t = String(v)
            return String(repeating: " ", count: max(0, 8 - t.count)) + t
        }.joined(separator: " ")
    }
}
