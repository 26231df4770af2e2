import AsyncHTTPClient
import Foundation
import LBAgentConfig
import LBClusterView
import LBController
import LBControllerAPI
import LBControllerConfig
import LBCrypto
import LBDocument
import LBHistory
import LBReport
import LBSpec
import LBSpecYAML
import LBVRRPLab
import Logging
import NIOCore
import Hummingbird
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `lb-bench apply` and `lb-bench status-api`: the controller's two speed goals.
///
/// `apply`: lb-controller and N `lb-agent run` real servers as processes in network namespaces of this
/// machine; each run is `lbctl apply --yes` of a spec that moves the VIP (so every real server changes
/// its lo), timed from starting lbctl to the controller's status showing every real server converged
/// on the new version. This kernel has no IPVS, so the spec's director has no agent here and is left
/// out of the count; directors are the lab's.
///
/// `status-api`: a controller state holding N nodes' reports, served by the real API on loopback; the
/// time of a signed GET /v1/status as lbctl makes it, and of building the status alone.
enum ControllerBench {
    static func apply(controller: String, agent: String, lbctl: String, agents: Int, runs: Int, profile: DaemonProfile) throws -> String {
        let names = (1...agents).map { "rs\($0)" }
        let lab = try Lab(hosts: ["ctl"] + names)
        defer { lab.destroy() }
        try lab.learnNeighbours()
        let dir = lab.directory
        let signer = SigningKey.generate()
        try KeyFile.writeKeyring(Keyring(keys: [ClusterKey.generate()]), to: "\(dir)/cluster.keyring")
        try KeyFile.writePublicKeys([KeyFileEntry(key: signer.publicKey)], to: "\(dir)/operators.pub")
        try KeyFile.writeSigningKey(signer, to: "\(dir)/operator.key")
        let ctl = lab.host("ctl")
        let gossip = { (h: Lab.Host) in Endpoint(address: h.address, port: 7946) }
        let config = ControllerConfig(name: "ctl", cluster: "bench", gossip: .init(listen: gossip(ctl), profile: profile),
                                      keyring: "\(dir)/cluster.keyring", trust: .init(keys: "\(dir)/operators.pub"), stateDirectory: "\(dir)/ctl",
                                      logLevel: .warning)
        try Lab.write("\(dir)/controller.yaml", ControllerConfigWriter.yaml(config))
        _ = try lab.start("controller", on: "ctl", [controller, "run", "--config", "\(dir)/controller.yaml"])
        guard lab.wait(timeout: 30, until: { (try? get(ctl.namespace, 9121, "/healthz")) != nil }) != nil else {
            throw LabError("lb-controller did not start:\n\(Lab.read("\(dir)/controller.log") ?? "")")
        }
        for (i, name) in names.enumerated() {
            let host = lab.host(name)
            // Seeds: the controller and a few earlier agents, so the cluster does not hang on one member.
            let seeds = [gossip(ctl)] + names.prefix(i).suffix(2).map { gossip(lab.host($0)) }
            let c = AgentConfig(node: name, cluster: "bench", gossip: .init(listen: gossip(host), seeds: seeds, profile: profile),
                                keyring: "\(dir)/cluster.keyring", trust: .init(keys: "\(dir)/operators.pub"), stateDirectory: "\(dir)/\(name)",
                                logLevel: .warning)
            try Lab.write("\(dir)/\(name).yaml", AgentConfigWriter.yaml(c))
            _ = try lab.start("agent-\(name)", on: name, [agent, "run", "--config", "\(dir)/\(name).yaml"])
        }
        func status() -> ClusterStatus? {
            (try? get(ctl.namespace, 9121, "/status.json")).flatMap { try? APIJSON.decoder().decode(ClusterStatus.self, from: Data($0)) }
        }
        // Polled once a second: a status of 100 nodes a hundred times a second would load the controller it measures.
        guard lab.wait(timeout: 120, until: { usleep(1_000_000); return (status()?.nodes.filter { $0.member == "alive" }.count ?? 0) == agents + 1 }) != nil else {
            throw LabError("not every agent joined: \(status()?.nodes.map { "\($0.name) \($0.member)" } ?? [])")
        }
        func spec(_ run: Int) -> ClusterSpec {
            var nodes = names.map { Node(name: $0, address: CIDR("\(lab.host($0).address)/24")!) }
            nodes.append(Node(name: "d1", address: CIDR("10.99.0.250/24")!))
            return ClusterSpec(cluster: "bench", nodes: nodes, vips: [
                VIP(name: "web", address: CIDR("10.99.0.\(200 + run % 2)/24")!,
                    vrrp: VRRPGroup(routerID: 51, directors: [Director(node: "d1", priority: 100)]),
                    services: [VirtualService(port: 80, realServers: names.map { RealServer(node: $0) })]),
            ])
        }
        var times: [Double] = []
        for run in 0...runs {
            let file = "\(dir)/spec-\(run).yaml"
            try Lab.write(file, SpecYAMLWriter.yaml(spec(run)))
            let version = UInt64(run + 1)
            let start = Bench.now()
            let apply = try lab.start("lbctl-\(run)", on: "ctl", [lbctl, "apply", file, "--yes", "--controller", "http://127.0.0.1:9120",
                                                                  "--key", "\(dir)/operator.key"])
            let done = lab.wait(timeout: 60) {
                guard let c = status()?.convergence.first(where: { $0.version == version }) else { return false }
                return c.converged.count == agents
            }
            let elapsed = Bench.now() - start
            _ = apply.waitForExit(timeout: 10)
            guard done != nil else { throw LabError("v\(version) did not reach every real server: \(apply.output)") }
            // Run 0 is the first version, which also starts every agent's reconciler: not timed.
            if run > 0 { times.append(elapsed) }
        }
        let s = times.sorted()
        return "{\"agents\": \(agents), \"profile\": \"\(profile.rawValue)\", \"apply_to_all_converged_ms\": {\"median\": \(DriftBench.fmt(s[s.count / 2])), "
            + "\"p90\": \(DriftBench.fmt(s[min(s.count - 1, s.count * 9 / 10)])), \"max\": \(DriftBench.fmt(s.last!)), \"runs\": \(s.count)}, "
            + "\"goal_ms\": \(agents > 10 ? 2000 : 1500)}"
    }

