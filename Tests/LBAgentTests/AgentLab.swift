import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LBAgent
import LBAgentConfig
import LBCrypto
import LBDocument
import LBNetlink
import LBSpec
import LBVRRPLab

/// `lb-agent run` processes in the namespace lab, with what a real cluster has around them: a cluster
/// keyring, an operator key the agents trust (and a stranger's they do not), one agent.yaml per host
/// written by `AgentConfigWriter`, signed documents, `lbctl push` run from inside a namespace. Host and
/// node names are the same: the lab's host `rs1` is the spec's node `rs1`, at the lab's 10.99.0.N.
final class AgentLab {
    static var binaries: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent() }
    static var agent: String { binaries.appendingPathComponent("lb-agent").path }
    static var lbctl: String { binaries.appendingPathComponent("lbctl").path }
    static let cluster = "lab"
    static let gossipPort = 7946
    static let statusPort = 9110

    let lab: Lab
    let signer = SigningKey.generate()
    let stranger = SigningKey.generate()
    let keyring: String
    let trust: String
    /// A trust file with only the stranger's key: lbctl push accepts the stranger's documents with it.
    let strangerTrust: String
    private(set) var agents: [String: Daemon] = [:]

    init(hosts: [String]) throws {
        lab = try Lab(hosts: hosts)
        keyring = "\(lab.directory)/cluster.keyring"
        trust = "\(lab.directory)/operators.pub"
        strangerTrust = "\(lab.directory)/stranger.pub"
        do {
            try KeyFile.writeKeyring(Keyring(keys: [ClusterKey.generate()]), to: keyring)
            try KeyFile.writePublicKeys([KeyFileEntry(key: signer.publicKey, comment: "operator")], to: trust)
            try KeyFile.writePublicKeys([KeyFileEntry(key: stranger.publicKey, comment: "stranger")], to: strangerTrust)
        } catch {
            lab.destroy()
            throw error
        }
    }

    /// Kills every process the lab started and removes every namespace and file. Safe to call twice.
    func destroy() { lab.destroy() }

    func namespace(_ host: String) -> String { lab.host(host).namespace }
    func address(_ host: String) -> IPAddress { lab.host(host).address }
    func gossip(_ host: String) -> String { "\(address(host)):\(Self.gossipPort)" }
    func directory(_ node: String) -> String { "\(lab.directory)/\(node)" }
    func stateDirectory(_ node: String) -> String { "\(directory(node))/state" }
    func configPath(_ node: String) -> String { "\(directory(node))/agent.yaml" }
    func logPath(_ node: String) -> String { "\(lab.directory)/agent-\(node).log" }
    func log(_ node: String) -> String { Lab.read(logPath(node)) ?? "" }

    // MARK: agents

    /// The configuration of `node`'s agent: gossip on its lab address with the fast profile, joining
    /// through `seeds` (lab hosts), status on the namespace's own loopback.
    func config(_ node: String, seeds: [String]) -> AgentConfig {
        AgentConfig(node: node, cluster: Self.cluster,
                    gossip: .init(listen: Endpoint(address: address(node), port: Self.gossipPort),
                                  seeds: seeds.map { Endpoint(address: address($0), port: Self.gossipPort) }, profile: .fast),
                    keyring: keyring, trust: .init(keys: trust), stateDirectory: stateDirectory(node),
                    status: .init(listen: Endpoint(address: IPAddress("127.0.0.1")!, port: Self.statusPort)), logLevel: .info)
    }

    /// Writes `config` as agent.yaml (through AgentConfigWriter) and returns the path.
    @discardableResult
    func write(_ config: AgentConfig) throws -> String {
        mkdir(directory(config.node), 0o755)
        try Lab.write(configPath(config.node), AgentConfigWriter.yaml(config))
        return configPath(config.node)
    }

    /// Starts `lb-agent run` for `node` in its namespace, joining through `seeds` (lab hosts), and waits
    /// until its status listener answers.
    @discardableResult
    func start(_ node: String, seeds: [String]) throws -> Daemon {
        let path = try write(config(node, seeds: seeds))
        let daemon = try lab.start("agent-\(node)", on: node, [Self.agent, "run", "--config", path])
        agents[node] = daemon
        let up = lab.wait(timeout: 20) { daemon.hasExited || (try? http(node, "/healthz"))?.status == 200 }
        guard up != nil, !daemon.hasExited else { throw LabError("lb-agent on \(node) did not come up:\n\(log(node))") }
        return daemon
    }

    /// Starts one agent per host, each with every other as a seed.
    func startAll(_ nodes: [String]) throws {
        for n in nodes { try start(n, seeds: nodes.filter { $0 != n }) }
    }

    // MARK: documents

    /// Real servers `realServers` behind `vips` (CIDR, router id; VRRPv3 every 0.2 s), directed by
    /// `directors` as (node, priority). Nodes that are lab hosts get their lab address; others (directors
    /// without an agent in this lab) get 10.99.0.101, .102, …
    func spec(realServers: [String], directors: [(String, Int)], vips: [(String, Int)] = [("10.99.0.200/24", 51)]) -> ClusterSpec {
        var nodes: [Node] = []
        var spare = 101
        for name in realServers + directors.map(\.0) {
            if let h = lab.hosts[name] {
                nodes.append(Node(name: name, address: CIDR("\(h.address)/24")!))
            } else {
                nodes.append(Node(name: name, address: CIDR("10.99.0.\(spare)/24")!))
                spare += 1
            }
        }
        let vipValues = vips.enumerated().map { i, v in
            VIP(name: "vip\(i + 1)", address: CIDR(v.0)!,
                vrrp: VRRPGroup(routerID: v.1, version: 3, advertIntervalCentiseconds: 20,
                                gratuitousARP: GratuitousARP(count: 1, repeatDelaySeconds: 0),
                                directors: directors.map { Director(node: $0.0, priority: $0.1) }),
                services: [VirtualService(port: 80, realServers: realServers.map { RealServer(node: $0) })])
        }
        return ClusterSpec(cluster: Self.cluster, nodes: nodes, vips: vipValues)
    }

    /// `spec` as document `version`, signed by `key` (the trusted operator unless told), written to a file.
    func sign(_ spec: ClusterSpec, version: UInt64, by key: SigningKey? = nil, tag: String = "") throws -> String {
        let envelope = try DesiredStateDocument(spec: spec, version: version, issuedAt: Date()).signed(by: [key ?? signer])
        let path = "\(lab.directory)/v\(version)\(tag).json"
        try Lab.write(path, String(decoding: envelope.jsonEncoded(), as: UTF8.self))
        return path
    }

    /// `lbctl push DOC` run inside `host`'s namespace, joining through `seed`'s agent.
    func push(_ document: String, from host: String, seed: String, trust: String? = nil, timeout: Int = 20) -> (status: Int32, output: String) {
        shell(["ip", "netns", "exec", namespace(host), Self.lbctl, "push", document, "--seed", gossip(seed),
               "--keyring", keyring, "--trust", trust ?? self.trust, "--timeout", "\(timeout)"])
    }

    // MARK: the host, as the kernel has it

    /// `ip netns exec NS ARGS...`
    @discardableResult
    func exec(_ host: String, _ arguments: [String]) -> (status: Int32, output: String) {
        shell(["ip", "netns", "exec", namespace(host)] + arguments)
    }

    /// A sysctl as /proc/sys shows it inside the namespace.
    func sysctl(_ host: String, _ key: String) -> String? {
        let r = exec(host, ["cat", "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/")])
        return r.status == 0 ? r.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    struct Address: Equatable, CustomStringConvertible {
        var cidr: String
        var label: String?
        var description: String { "\(cidr)\(label.map { " (\($0))" } ?? "")" }
    }

    /// The IPv4 addresses of `device` with their labels, from `ip -o -4 addr show`.
    func addresses(_ host: String, _ device: String) -> [Address] {
        let text = shell(["ip", "-n", namespace(host), "-o", "-4", "addr", "show", "dev", device]).output
        return text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            guard let at = words.firstIndex(of: "inet"), at + 1 < words.count else { return nil }
            // "... inet 10.99.0.200/32 scope global lo:0\ valid_lft ..." : the label is the word after the scope.
            var label: String?
            if let scope = words.firstIndex(of: "scope"), scope + 2 < words.count {
                var w = words[scope + 2]
                if w.hasSuffix("\\") { w.removeLast() }
                if w != "valid_lft", !w.isEmpty { label = w }
            }
            return Address(cidr: words[at + 1], label: label)
        }
    }

    func holds(_ host: String, _ cidr: String, on device: String) -> Bool {
        addresses(host, device).contains { $0.cidr == cidr }
    }

    // MARK: the agent, as it says

    /// `GET path` from the agent's status listener, over a socket of the host's namespace.
    func http(_ host: String, _ path: String, timeout: Double = 3) throws -> HTTPResponse {
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(Self.statusPort)\r\nConnection: close\r\n\r\n"
        let bytes = try Netns.exchange(namespace(host), "127.0.0.1", Self.statusPort, Array(request.utf8), timeout: timeout,
                                       closeWrite: false, until: HTTPResponse.isComplete)
        guard let response = HTTPResponse(bytes) else { throw LabError("not an HTTP response from \(host): \(String(decoding: bytes.prefix(200), as: UTF8.self))") }
        return response
    }

    /// /status, decoded; nil when the agent does not answer or answers something else.
    func status(_ host: String) -> AgentStatus? {
        guard let r = try? http(host, "/status"), r.status == 200 else { return nil }
        return try? AgentStatus.decoder.decode(AgentStatus.self, from: Data(r.body))
    }

    /// `lb-agent status --address 127.0.0.1:9110 -o json`, run inside the namespace, decoded.
    func statusCommand(_ host: String) throws -> AgentStatus {
        let r = exec(host, [Self.agent, "status", "--address", "127.0.0.1:\(Self.statusPort)", "-o", "json"])
        guard r.status == 0 else { throw LabError("lb-agent status on \(host) exited \(r.status): \(r.output)") }
        return try AgentStatus.decoder.decode(AgentStatus.self, from: Data(r.output.utf8))
    }

    /// The value of one sample of /metrics, e.g. `lb_drift_repairs_total{kind="address"}`; nil when absent.
    func metric(_ host: String, _ series: String) -> Double? {
        guard let r = try? http(host, "/metrics"), r.status == 200 else { return nil }
        for line in String(decoding: r.body, as: UTF8.self).split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Polls `condition` every 10 ms for up to `timeout` seconds; the seconds it took, or nil.
    func wait(_ timeout: Double, _ condition: () -> Bool) -> Double? { lab.wait(timeout: timeout, until: condition) }

    /// Every agent's log, for failure messages.
    var logs: String {
        agents.keys.sorted().map { "--- \($0):\n\(log($0).suffix(6000))" }.joined(separator: "\n")
    }
}

