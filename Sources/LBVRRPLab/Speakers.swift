#if canImport(Glibc)
import Glibc
#endif
import LBSpec
import LBVRRP

/// One VRRP router's settings, rendered for either implementation so both run with exactly the same ones.
public struct PeerSettings: Sendable {
    public var vrid = 51
    public var priority: Int
    public var version: VRRPVersion = .v2
    public var intervalCentiseconds = 100
    public var password: String?
    public var preempt = true
    public var preemptDelaySeconds = 0
    public var unicastPeers: [IPAddress] = []
    public var vip = CIDR("10.99.0.200/24")!

    public init(priority: Int, version: VRRPVersion = .v2, intervalCentiseconds: Int = 100, password: String? = nil,
                preempt: Bool = true, unicastPeers: [IPAddress] = []) {
        self.priority = priority
        self.version = version
        self.intervalCentiseconds = intervalCentiseconds
        self.password = password
        self.preempt = preempt
        self.unicastPeers = unicastPeers
    }

    var intervalText: String {
        intervalCentiseconds % 100 == 0 ? "\(intervalCentiseconds / 100)"
            : "\(intervalCentiseconds / 100).\(intervalCentiseconds % 100 < 10 ? "0" : "")\(intervalCentiseconds % 100)"
    }

    /// keepalived.conf for one instance on eth0 (state BACKUP, as nopreempt requires; the election decides).
    public func keepalivedConfiguration(routerID: String, source: IPAddress) -> String {
        var lines = ["global_defs {", "  router_id \(routerID)", "}", "vrrp_instance VI_\(vrid) {",
                     "  state BACKUP", "  interface eth0", "  virtual_router_id \(vrid)", "  priority \(priority)",
                     "  advert_int \(intervalText)", "  version \(version.rawValue)"]
        if !preempt { lines.append("  nopreempt") }
        if preemptDelaySeconds > 0 { lines.append("  preempt_delay \(preemptDelaySeconds)") }
        if let password { lines += ["  authentication {", "    auth_type PASS", "    auth_pass \(password)", "  }"] }
        if !unicastPeers.isEmpty {
            lines.append("  unicast_src_ip \(source)")
            lines += ["  unicast_peer {"] + unicastPeers.map { "    \($0)" } + ["  }"]
        }
        lines += ["  virtual_ipaddress {", "    \(vip) dev eth0", "  }", "}"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `lb-agent vrrp` command line for the same settings.
    public func agentArguments(agent: String) -> [String] {
        var args = [agent, "vrrp", "--interface", "eth0", "--vrid", "\(vrid)", "--priority", "\(priority)",
                    "--vip", vip.description, "--advert-interval", intervalText, "--version", "\(version.rawValue)"]
        if let password { args += ["--auth-pass", password] }
        if !preempt { args.append("--nopreempt") }
        if preemptDelaySeconds > 0 { args += ["--preempt-delay", "\(preemptDelaySeconds)"] }
        for p in unicastPeers { args += ["--unicast-peer", p.description] }
        return args
    }
}

/// Which implementation runs on a host.
public enum Implementation: String, Sendable, CaseIterable {
    case lb = "lb-agent"
    case keepalived
}

/// A running speaker of either kind.
public struct Speaker: Sendable {
    public var implementation: Implementation
    public var host: String
    public var daemon: Daemon
    /// The process that does VRRP: keepalived's VRRP child, lb-agent itself.
    public var vrrpPID: pid_t

    /// SIGTERM as an operator's `systemctl stop` sends it.
    public func terminate() { daemon.signal(SIGTERM) }
    /// SIGKILL to every process of the speaker: a crash.
    public func crash() { daemon.crash() }
}

public let keepalivedPath = "/usr/sbin/keepalived"

extension Lab {
    /// Starts keepalived (VRRP only, foreground, console log) with `settings` on `host`.
    public func startKeepalived(on host: String, _ settings: PeerSettings, tag: String = "") throws -> Speaker {
        guard access(keepalivedPath, X_OK) == 0 else {
            throw LabError("keepalived is not installed at \(keepalivedPath): the interop tests need the Debian package (make test installs it)")
        }
        let h = self.host(host)
        let base = "\(directory)/keepalived-\(host)\(tag)"
        try Lab.write("\(base).conf", settings.keepalivedConfiguration(routerID: "\(prefix)-\(host)", source: h.address))
        let d = try start("keepalived-\(host)\(tag)", on: host,
                          [keepalivedPath, "-n", "-l", "-D", "-P", "-f", "\(base).conf", "-p", "\(base).pid", "-r", "\(base).vrrp.pid",
                           "-c", "\(base).chk.pid", "-b", "\(base).bfd.pid"])
        // The VRRP child writes its pid file once it runs.
        var child: pid_t = 0
        _ = wait(timeout: 5) {
            if let text = Lab.read("\(base).vrrp.pid"), let p = pid_t(text.trimmedWhitespace()), p > 0 { child = p; return true }
            return d.hasExited
        }
        guard child > 0 else { throw LabError("keepalived on \(host) did not start its VRRP process:\n\(d.output)") }
        return Speaker(implementation: .keepalived, host: host, daemon: d, vrrpPID: child)
    }

    /// Starts `lb-agent vrrp` with `settings` on `host`.
    public func startAgent(_ agent: String, on host: String, _ settings: PeerSettings, tag: String = "") throws -> Speaker {
        let d = try start("lb-agent-\(host)\(tag)", on: host, settings.agentArguments(agent: agent))
        return Speaker(implementation: .lb, host: host, daemon: d, vrrpPID: d.pid)
    }

    public func startSpeaker(_ implementation: Implementation, agent: String, on host: String, _ settings: PeerSettings, tag: String = "") throws -> Speaker {
        switch implementation {
        case .lb: return try startAgent(agent, on: host, settings, tag: tag)
        case .keepalived: return try startKeepalived(on: host, settings, tag: tag)
        }
    }
}

extension String {
    func trimmedWhitespace() -> String {
        let ws: Set<Character> = [" ", "\n", "\t", "\r"]
        return String(drop(while: { ws.contains($0) }).reversed().drop(while: { ws.contains($0) }).reversed())
    }
}
