#if canImport(Glibc)
import Glibc
#endif
import LBHost
import LBNetlink
import LBSpec

/// Benchmarks that anyone can rerun (README). `lb-bench ipvs` needs a throwaway kernel with IPVS: it
/// flushes the IPVS table. Run it in the lab: `make bench-ipvs`.
@main
enum Bench {
    static func main() async {
        let args = Array(CommandLine.arguments.dropFirst())
        switch args.first {
        case "ipvs":
            guard args.contains("--scratch-host") else {
                print("lb-bench ipvs flushes the IPVS table; run it in the lab (make bench-ipvs), or pass --scratch-host on a throwaway machine")
                exit(2)
            }
            let services = Int(value("--services", args) ?? "") ?? 10_000
            let destinations = Int(value("--destinations", args) ?? "") ?? 4
            exit(await ipvs(services: services, destinations: destinations, ipvsadm: value("--ipvsadm", args) ?? "/sbin/ipvsadm", args: args))
        case "parse-listing":
            // Times ProcIPVS on a saved /proc/net/ip_vs, natively, to separate parsing from the VM's cost.
            guard let path = args.dropFirst().first, let bytes = ProcIPVS.readAll(path) else { print("usage: lb-bench parse-listing FILE"); exit(2) }
            let t = now()
            let table = ProcIPVS.parseTable(bytes: bytes)
            print("{\"bytes\": \(bytes.count), \"services\": \(table?.count ?? -1), \"parse_ms\": \(now() - t)}")
        case "drift":
            guard let agent = value("--agent", args) else { print("usage: lb-bench drift --agent PATH [--runs N] [--keepalived PATH]"); exit(2) }
            do {
                print(try DriftBench.run(agent: agent, runs: Int(value("--runs", args) ?? "") ?? 20, keepalived: value("--keepalived", args)))
            } catch {
                print("lb-bench drift: \(error)")
                exit(1)
            }
        case "gossip":
            let members = Int(value("--members", args) ?? "") ?? 1000
            let seed = UInt64(value("--seed", args) ?? "") ?? 1
            guard members >= 3 else { print("lb-bench gossip: --members must be at least 3"); exit(2) }
            let loss = Double(value("--loss", args) ?? "") ?? 0
            guard (0..<1).contains(loss) else { print("lb-bench gossip: --loss is a probability below 1, such as 0.1"); exit(2) }
            print(GossipBench.run(members: members, seed: seed, quiet: .seconds(Int64(value("--quiet-s", args) ?? "") ?? 20), loss: loss,
                                    counters: args.contains("--counters")))
        case "health-listener":
            do { try HealthBench.listen(port: Int(args.dropFirst().first ?? "") ?? 8080) } catch { print("lb-bench health-listener: \(error)"); exit(1) }
        case "health":
            let checks = Int(value("--checks", args) ?? "") ?? 10_000
            let interval = Duration.milliseconds(Int(value("--interval-ms", args) ?? "") ?? 5000)
            let rounds = Int(value("--rounds", args) ?? "") ?? 4
            guard let mode = HealthBench.Mode(rawValue: value("--listener", args) ?? "remote") else {
                print("lb-bench health: --listener is remote or loopback")
                exit(2)
            }
            do {
                print(try await HealthBench.run(checks: checks, interval: interval, rounds: rounds, mode: mode))
            } catch {
                print("lb-bench health: \(error)")
                exit(1)
            }
        case "status-page":
            guard let nodes = Int(value("--nodes", args) ?? "1000"), nodes > 0 else { print("lb-bench status-page: --nodes is a positive number"); exit(2) }
            do {
                print(try await StatusPageBench.run(nodes: nodes))
            } catch {
                print("lb-bench status-page: \(error)")
                exit(1)
            }
        case "apply":
            guard let controller = value("--controller", args), let agent = value("--agent", args), let lbctl = value("--lbctl", args) else {
                print("usage: lb-bench apply --controller PATH --agent PATH --lbctl PATH [--agents N] [--runs R] [--profile lan|fast]")
                exit(2)
            }
            guard let profile = ControllerBench.DaemonProfile(rawValue: value("--profile", args) ?? "lan") else { print("lb-bench apply: --profile is lan or fast"); exit(2) }
            do {
                print(try ControllerBench.apply(controller: controller, agent: agent, lbctl: lbctl, agents: Int(value("--agents", args) ?? "") ?? 4,
                                                runs: Int(value("--runs", args) ?? "") ?? 10, profile: profile))
            } catch {
                print("lb-bench apply: \(error)")
                exit(1)
            }
        case "status-api":
            do {
                print(try await ControllerBench.statusAPI(nodes: Int(value("--nodes", args) ?? "") ?? 1000, requests: Int(value("--requests", args) ?? "") ?? 50))
            } catch {
                print("lb-bench status-api: \(error)")
                exit(1)
            }
        case "websocket":
            exit(await WebSocketBench.main(Array(args.dropFirst())))
        default:
            print(WebSocketBench.usage)
            print("usage: lb-bench apply --controller PATH --agent PATH --lbctl PATH [--agents N] [--runs R] [--profile lan|fast]   (root)")
            print("usage: lb-bench status-api [--nodes N] [--requests R]")
            print("usage: lb-bench status-page [--nodes N]   (needs chromium: make deps)")
            print("usage: lb-bench health [--checks N] [--interval-ms MS] [--rounds R] [--listener remote|loopback]   (root: namespaces of its own)")
            print("usage: lb-bench gossip [--members N] [--seed S] [--quiet-s SECONDS] [--loss P] [--counters]")
            print("usage: lb-bench ipvs --scratch-host [--services N] [--destinations M] [--ipvsadm PATH]")
            print("usage: lb-bench drift --agent PATH [--runs N] [--keepalived PATH]   (root: network namespaces)")
            exit(2)
        }
    }