    typealias DaemonProfile = AgentConfig.Gossip.Profile

    /// GET `path` from `port` on the loopback of `namespace`; the body, or nil when not 200.
    static func get(_ namespace: String, _ port: Int, _ path: String) throws -> [UInt8]? {
        let fd = try inNamespace(namespace) { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        guard fd >= 0 else { throw LabError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = in_port_t(UInt16(port).bigEndian)
        sa.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let ok = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { out += buffer[0..<n] } else if n < 0 && errno == EINTR { continue } else { break }
        }
        guard out.starts(with: Array("HTTP/1.1 200".utf8)), let end = (0..<max(0, out.count - 3)).first(where: { out[$0] == 13 && out[$0 + 1] == 10 && out[$0 + 2] == 13 && out[$0 + 3] == 10 }) else {
            return nil
        }
        let head = String(decoding: out[..<end], as: UTF8.self).lowercased()
        var body = Array(out[(end + 4)...])
        // Hummingbird answers large bodies chunked; this reader only needs to undo that framing.
        if head.contains("transfer-encoding: chunked") { body = unchunk(body) }
        return body
    }

    static func unchunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], i = 0
        while i < bytes.count {
            guard let eol = (i..<bytes.count - 1).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
                  let size = Int(String(decoding: bytes[i..<eol], as: UTF8.self).split(separator: ";").first ?? "", radix: 16), size > 0 else { break }
            let start = eol + 2
            guard start + size <= bytes.count else { break }
            out += bytes[start..<(start + size)]
            i = start + size + 2
        }
        return out
    }

    /// N nodes' reports (2 directors holding the VIP, N - 2 real servers) in a controller state served on loopback.
    static func statusAPI(nodes: Int, requests: Int) async throws -> String {
        let dir = NSTemporaryDirectory() + "lb-bench-status-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = SigningKey.generate()
        let policy = try TrustPolicy(trustedKeys: [key.publicKey], expectedCluster: "bench")
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let state = ControllerState(history: try HistoryStore(path: dir + "/history.sqlite"), cluster: "bench", controller: "ctl",
                                    policy: policy, logger: logger)
        _ = try await state.start(gossip: nil)
        let names = (0..<nodes).map { i in i < 2 ? "lvs\(i + 1)" : "rs\(i - 1)" }
        let address = { (i: Int) in IPAddress.v4(0x0A00_0000 + UInt32(i + 1)) }
        let spec = ClusterSpec(cluster: "bench", nodes: names.enumerated().map { Node(name: $0.element, address: CIDR(address: address($0.offset), prefixLength: 8)) },
                               vips: [VIP(name: "web", address: CIDR("10.255.0.1/8")!,
                                          vrrp: VRRPGroup(routerID: 51, directors: [Director(node: "lvs1", priority: 100), Director(node: "lvs2", priority: 99)]),
                                          services: [VirtualService(port: 80, realServers: names.dropFirst(2).prefix(50).map { RealServer(node: $0) })])])
        let envelope = try DesiredStateDocument(spec: spec, version: 1, issuedAt: Date()).signed(by: [key]).jsonEncoded()
        _ = try await state.submit(envelope)
        let now = Int(Date().timeIntervalSince1970)
        for (i, name) in names.enumerated() {
            let director = i < 2
            let services: [AgentReport.ServiceCounts]? = director ? [
                .init(key: "10.255.0.1:80/tcp", active: 1000, inactive: 10, destinations: names.dropFirst(2).prefix(50).enumerated().map { j, _ in
                    .init(endpoint: "\(address(j + 2)):80", weight: 1, active: 20, inactive: 0, health: j == 7 ? "down" : "up")
                }),
            ] : nil
            let report = AgentReport(node: name, at: now, version: 1, digest: nil, converged: true, roles: [director ? "director" : "real-server"],
                                     vrrp: director ? [.init(name: "VI_51", vrid: 51, state: i == 0 ? "MASTER" : "BACKUP", priority: 100 - i)] : [],
                                     services: services, repairs: ["address": i % 3], error: nil, refused: nil)
            _ = await state.report(report.encoded())
        }
        var build: [Double] = []
        for _ in 0..<requests {
            let t = Bench.now()
            _ = await state.status()
            build.append(Bench.now() - t)
        }

        let auth = RequestAuthenticator(RequestVerifier(trustedKeys: [key.publicKey], window: .seconds(30)))
        let shutdown = ShutdownSignal()
        let router = APIServer.router(state: state, auth: auth, metrics: ControllerMetrics(), shutdown: shutdown)
        let (ports, portsIn) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { portsIn.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let server = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var answer: [Double] = []
        var bytes = 0
        for _ in 0..<requests {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(APIRoute.status)")
            for (n, v) in RequestSigning.headers(method: "GET", path: APIRoute.status, body: [], key: key) { request.headers.add(name: n, value: v) }
            let t = Bench.now()
            let response = try await http.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 64 << 20)
            answer.append(Bench.now() - t)
            bytes = body.readableBytes
        }
        try await http.shutdown()
        shutdown.trigger()
        server.cancel()
        _ = await server.result
        func stats(_ v: [Double]) -> String {
            let s = v.sorted()
            return "{\"median\": \(DriftBench.fmt(s[s.count / 2])), \"p90\": \(DriftBench.fmt(s[min(s.count - 1, s.count * 9 / 10)])), \"max\": \(DriftBench.fmt(s.last!))}"
        }
        return "{\"nodes\": \(nodes), \"requests\": \(requests), \"status_bytes\": \(bytes), \"build_ms\": \(stats(build)), "
            + "\"get_v1_status_ms\": \(stats(answer)), \"goal_ms\": 50}"
    }
}
