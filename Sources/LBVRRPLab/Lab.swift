#if canImport(Glibc)
import Glibc
#endif
import LBSpec

/// Network namespaces on one bridge, made for one test or benchmark run and removed afterwards: a
/// "switch" namespace holds the bridge, every host namespace has an `eth0` (a veth into the bridge) with
/// 10.99.0.N/24. Nothing is sent outside these namespaces. Processes started through the lab are killed
/// by `destroy()`, and deleting the namespaces removes every interface and address in them.
public final class Lab: @unchecked Sendable {
    public struct Host: Sendable {
        public var name: String
        public var namespace: String
        public var address: IPAddress
        public var mac: [UInt8]
        public var macText: String { mac.map { let s = String($0, radix: 16); return s.count == 1 ? "0" + s : s }.joined(separator: ":") }
    }

    public let prefix: String
    public let directory: String
    public private(set) var hosts: [String: Host] = [:]
    private var daemons: [Daemon] = []
    private var namespaces: [String] = []
    private var destroyed = false

    /// Creates the switch and one namespace per name, addressed 10.99.0.1, .2, ... in order. The client
    /// (if any) is 10.99.0.50.
    public init(hosts names: [String], client: String? = nil) throws {
        var random: UInt32 = 0
        let fd = open("/dev/urandom", O_RDONLY)
        _ = Glibc.read(fd, &random, 4)
        close(fd)
        let tag = String(random % 0xFFFFFF, radix: 16)
        prefix = "lbvrrp-\(tag)"
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw LabError("mkdtemp failed") }
        directory = String(cString: dir)
        do {
            try make(names: names, client: client)
        } catch {
            destroy()
            throw error
        }
    }

    private func make(names: [String], client: String?) throws {
        let sw = "\(prefix)-sw"
        try ip(["netns", "add", sw])
        namespaces.append(sw)
        try ip(["-n", sw, "link", "add", "br0", "type", "bridge"])
        try ip(["-n", sw, "link", "set", "br0", "up"])
        var all = names.enumerated().map { ($0.element, "10.99.0.\($0.offset + 1)") }
        if let client { all.append((client, "10.99.0.50")) }
        for (i, (name, address)) in all.enumerated() {
            try addHost(name, address: CIDR("\(address)/24")!, bridge: "br0", port: "p\(i)")
        }
    }

    /// A namespace for `name` with `address` on an eth0 plugged into `bridge` (switch port `port`).
    private func addHost(_ name: String, address: CIDR, bridge: String, port: String) throws {
        let ns = "\(prefix)-\(name)"
        try ip(["netns", "add", ns])
        namespaces.append(ns)
        try ip(["-n", ns, "link", "set", "lo", "up"])
        let mac = try plug(ns, "eth0", into: bridge, port: port, address: address)
        hosts[name] = Host(name: name, namespace: ns, address: address.address, mac: mac)
    }

    /// A veth `interface` in namespace `ns` whose peer `port` is in `bridge` of the switch, up, with
    /// `address` if given; its MAC.
    private func plug(_ ns: String, _ interface: String, into bridge: String, port: String, address: CIDR?) throws -> [UInt8] {
        let sw = "\(prefix)-sw"
        try ip(["-n", ns, "link", "add", interface, "type", "veth", "peer", "name", port, "netns", sw])
        try ip(["-n", sw, "link", "set", port, "master", bridge, "up"])
        if let address { try ip(["-n", ns, "addr", "add", address.description, "dev", interface]) }
        try ip(["-n", ns, "link", "set", interface, "up"])
        return try mac(of: interface, in: ns)
    }

    private func mac(of interface: String, in ns: String) throws -> [UInt8] {
        let link = shell(["ip", "-n", ns, "-o", "link", "show", "dev", interface]).output
        let words = link.split(whereSeparator: { $0 == " " || $0 == "\\" || $0 == "\n" })
        guard let at = words.firstIndex(of: "link/ether"), at + 1 < words.count else { throw LabError("no MAC for \(ns) \(interface): \(link)") }
        return words[at + 1].split(separator: ":").compactMap { UInt8($0, radix: 16) }
    }

    /// A second segment (say, the one clients are on): a bridge `bridge` in the switch, an `interface`
    /// into it in each of `hosts`, up and without an address, and a namespace `client` on it with
    /// `clientAddress` on its eth0. Returns each host's MAC on the segment.
    public func addSegment(bridge: String, interface: String, hosts names: [String], client: String, clientAddress: CIDR) throws -> [String: [UInt8]] {
        let sw = "\(prefix)-sw"
        try ip(["-n", sw, "link", "add", bridge, "type", "bridge"])
        try ip(["-n", sw, "link", "set", bridge, "up"])
        var macs: [String: [UInt8]] = [:]
        for (i, name) in names.enumerated() {
            macs[name] = try plug(host(name).namespace, interface, into: bridge, port: "\(bridge)p\(i)", address: nil)
        }
        try addHost(client, address: clientAddress, bridge: bridge, port: "\(bridge)c")
        return macs
    }

    public func host(_ name: String) -> Host { hosts[name]! }

    /// Every host knows every other's MAC address for good (permanent neighbour entries), so nobody
    /// ARPs. With a hundred hosts on one software bridge, the first round of ARP broadcasts is flooded
    /// to every port at once and overflows the CPUs' receive backlogs; the drops come back to the
    /// senders as ENOBUFS (UDP's SndbufErrors) and look like an unreliable network to whatever runs on it.
    public func learnNeighbours() throws {
        for host in hosts.values {
            let lines = hosts.values.filter { $0.name != host.name }
                .map { "neigh replace \($0.address) lladdr \($0.macText) dev eth0 nud permanent" }
            let batch = "\(directory)/neighbours-\(host.name)"
            try Lab.write(batch, lines.joined(separator: "\n") + "\n")
            try ip(["-n", host.namespace, "-batch", batch])
        }
    }

    /// Starts `arguments` inside `host`'s namespace; the lab kills it on `destroy()`.
    public func start(_ name: String, on host: String, _ arguments: [String]) throws -> Daemon {
        let log = "\(directory)/\(name).log"
        let daemon = try Daemon.spawn(name, ["ip", "netns", "exec", self.host(host).namespace] + arguments, logPath: log)
        daemons.append(daemon)
        return daemon
    }

    /// Hosts whose `interface` holds `address`, by a fresh look at each namespace.
    public func holders(of address: IPAddress, on interface: String = "eth0") -> Set<String> {
        var out = Set<String>()
        for (name, h) in hosts {
            let v4 = address.family == .ipv4
            let text = shell(["ip", "-n", h.namespace, "-o", v4 ? "-4" : "-6", "addr", "show", "dev", interface]).output
            if text.contains("\(v4 ? "inet" : "inet6") \(address)/") { out.insert(name) }
        }
        return out
    }

    /// Removes `cidr` from `host`'s eth0 if present (what a crashed speaker leaves behind).
    public func removeAddress(_ cidr: CIDR, from host: String) {
        shell(["ip", "-n", self.host(host).namespace, "addr", "del", cidr.description, "dev", "eth0"])
    }

    /// Polls `condition` every 10 ms for up to `timeout` seconds; the seconds it took, or nil.
    public func wait(timeout: Double, until condition: () -> Bool) -> Double? {
        let start = Lab.now()
        while true {
            if condition() { return Lab.now() - start }
            if Lab.now() - start > timeout { return nil }
            usleep(10_000)
        }
    }

    /// Kills every daemon, deletes every namespace and the scratch directory. Safe to call twice.
    public func destroy() {
        guard !destroyed else { return }
        destroyed = true
        for d in daemons { d.stop() }
        for ns in namespaces.reversed() { shell(["ip", "netns", "del", ns]) }
        shell(["rm", "-rf", directory])
    }

    deinit { destroy() }

    private func ip(_ args: [String]) throws {
        let (status, output) = shell(["ip"] + args)
        guard status == 0 else { throw LabError("ip \(args.joined(separator: " ")): \(output)") }
    }

    /// Seconds on CLOCK_MONOTONIC.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    public static func read(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func write(_ path: String, _ text: String) throws {
        guard let f = fopen(path, "w") else { throw LabError("cannot write \(path)") }
        defer { fclose(f) }
        fputs(text, f)
    }
}