/// Status code and body of one HTTP/1.1 response.
struct HTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    init?(_ bytes: [UInt8]) {
        guard let end = Self.headerEnd(bytes) else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n")
        guard let first = head.first, first.hasPrefix("HTTP/1."), let code = Int(first.split(separator: " ").dropFirst().first ?? "") else { return nil }
        status = code
        headers = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        body = Array(bytes[(end + 4)...])
        if let length = headers["content-length"].flatMap(Int.init), body.count > length { body = Array(body.prefix(length)) }
    }

    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
        return nil
    }

    /// Whether `bytes` hold a whole response with a Content-Length (otherwise reading goes on to EOF).
    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let r = HTTPResponse(bytes), let length = r.headers["content-length"].flatMap(Int.init) else { return false }
        return r.body.count >= length
    }
}

/// Sockets that belong to a network namespace of the lab: made on a thread that entered it, then used
/// from anywhere (a socket stays in the namespace it was made in).
enum Netns {
    /// Runs `body` on a fresh thread inside `namespace` and returns its result.
    static func run<T>(_ namespace: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        try inNamespace(namespace, body)
    }

    static func socket(_ namespace: String, _ type: Int32) throws -> Int32 {
        let fd = try run(namespace) { Glibc.socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
        guard fd >= 0 else { throw LabError("socket: \(String(cString: strerror(errno)))") }
        return fd
    }

    static func sockaddr(_ address: String, _ port: Int) -> sockaddr_in {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, address, &sa.sin_addr)
        return sa
    }

