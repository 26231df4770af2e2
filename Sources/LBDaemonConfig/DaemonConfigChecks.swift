import LBSpec

/// The checks both daemons' validators make, collecting diagnostics by YAML key path. `broken` holds the
/// paths the reader could not read (their values are placeholders); nothing at, inside or depending on
/// them is checked, so one mistake gives one message.
package struct DaemonConfigChecks {
    package let broken: [SpecPath]
    package private(set) var diagnostics: [Diagnostic] = []
    package let root = SpecPath.root

    package init(broken: [SpecPath]) {
        self.broken = broken
    }

    package mutating func error(_ path: SpecPath, _ message: String) { diagnostics.append(.error(path, message)) }
    package mutating func warning(_ path: SpecPath, _ message: String) { diagnostics.append(.warning(path, message)) }

    /// True when `path` and everything above it was read.
    package func readable(_ path: SpecPath) -> Bool {
        !broken.contains { b in b.components.count <= path.components.count && Array(path.components.prefix(b.components.count)) == b.components }
    }

    /// `cluster`, `gossip`, `keyring` and `trust`, as both files have them at the top level.
    package mutating func checkShared(cluster: String, gossip: DaemonConfig.Gossip, keyring: String, trust: DaemonConfig.Trust) {
        checkName(cluster, at: root["cluster"], what: "cluster name")
        checkGossip(gossip)
        checkPath(keyring, at: root["keyring"], what: "keyring path", example: DaemonConfig.defaultKeyring)
        checkPath(trust.keys, at: root["trust"]["keys"], what: "trusted keys path", example: DaemonConfig.Trust.defaultKeys)
        if readable(root["trust"]["threshold"]) && trust.threshold < 1 {
            error(root["trust"]["threshold"], "trust threshold \(trust.threshold) must be at least 1: the number of trusted keys that must sign a document")
        }
    }

    package mutating func checkName(_ name: String, at path: SpecPath, what: String) {
        if readable(path), let problem = SpecValidator.nameProblem(name, what: what) {
            error(path, problem)
        }
    }

    // MARK: gossip

    package mutating func checkGossip(_ g: DaemonConfig.Gossip) {
        let p = root["gossip"]
        let listenRead = readable(p["listen"])
        let advertiseRead = readable(p["advertise"])
        if listenRead {
            checkPort(g.listen, at: p["listen"])
            let unicast = checkUnicast(g.listen, at: p["listen"], what: "gossip listen address", fix: "listen on this host's own address")
            if unicast && g.listen.address.isUnspecified && g.advertise == nil && advertiseRead {
                error(p["listen"], "gossip listen address \(g.listen) is a wildcard, which peers cannot reach; add advertise: with this host's address and port, or listen on that address")
            }
        }
        if advertiseRead, let advertise = g.advertise {
            checkPort(advertise, at: p["advertise"])
            if advertise.address.isUnspecified {
                error(p["advertise"], "advertise address \(advertise) is a wildcard, which peers cannot reach; advertise this host's own address")
            } else if checkUnicast(advertise, at: p["advertise"], what: "advertise address", fix: "advertise this host's own address"),
                      listenRead, let problem = Self.familyProblem(listen: g.listen, advertise: advertise) {
                error(p["advertise"], problem)
            }
        }
        let ownKnown = listenRead && advertiseRead && !(g.listen.address.isUnspecified && g.advertise == nil)
        var first: [Endpoint: Int] = [:]
        for (i, seed) in g.seeds.enumerated() where readable(p["seeds"][i]) {
            let at = p["seeds"][i]
            checkPort(seed, at: at)
            if seed.address.isUnspecified {
                error(at, "seed \(seed) is a wildcard, which cannot be contacted; list the other nodes' gossip addresses")
                continue
            }
            guard checkUnicast(seed, at: at, what: "seed", fix: "list the other nodes' gossip addresses") else { continue }
            if ownKnown && (seed == g.listen || seed == g.advertised) {
                warning(at, "seed \(seed) is this node's own gossip address; dropped (list the other nodes)")
            } else if let j = first[seed] {
                warning(at, "seed \(seed) is listed twice (first at \(p["seeds"][j])); dropped")
            } else {
                first[seed] = i
            }
        }
    }

    /// A wildcard IPv4 or any specific address can only be reached on its own family; `[::]` also takes
    /// IPv4 (Linux binds it dual-stack by default).
    static func familyProblem(listen: Endpoint, advertise: Endpoint) -> String? {
        if listen.address.family == advertise.address.family { return nil }
        if listen.address.family == .ipv6 && listen.address.isUnspecified { return nil }
        let (a, l) = (advertise.address.family == .ipv4 ? "IPv4" : "IPv6", listen.address.family == .ipv4 ? "IPv4" : "IPv6")
        return "advertise address \(advertise) is \(a) but gossip listens on \(l) (\(listen)), so peers could not reach it; advertise an \(l) address or listen on \(a)"
    }

    // MARK: listeners

    /// `status.listen`: plain HTTP without authentication, so anything but loopback is a warning.
    package mutating func checkStatusListen(_ listen: Endpoint) {
        let at = root["status"]["listen"]
        guard checkListen(listen, at: at, what: "status listen address") else { return }
        if !listen.address.isLoopback {
            warning(at, "status listen address \(listen) is not loopback: whoever reaches it reads status and /metrics without authentication; use 127.0.0.1:\(listen.port) unless a firewall guards it")
        }
    }

    /// A listener's port and address; false when it was not read or is refused.
    package mutating func checkListen(_ listen: Endpoint, at path: SpecPath, what: String) -> Bool {
        guard readable(path) else { return false }
        checkPort(listen, at: path)
        return checkUnicast(listen, at: path, what: what, fix: "use 127.0.0.1:\(listen.port)")
    }

    // MARK: values

    package mutating func checkPort(_ e: Endpoint, at path: SpecPath) {
        if !(1...65_535).contains(e.port) {
            error(path, "port \(e.port) is out of range 1–65535")
        }
    }

    /// False (with an error) for a multicast or broadcast address.
    package mutating func checkUnicast(_ e: Endpoint, at path: SpecPath, what: String, fix: String) -> Bool {
        if e.address.isMulticast || e.address.isBroadcast {
            error(path, "\(what) \(e.address) is \(e.address.isBroadcast ? "the broadcast address" : "a multicast address"), not a host's; \(fix)")
            return false
        }
        return true
    }

    package mutating func checkPath(_ path: String, at p: SpecPath, what: String, example: String) {
        guard readable(p) else { return }
        if path.isEmpty {
            error(p, "\(what) is empty; write the full path, e.g. \(example)")
        } else if path.contains("\0") {
            error(p, "\(what) contains a NUL character; write the full path, e.g. \(example)")
        } else if !path.hasPrefix("/") {
            error(p, "\(what) '\(path)' is not absolute; write the full path, e.g. \(example)")
        }
    }

    package mutating func checkDuration(_ d: Duration, _ range: ClosedRange<Duration>, at p: SpecPath) {
        guard readable(p) else { return }
        if d.wholeMilliseconds == nil {
            error(p, "\(p) \(d) is not a whole number of milliseconds")
        } else if !range.contains(d) {
            error(p, "\(p) \(d.configText) is out of range \(range.configText)")
        }
    }

    package mutating func checkRange(_ value: Int, _ range: ClosedRange<Int>, at p: SpecPath) {
        if readable(p) && !range.contains(value) {
            error(p, "\(p) \(value) is out of range \(range.lowerBound)–\(range.upperBound)")
        }
    }
}
