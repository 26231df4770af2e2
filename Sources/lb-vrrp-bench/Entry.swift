#if canImport(Glibc)
import Glibc
#endif
import LBSpec
import LBVRRP
import LBVRRPLab

/// Failover time of a pair of lb-agents against a pair of keepalived instances, in network namespaces on
/// this machine, with the same settings for both: from killing the master (SIGKILL, and separately
/// SIGTERM) until the VIP answers ARP on the backup. Run it with scripts/bench-vrrp.sh (root).
///
///     lb-vrrp-bench [--runs N] [--agent PATH] [--only v2|v3]   the benchmark, a table at the end
///     lb-vrrp-bench probe ...                      the stopwatch, run inside the client namespace
nonisolated(unsafe) var labToDestroyOnSIGINT: Lab?

@main
enum Bench {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "probe" { exit(probe(args)) }
        guard geteuid() == 0 else {
            print("lb-vrrp-bench makes network namespaces: run it as root (scripts/bench-vrrp.sh)")
            exit(2)
        }
        let runs = Int(value("--runs", args) ?? "") ?? 5
        let agent = value("--agent", args) ?? directory(of: selfPath()) + "/lb-agent"
        guard access(agent, X_OK) == 0 else { print("no lb-agent at \(agent) (--agent PATH)"); exit(2) }
        guard access(keepalivedPath, X_OK) == 0 else { print("keepalived is not installed (apt-get install keepalived)"); exit(2) }
        let only = value("--only", args)
        exit(benchmark(runs: runs, agent: agent, settings: settings.filter { only == nil || $0.label.hasPrefix(only!) }))
    }

    struct Setting {
        var label: String
        var version: VRRPVersion
        var centiseconds: Int
        var password: String?
    }

    static let settings = [Setting(label: "v2 advert 1 s", version: .v2, centiseconds: 100, password: "s3cret"),
                           Setting(label: "v3 advert 0.1 s", version: .v3, centiseconds: 10, password: nil)]

    static func benchmark(runs: Int, agent: String, settings: [Setting]) -> Int32 {
        let lab: Lab
        do {
            lab = try Lab(hosts: ["a", "b"], client: "c")
        } catch {
            print("cannot build the lab: \(error)")
            return 1
        }
        defer { lab.destroy() }
        // Leave the lab clean on Ctrl-C too.
        labToDestroyOnSIGINT = lab
        signal(SIGINT) { _ in labToDestroyOnSIGINT?.destroy(); exit(130) }

        var results: [(setting: String, signal: String, impl: Implementation, ms: [Double])] = []
        var failed = false
        for setting in settings {
            for sig in [SIGKILL, SIGTERM] {
                for impl in Implementation.allCases {
                    var times: [Double] = []
                    for run in 1...runs {
                        do {
                            let ms = try once(lab: lab, agent: agent, impl: impl, setting: setting, signal: sig, run: run)
                            times.append(ms)
                            print("\(impl.rawValue) \(setting.label) \(name(sig)) run \(run): \(format(ms)) ms")
                        } catch {
                            print("\(impl.rawValue) \(setting.label) \(name(sig)) run \(run): FAILED: \(error)")
                            failed = true
                        }
                    }
                    results.append((setting.label, name(sig), impl, times))
                }
            }
        }

        print("\nfailover: kill the master 5 ms after one of its adverts → the VIP answers ARP on the backup (0.25 ms resolution);")
        print("median (min–max) of \(runs) runs, ms")
        print("| setting | signal | lb-agent | keepalived | goal |")
        print("| --- | --- | --- | --- | --- |")
        var missed = false
        for setting in settings {
            for sig in ["SIGKILL", "SIGTERM"] {
                let lb = results.first { $0.setting == setting.label && $0.signal == sig && $0.impl == .lb }!.ms
                let ka = results.first { $0.setting == setting.label && $0.signal == sig && $0.impl == .keepalived }!.ms
                var goal = "≤ keepalived"
                var ok = !lb.isEmpty && !ka.isEmpty && median(lb) <= median(ka)
                if setting.version == .v3 {
                    let limit = sig == "SIGKILL" ? 400.0 : 100.0
                    goal += ", ≤ \(Int(limit))"
                    ok = ok && median(lb) <= limit
                }
                missed = missed || !ok
                print("| \(setting.label) | \(sig) | \(summary(lb)) | \(summary(ka)) | \(goal): \(ok ? "met" : "MISSED") |")
            }
        }
        return failed || missed ? 1 : 0
    }

    /// One run: master on a (priority 150), backup on b (priority 100), both of `impl`.
    static func once(lab: Lab, agent: String, impl: Implementation, setting: Setting, signal sig: Int32, run: Int) throws -> Double {
        var master = PeerSettings(priority: 150, version: setting.version, intervalCentiseconds: setting.centiseconds, password: setting.password)
        var backup = master
        backup.priority = 100
        master.vrid = 51
        let vip = master.vip
        let interval = Double(setting.centiseconds) / 100
        defer {
            lab.removeAddress(vip, from: "a")
            lab.removeAddress(vip, from: "b")
        }
        let m = try lab.startSpeaker(impl, agent: agent, on: "a", master, tag: "-\(run)")
        defer { m.daemon.stop() }
        guard lab.wait(timeout: 4 * interval + 5, until: { lab.holders(of: vip.address) == ["a"] }) != nil else {
            throw LabError("the master did not take the VIP:\n\(m.daemon.output)")
        }
        let b = try lab.startSpeaker(impl, agent: agent, on: "b", backup, tag: "-\(run)")
        defer {
            b.terminate()
            if !b.daemon.waitForExit(timeout: 3) { b.daemon.stop() }
        }
        // Let the backup start and hear a few adverts.
        usleep(UInt32((1.5 * interval + 0.5) * 1_000_000))
        guard lab.holders(of: vip.address) == ["a"] else { throw LabError("the backup took the VIP while the master was up:\n\(b.daemon.output)") }
        let target = sig == SIGKILL ? -m.daemon.pid : m.daemon.pid
        let client = lab.host("c"), backupHost = lab.host("b")
        let (status, output) = LBVRRPLab.shell(["ip", "netns", "exec", client.namespace, selfPath(), "probe",
                                              "--sender", client.address.description, "--vip", vip.address.description,
                                              "--master", lab.host("a").address.description, "--backup-mac", backupHost.macText,
                                              "--target", "\(target)", "--signal", "\(sig)"])
        guard status == 0, let ms = Double(output.split(separator: "\n").last.map(String.init) ?? "") else {
            throw LabError("probe: \(output)\n--- backup log:\n\(b.daemon.output)")
        }
        return ms
    }

    static func probe(_ args: [String]) -> Int32 {
        guard let sender = value("--sender", args).flatMap(IPAddress.init), let vip = value("--vip", args).flatMap(IPAddress.init),
              let master = value("--master", args).flatMap(IPAddress.init),
              let mac = value("--backup-mac", args)?.split(separator: ":").compactMap({ UInt8($0, radix: 16) }), mac.count == 6,
              let target = value("--target", args).flatMap({ pid_t($0) }), let sig = value("--signal", args).flatMap({ Int32($0) })
        else {
            print("usage: lb-vrrp-bench probe --sender IP --vip IP --master IP --backup-mac MAC --target PID|-PGID --signal N")
            return 2
        }
        do {
            let ms = try FailoverProbe(sender: sender, vip: vip, master: master, backupMAC: mac, target: target, signal: sig).run()
            print(format(ms))
            return 0
        } catch {
            print("probe: \(error)")
            return 1
        }
    }

    static func value(_ flag: String, _ args: [String]) -> String? {
        guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
        return args[i + 1]
    }

    static func name(_ sig: Int32) -> String { sig == SIGKILL ? "SIGKILL" : "SIGTERM" }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .infinity }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func summary(_ xs: [Double]) -> String {
        guard let lo = xs.min(), let hi = xs.max() else { return "no runs" }
        return "\(format(median(xs))) (\(format(lo))–\(format(hi)))"
    }

    static func format(_ ms: Double) -> String {
        let tenths = Int((ms * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func selfPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }
}