    /// Connects over TCP inside `namespace`, sends `bytes`, optionally closes the sending side, and reads
    /// until the peer closes, `until` says the answer is whole, or `timeout` seconds pass. An error only
    /// when the connection cannot be made; a reset after that is an answer like any other.
    static func exchange(_ namespace: String, _ address: String, _ port: Int, _ bytes: [UInt8], timeout: Double = 2,
                         closeWrite: Bool = true, until complete: ([UInt8]) -> Bool = { _ in false }) throws -> [UInt8] {
        let fd = try socket(namespace, Int32(SOCK_STREAM.rawValue))
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sa = sockaddr(address, port)
        let connected = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw LabError("connect \(address):\(port) in \(namespace): \(String(cString: strerror(errno)))") }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }   // the peer closed or reset: it may still have answered
            sent += n
        }
        if closeWrite { shutdown(fd, Int32(SHUT_WR)) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let end = Lab.now() + timeout
        while Lab.now() < end, !complete(out) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { out += buffer[0..<n] } else if n < 0 && errno == EINTR { continue } else { break }
        }
        return out
    }

    /// Sends each of `datagrams` over UDP from inside `namespace`.
    static func sendDatagrams(_ namespace: String, _ address: String, _ port: Int, _ datagrams: [[UInt8]]) throws {
        let fd = try socket(namespace, Int32(SOCK_DGRAM.rawValue))
        defer { close(fd) }
        var sa = sockaddr(address, port)
        for d in datagrams {
            _ = withUnsafePointer(to: &sa) { p in
                p.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { to in
                    d.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, to, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        }
    }

}


/// Whether each namespace's eth0 holds `vip`, every `interval` on a thread of its own, and every removal
/// of it the kernel announces there meanwhile (so a VIP dropped and put back between two samples is
/// still seen).
final class VIPWatch: @unchecked Sendable {
    struct Sample { var at: Double; var holds: [Bool] }

    final class Clients: @unchecked Sendable { var all: [RouteClient] = [] }

    private let lock = NSLock()
    private var samples: [Sample] = []
    private var removals: [(at: Double, namespace: Int)] = []
    private var stopping = false
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)
    private var listeners: [Task<Void, Never>] = []
    /// rtnetlink sockets opened inside the namespaces: they keep a namespace alive after `ip netns del`,
    /// so `stop()` closes them (call it on every path, `defer`).
    private let clients = Clients()

    init(namespaces: [String], vip: CIDR, interval: Double = 0.01) throws {
        let clients = self.clients
        for ns in namespaces {
            let client = try Netns.run(ns) { try RouteClient() }
            clients.all.append(client)
            let events = try Netns.run(ns) { try RouteEvents.subscribe() }
            let index = clients.all.count - 1
            listeners.append(Task { [weak self] in
                do {
                    for try await event in events {
                        if case .addressRemoved(let a) = event, a.address == vip { self?.record(removalIn: index) }
                    }
                } catch {}
            })
        }
        let thread = Thread { [self] in
            while true {
                lock.lock()
                let stop = stopping
                lock.unlock()
                if stop { break }
                let holds = clients.all.map { c in ((try? c.addresses()) ?? []).contains { $0.address == vip } }
                lock.lock()
                samples.append(Sample(at: Lab.now(), holds: holds))
                lock.unlock()
                usleep(useconds_t(interval * 1e6))
            }
            done.signal()
        }
        thread.start()
    }

    private func record(removalIn namespace: Int) {
        lock.lock()
        removals.append((Lab.now(), namespace))
        lock.unlock()
    }

    /// Stops sampling and closes the sockets; the samples and the removals seen. Safe to call twice.
    @discardableResult
    func stop() -> (samples: [Sample], removals: [(at: Double, namespace: Int)]) {
        lock.lock()
        let first = !stopped
        stopping = true
        stopped = true
        lock.unlock()
        if first {
            done.wait()
            listeners.forEach { $0.cancel() }
            listeners = []
            clients.all = []
        }
        lock.lock()
        defer { lock.unlock() }
        return (samples, removals)
    }
}
