#if canImport(Glibc)
import Glibc
#endif
import LBHost
import LBHostConformance
import LBNetlink
import LBSpec

/// Runs the host conformance suite against the real kernel. It changes addresses, sysctls and IPVS,
/// so it refuses to run in the machine's own network namespace: tests start it in a scratch one.
@main
enum HostCheck {
    static func main() async {
        let args = Array(CommandLine.arguments.dropFirst())
        guard inScratchNamespace() else {
            print("lb-hostcheck: refusing to change this host: run it inside a scratch namespace (ip netns exec NAME), or with --scratch-host on a throwaway machine")
            exit(2)
        }
        let interface = value(of: "--interface", in: args) ?? "eth0"
        var results = await HostConformance(host: LinuxHost(), interface: interface,
                                            witness: args.contains("--witness") ? IPVSWitness() : nil).run()
        if args.contains("--events") { results.append(await eventCheck()) }
        if args.contains("--require-ipvs"), results.contains(where: { $0.name == "ipvs unavailable is reported and refused" }) {
            results.append(ConformanceResult(name: "IPVS present", failure: "this kernel has no IPVS"))
        }
        results.forEach { print($0) }
        let failed = results.filter { !$0.passed }.count
        print("lb-hostcheck: \(results.count - failed) passed, \(failed) failed")
        exit(failed == 0 ? 0 : 1)
    }

    static func value(of flag: String, in args: [String]) -> String? {
        guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
        return args[i + 1]
    }

    /// True inside a namespace made by `ip netns add` (its file under /run/netns is the same inode as
    /// ours), or anywhere with --scratch-host (the lab VM, which is thrown away as a whole).
    static func inScratchNamespace() -> Bool {
        if CommandLine.arguments.contains("--scratch-host") { return true }
        var mine = stat()
        guard stat("/proc/self/ns/net", &mine) == 0, let dir = opendir("/run/netns") else { return false }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            var other = stat()
            if name != ".", name != "..", stat("/run/netns/" + name, &other) == 0,
               other.st_ino == mine.st_ino, other.st_dev == mine.st_dev {
                return true
            }
        }
        return false
    }

    /// An address added by `ip addr` appears on the event stream.
    static func eventCheck() async -> ConformanceResult {
        let name = "rtnetlink events see an address added by ip"
        do {
            let events = try RouteEvents.subscribe()
            let target = CIDR("10.254.77.1/32")!
            let watcher = Task { () -> Bool in
                for try await event in events {
                    if case .addressAdded(let a) = event, a.address == target, a.label == "lo:7" { return true }
                }
                return false
            }
            let candidates: [String] = ["/sbin/ip", "/usr/sbin/ip", "/bin/ip"]
            let ip = candidates.first { (path: String) in access(path, X_OK) == 0 } ?? "/sbin/ip"
            let status = spawn(ip, ["addr", "add", "10.254.77.1/32", "dev", "lo", "label", "lo:7"])
            let timeout = Task { try await Task.sleep(nanoseconds: 5_000_000_000); watcher.cancel() }
            let seen = (try? await watcher.value) ?? false
            timeout.cancel()
            _ = spawn(ip, ["addr", "del", "10.254.77.1/32", "dev", "lo"])
            guard status == 0 else { return ConformanceResult(name: name, failure: "ip addr add exited \(status)") }
            return ConformanceResult(name: name, failure: seen ? nil : "no event within 5 s")
        } catch {
            return ConformanceResult(name: name, failure: "\(error)")
        }
    }

    static func spawn(_ path: String, _ args: [String]) -> Int32 {
        (try? Subprocess.run(path, args))?.status ?? -1
    }
}