    static func value(_ flag: String, _ args: [String]) -> String? {
        guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
        return args[i + 1]
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
    }

    /// VIPs in 172.16.0.0/12, real servers in 10.128.0.0/9 (the lab routes 10.0.0.0/8 on its interface).
    static func table(services: Int, destinations: Int) -> DesiredIPVS {
        let entries = (0..<services).map { i -> IPVSTable.Entry in
            let vip = IPAddress.v4(0xAC10_0000 + UInt32(i))
            let service = IPVSService(key: IPVSServiceKey(address: vip, port: 80, protocol: .tcp), scheduler: "wrr")
            let dests = (0..<destinations).map { d in
                IPVSDestination(address: .v4(0x0A80_0000 + UInt32(i * destinations + d)), port: 80, forwarding: .dr, weight: 1)
            }
            return IPVSTable.Entry(service: service, destinations: dests)
        }
        return DesiredIPVS(services: entries, timeouts: IPVSTimeoutConfig(tcp: 900, tcpFin: 120, udp: 300))
    }

    static func ipvs(services: Int, destinations: Int, ipvsadm: String, args: [String] = []) async -> Int32 {
        let host = LinuxHost()
        let desired = DesiredHostState(ipvs: table(services: services, destinations: destinations))
        do {
            try flush()
            let t0 = now()
            let empty = try await host.observe(sysctls: [])
            let actions = HostDiff.actions(desired: desired, observed: empty)
            let report = await host.apply(actions)
            let applyMs = now() - t0
            guard report.succeeded else {
                print("apply failed: \(report.errors.prefix(3).map(\.message))")
                return 1
            }
            let t1 = now()
            let observed = try await host.observe(sysctls: [])
            let observeMs = now() - t1
            let remaining = HostDiff.actions(desired: desired, observed: observed)
            let noopMs = now() - t1
            let observedServices = observed.ipvs.table?.services.count ?? 0
            // Where observing goes: the service dump alone, then every destination dump.
            let client = try IPVSClient()
            let t3 = now()
            _ = try client.services()
            let serviceDumpMs = now() - t3
            let t4 = now()
            let proc = ProcIPVS.readAll("/proc/net/ip_vs") ?? []
            let procReadMs = now() - t4
            let t5 = now()
            _ = ProcIPVS.parse(bytes: proc)
            let procParseMs = now() - t5
            if args.contains("--skip-ipvsadm") {
                print("""
                {"services": \(services), "apply_ms": \(Int(applyMs)), "noop_observe_diff_ms": \(Int(noopMs)), \
                "observe_ms": \(Int(observeMs)), "service_dump_ms": \(Int(serviceDumpMs)), "proc_read_ms": \(Int(procReadMs)), "proc_bytes": \(proc.count), "proc_parse_ms": \(Int(procParseMs)), "noop_actions": \(remaining.count)}
                """)
                try flush()
                return 0
            }

            try flush()
            let rules = desired.ipvs!.services.flatMap { e -> [String] in
                ["-A -t \(e.service.key.address):80 -s wrr"] + e.destinations.map { "-a -t \(e.service.key.address):80 -r \($0.address):80 -g -w 1" }
            }.joined(separator: "\n") + "\n"
            let path = "/tmp/lb-bench-rules.txt"
            let f = fopen(path, "w")
            fputs(rules, f)
            fclose(f)
            let t2 = now()
            let status = system("\(ipvsadm) -R < \(path)")
            let restoreMs = now() - t2
            let restored = (try await host.observe(sysctls: [])).ipvs.table?.services.count ?? 0
            try flush()
            print("""
            {"services": \(services), "destinations_per_service": \(destinations), "actions": \(actions.count), \
            "apply_ms": \(Int(applyMs)), "noop_observe_diff_ms": \(Int(noopMs)), "noop_actions": \(remaining.count), \
            "observe_ms": \(Int(observeMs)), "service_dump_ms": \(Int(serviceDumpMs)), "observed_services": \(observedServices), "ipvsadm_restore_ms": \(Int(restoreMs)), "ipvsadm_status": \(status), \
            "ipvsadm_restored_services": \(restored)}
            """)
            return remaining.isEmpty && observedServices == services && restored == services ? 0 : 1
        } catch {
            print("lb-bench ipvs: \(error)")
            return 1
        }
    }

    static func flush() throws {
        let client = try IPVSClient()
        _ = try client.execute([client.messages.flush()])
    }
}
