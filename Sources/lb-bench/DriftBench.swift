import Foundation
import LBAgentConfig
import LBCrypto
import LBDocument
import LBNetlink
import LBSpec
import LBVRRPLab

#if canImport(Glibc)
import Glibc
#endif

/// `lb-bench drift`: how fast a running `lb-agent run` puts back what was changed behind its back, and
/// how much memory it holds while idle. Two hosts in network namespaces of this machine: a real server
/// (VIP /32 on lo:0, ARP sysctls) and a director (the VRRP master of the VIP; this host's kernel has no
/// IPVS, so the IPVS figures come from the lab). Tampering goes through netlink and /proc/sys from
/// inside each namespace, and the repair is timed from the tampering call to the kernel's own event
/// (addresses) or the first read that shows the value back (sysctls, polled every 0.2 ms).
enum DriftBench {
    static func run(agent: String, runs: Int, keepalived: String?) throws -> String {
        let lab = try Lab(hosts: ["rs1", "lvs1"])
        defer { lab.destroy() }
        let dir = lab.directory
        let signer = SigningKey.generate()
        try KeyFile.writeKeyring(Keyring(keys: [ClusterKey.generate()]), to: "\(dir)/cluster.keyring")
        try KeyFile.writePublicKeys([KeyFileEntry(key: signer.publicKey)], to: "\(dir)/operators.pub")
        let vip = CIDR("10.99.0.200/24")!
        let spec = ClusterSpec(
            cluster: "bench",
            nodes: [Node(name: "rs1", address: CIDR("10.99.0.1/24")!), Node(name: "lvs1", address: CIDR("10.99.0.2/24")!)],
            vips: [VIP(name: "web", address: vip, vrrp: VRRPGroup(routerID: 51, directors: [Director(node: "lvs1", priority: 100)]),
                       services: [VirtualService(port: 80, realServers: [RealServer(node: "rs1")])])])
        let envelope = try DesiredStateDocument(spec: spec, version: 1, issuedAt: Date()).signed(by: [signer]).jsonEncoded()
        var pids: [String: pid_t] = [:]
        for (name, address) in [("rs1", "10.99.0.1"), ("lvs1", "10.99.0.2")] {
            let state = "\(dir)/\(name)-state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            // Restore first: the document is in the state directory, as after a reboot.
            try AtomicFile.write(envelope, to: "\(state)/document.json")
            let config = AgentConfig(node: name, cluster: "bench", gossip: .init(listen: Endpoint("\(address):7946")!, profile: .fast),
                                     keyring: "\(dir)/cluster.keyring", trust: .init(keys: "\(dir)/operators.pub"), stateDirectory: state,
                                     logLevel: .warning)
            try Lab.write("\(dir)/\(name).yaml", AgentConfigWriter.yaml(config))
            // A copy per host, as each real host has its own: two processes of one file share its pages,
            // which neither the kernel's accounting nor the agent's release of start-up pages treats alike.
            let binary = "\(dir)/lb-agent-\(name)"
            try FileManager.default.copyItem(atPath: agent, toPath: binary)
            pids[name] = try lab.start("agent-\(name)", on: name, [binary, "run", "--config", "\(dir)/\(name).yaml"]).pid
        }
        let rs1 = lab.host("rs1").namespace, lvs1 = lab.host("lvs1").namespace
        let host32 = CIDR(address: vip.address, prefixLength: 32)
        guard lab.wait(timeout: 30, until: { has(host32, on: "lo", in: rs1) && has(vip, on: "eth0", in: lvs1) }) != nil else {
            throw LabError("the agents did not converge; rs1's log:\n\(Lab.read("\(dir)/agent-rs1.log") ?? "")")
        }
        usleep(2_000_000)

        let address = try addressRepair(host32, interface: "lo", in: rs1, runs: runs)
        let sysctl = try sysctlRepair("net/ipv4/conf/eth0/arp_ignore", want: "1", tampered: "0", in: rs1, runs: runs)
        let vrrp = try addressRepair(vip, interface: "eth0", in: lvs1, runs: runs)

        // Idle: nothing changes for 10 s, then the resident set of each agent.
        usleep(10_000_000)
        var rss: [String: Int] = [:]
        for (name, pid) in pids { rss["\(name)_agent_kb"] = residentKB(pid) }
        var keepalivedRSS: Int?
        if let keepalived {
            keepalivedRSS = try keepalivedResident(keepalived, lab: lab, vip: vip)
        }
        func stats(_ ms: [Double]) -> String {
            let s = ms.sorted()
            return "{\"median\": \(fmt(s[s.count / 2])), \"p90\": \(fmt(s[min(s.count - 1, s.count * 9 / 10)])), \"max\": \(fmt(s.last!)), \"runs\": \(s.count)}"
        }
        return "{\"address_repair_ms\": \(stats(address)), \"sysctl_repair_ms\": \(stats(sysctl)), \"vrrp_vip_repair_ms\": \(stats(vrrp)), "
            + "\"rss_kb\": {\"real_server_agent\": \(rss["rs1_agent_kb"] ?? -1), \"director_agent\": \(rss["lvs1_agent_kb"] ?? -1), "
            + "\"keepalived_vrrp_only\": \(keepalivedRSS.map(String.init) ?? "null")}, "
            + "\"goals\": {\"address_ms\": 50, \"sysctl_ms\": 300, \"rss_kb\": 25600}}"
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Deletes `cidr` from `interface` through netlink in `namespace` and waits for the kernel to announce
    /// it added again; milliseconds per run.
    static func addressRepair(_ cidr: CIDR, interface: String, in namespace: String, runs: Int) throws -> [Double] {
        let (route, index, events) = try inNamespace(namespace) { () -> (RouteClient, Int32, AsyncThrowingStream<RouteEvent, any Error>) in
            let route = try RouteClient()
            guard let link = try route.links().first(where: { $0.name == interface }) else { throw LabError("no \(interface) in \(namespace)") }
            return (route, link.index, try RouteEvents.subscribe())
        }
        let readd = Waiter()
        let watcher = Thread {
            let done = DispatchSemaphore(value: 0)
            Task {
                do {
                    for try await e in events {
                        if case .addressAdded(let a) = e, a.address.address == cidr.address { readd.signal(Lab.now()) }
                    }
                } catch {}
                done.signal()
            }
            done.wait()
        }
        watcher.start()
        var out: [Double] = []
        for _ in 0..<runs {
            readd.reset()
            let t0 = Lab.now()
            let results = try route.execute([RouteMessages.deleteAddress(InterfaceAddress(interfaceIndex: index, address: cidr), interfaceName: interface)])
            if case .failure(let e) = results[0] { throw LabError("delete \(cidr): \(e)") }
            guard let t1 = readd.wait(seconds: 5) else { throw LabError("\(cidr) was not put back on \(interface) within 5 s") }
            out.append((t1 - t0) * 1000)
            pause()
        }
        return out
    }

    /// Writes `tampered` into a sysctl in `namespace` and polls until it reads `want` again.
    static func sysctlRepair(_ path: String, want: String, tampered: String, in namespace: String, runs: Int) throws -> [Double] {
        // /proc/sys/net belongs to the namespace of whoever opens it: open it from inside, use it from here.
        let fd = try inNamespace(namespace) { () -> Int32 in
            let fd = open("/proc/sys/\(path)", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw LabError("open /proc/sys/\(path): \(String(cString: strerror(errno)))") }
            return fd
        }
        defer { close(fd) }
        func read() -> String {
            var b = [UInt8](repeating: 0, count: 64)
            let n = pread(fd, &b, b.count, 0)
            return n > 0 ? String(decoding: b[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        }
        var out: [Double] = []
        for _ in 0..<runs {
            let bytes = Array((tampered + "\n").utf8)
            let t0 = Lab.now()
            guard pwrite(fd, bytes, bytes.count, 0) == bytes.count else { throw LabError("write \(path): \(String(cString: strerror(errno)))") }
            while read() != want {
                if Lab.now() - t0 > 5 { throw LabError("\(path) was not set back to \(want) within 5 s") }
                usleep(200)
            }
            out.append((Lab.now() - t0) * 1000)
            pause()
        }
        return out
    }

    /// 300 ms plus a random part, so tampering falls at every phase of the agent's periodic pass.
    static func pause() { usleep(300_000 + UInt32.random(in: 0..<250_000)) }

    static func residentKB(_ pid: pid_t) -> Int {
        guard let status = Lab.read("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return -1 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    /// keepalived holding the same VIP as a VRRP master (`-P`: VRRP only, since this kernel has no IPVS),
    /// idle for 10 s: the resident sets of its processes added up.
    static func keepalivedResident(_ keepalived: String, lab: Lab, vip: CIDR) throws -> Int {
        let dir = lab.directory
        try Lab.write("\(dir)/keepalived.conf", """
        vrrp_instance VI_52 {
            state MASTER
            interface eth0
            virtual_router_id 52
            priority 100
            advert_int 1
            virtual_ipaddress {
                10.99.0.201/24
            }
        }

        """)
        _ = try lab.start("keepalived", on: "lvs1", [keepalived, "-n", "-l", "-D", "-P", "-f", "\(dir)/keepalived.conf", "-p", "\(dir)/k.pid",
                                                     "-r", "\(dir)/k.vrrp.pid", "-c", "\(dir)/k.chk.pid", "-b", "\(dir)/k.bfd.pid"])
        guard lab.wait(timeout: 15, until: { has(CIDR("10.99.0.201/24")!, on: "eth0", in: lab.host("lvs1").namespace) }) != nil else {
            throw LabError("keepalived did not become master: \(Lab.read("\(dir)/keepalived.log") ?? "")")
        }
        usleep(10_000_000)
        var total = 0
        for file in ["k.pid", "k.vrrp.pid"] {
            if let text = Lab.read("\(dir)/\(file)"), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                total += max(0, residentKB(pid))
            }
        }
        return total
    }

    static func has(_ cidr: CIDR, on interface: String, in namespace: String) -> Bool {
        shell(["ip", "-n", namespace, "-o", "addr", "show", "dev", interface]).output.contains("inet \(cidr) ")
    }
}

/// One timestamp handed from the event thread to the measuring loop.
final class Waiter: @unchecked Sendable {
    private let condition = NSCondition()
    private var at: Double?

    func reset() { condition.lock(); at = nil; condition.unlock() }

    func signal(_ t: Double) {
        condition.lock()
        if at == nil { at = t }
        condition.signal()
        condition.unlock()
    }

    func wait(seconds: Double) -> Double? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while at == nil { if !condition.wait(until: deadline) { break } }
        return at
    }
}
