#if canImport(Glibc)
import Glibc
#endif
import LBNetlink
import LBSpec

/// The real host: rtnetlink for addresses, /proc/sys for sysctls (both follow the network namespace),
/// generic netlink for IPVS. Calls are blocking kernel round trips, so the actor runs on a `HostThread`,
/// never on the cooperative pool.
public actor LinuxHost: HostControl {
    private var route: RouteClient?
    private var ipvsClient: IPVSClient?
    private var serviceCounter: IPVSServiceCount?
    private let sysctlRoot: String
    private let thread: HostThread

    /// `sysctlRoot` is for tests that point at a scratch directory instead of /proc/sys.
    public init(sysctlRoot: String = "/proc/sys", thread: HostThread = .shared) {
        self.sysctlRoot = sysctlRoot
        self.thread = thread
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { thread.executor }

    public func observe(sysctls keys: [String], ipvs detail: IPVSObservation) async throws -> HostState {
        let route = try routeClient()
        let links = try route.links()
        let addresses = try route.addresses()
        let interfaces = links.sorted { $0.index < $1.index }.map { link in
            HostState.Interface(index: link.index, name: link.name, isUp: link.isUp, isLoopback: link.isLoopback,
                                addresses: addresses.filter { $0.interfaceIndex == link.index }.map {
                                    HostState.Address(address: $0.address, label: $0.label, scope: $0.scope)
                                })
        }
        var sysctls: [String: String] = [:]
        for key in keys {
            if let value = readSysctl(key) { sysctls[key] = value }
        }
        let ipvs = detail == .skip ? IPVSState.unavailable(IPVSObservation.skippedReason) : observeIPVS(statistics: detail == .statistics)
        return HostState(interfaces: interfaces, sysctls: sysctls, ipvs: ipvs)
    }

    private func observeIPVS(statistics: Bool) -> IPVSState {
        do {
            let client = try ipvs()
            var table = IPVSTable(version: try client.version())
            // The listing does not say a firewall-mark service's address family, so with one in the
            // table the whole table comes from netlink.
            if !statistics, let bytes = ProcIPVS.readAll("/proc/net/ip_vs"), !ProcIPVS.listsFirewallMarks(bytes),
               let listed = ProcIPVS.parseTable(bytes: bytes) {
                table.services = try withSchedulerFlags(listed, client)
            } else {
                table.services = try client.table().map { IPVSTable.Entry(service: $0.service, destinations: $0.destinations) }
            }
            table.timeouts = try client.timeouts()
            table.syncDaemons = try client.syncDaemons()
            return .available(table)
        } catch {
            return .unavailable("\(error)")
        }
    }

    /// The kernel's listing has no scheduler flags (only sh and mh use them) and gives persistence
    /// timeouts in jiffies, so those services are read through netlink: one batch of GET_SERVICE
    /// requests, which, unlike dumps, all go out in one system call.
    private func withSchedulerFlags(_ entries: [IPVSTable.Entry], _ client: IPVSClient) throws -> [IPVSTable.Entry] {
        let needing = entries.indices.filter {
            let s = entries[$0].service
            return s.scheduler == "sh" || s.scheduler == "mh" || s.isPersistent
        }
        guard !needing.isEmpty else { return entries }
        let replies = try client.execute(needing.map { client.messages.getService(entries[$0].service.key) })
        return try Self.refine(entries, needing, replies.map { reply throws(NetlinkError) in
            switch reply {
            case .success(let messages):
                guard let message = messages.first else { throw NetlinkError.malformed("GET_SERVICE answered no service") }
                return .success(try client.messages.parseService(message, statistics: false))
            case .failure(let error):
                return .failure(error)
            }
        })
    }

    /// The listing's `entries` with the services at `needing` replaced by netlink's answers. A service
    /// deleted between the two reads (ESRCH) is left out: the listing's version of it has the timeout in
    /// jiffies, so keeping it would show a persistent service as changed and have the diff edit a service
    /// that no longer exists. It is gone, and the observation says so. Any other failure fails the
    /// observation, for the same reason.
    static func refine(_ entries: [IPVSTable.Entry], _ needing: [Int], _ replies: [Result<IPVSService, NetlinkError>]) throws -> [IPVSTable.Entry] {
        var out = entries
        var gone = Set<Int>()
        for (i, reply) in zip(needing, replies) {
            switch reply {
            case .success(let service): out[i].service = service
            case .failure(let error) where error.errno == ESRCH: gone.insert(i)
            case .failure(let error): throw error
            }
        }
        return gone.isEmpty ? out : out.indices.filter { !gone.contains($0) }.map { out[$0] }
    }

    public func ipvsServiceCount() async -> UInt32? {
        do {
            if serviceCounter == nil { serviceCounter = try IPVSServiceCount() }
            return try serviceCounter?.current()
        } catch {
            return nil
        }
    }

    public func apply(_ actions: [HostAction]) async -> ApplyReport {
        let interfaces: [String: Int32]
        switch preflight(actions) {
        case .failure(let refusal):
            return ApplyReport(failures: actions.map { action in
                refusal.action == action ? refusal : HostError(refusal.kind, action, "not applied: \(refusal.message)")
            })
        case .success(let names):
            interfaces = names
        }
        var failures = [HostError?](repeating: nil, count: actions.count)
        // Consecutive actions of one kind go to the kernel together; order across kinds is kept.
        var i = 0
        while i < actions.count {
            var j = i
            while j < actions.count && group(actions[j]) == group(actions[i]) { j += 1 }
            let slice = Array(i..<j)
            switch group(actions[i]) {
            case .route: executeRoute(slice, actions, interfaces, &failures)
            case .ipvs: executeIPVS(slice, actions, &failures)
            case .sysctl:
                for k in slice { failures[k] = writeSysctl(actions[k]) }
            }
            i = j
        }
        return ApplyReport(failures: failures)
    }

    // MARK: preflight

    /// The interfaces by name (listed once per apply, which a VRRP takeover waits on), or why the
    /// batch is refused.
    private func preflight(_ actions: [HostAction]) -> Result<[String: Int32], HostError> {
        let interfaces: [String: Int32]
        do {
            interfaces = Dictionary(try routeClient().links().map { ($0.name, $0.index) }, uniquingKeysWith: { a, _ in a })
        } catch {
            return .failure(HostError(.system, nil, "cannot list interfaces: \(error)"))
        }
        let names = interfaces
        for action in actions {
            switch action {
            case .addAddress(let iface, _, _), .deleteAddress(let iface, _):
                if names[iface] == nil { return .failure(HostError(.noSuchInterface, action, "\(action): no interface \(iface)")) }
            case .startSyncDaemon(let d):
                if names[d.interface] == nil { return .failure(HostError(.noSuchInterface, action, "\(action): no interface \(d.interface)")) }
            case .setSysctl(let key, _):
                if access(sysctlPath(key), F_OK) != 0 { return .failure(HostError(.notFound, action, "\(action): no sysctl \(key) on this host")) }
            default:
                break
            }
        }
        if let first = actions.first(where: \.needsIPVS) {
            do {
                _ = try ipvs()
            } catch {
                return .failure(HostError(.unavailable, first, "\(first): \(error)"))
            }
        }
        return .success(interfaces)
    }

    // MARK: rtnetlink

    private enum Group { case route, ipvs, sysctl }

    private func group(_ a: HostAction) -> Group {
        switch a {
        case .addAddress, .deleteAddress: return .route
        case .setSysctl: return .sysctl
        default: return .ipvs
        }
    }

    private func executeRoute(_ indices: [Int], _ actions: [HostAction], _ index: [String: Int32], _ failures: inout [HostError?]) {
        do {
            let route = try routeClient()
            let requests = indices.map { k -> NetlinkRequest in
                switch actions[k] {
                case .addAddress(let iface, let cidr, let label):
                    return RouteMessages.addAddress(InterfaceAddress(interfaceIndex: index[iface] ?? 0, address: cidr, label: label,
                                                                     scope: iface == "lo" && cidr.address.isLoopback ? 254 : 0), interfaceName: iface)
                case .deleteAddress(let iface, let cidr):
                    return RouteMessages.deleteAddress(InterfaceAddress(interfaceIndex: index[iface] ?? 0, address: cidr), interfaceName: iface)
                default:
                    preconditionFailure("not an address action")
                }
            }
            for (k, result) in zip(indices, try route.execute(requests)) {
                if case .failure(let e) = result { failures[k] = classify(e, actions[k]) }
            }
        } catch {
            for k in indices { failures[k] = HostError(.system, actions[k], "\(actions[k]): \(error)") }
        }
    }

    // MARK: IPVS

    private func executeIPVS(_ indices: [Int], _ actions: [HostAction], _ failures: inout [HostError?]) {
        do {
            let client = try ipvs()
            let m = client.messages
            let requests = indices.map { k -> NetlinkRequest in
                switch actions[k] {
                case .addService(let s): return m.newService(s)
                case .editService(let s): return m.editService(s)
                case .deleteService(let key): return m.deleteService(key)
                case .addDestination(let key, let d): return m.newDestination(d, of: key)
                case .editDestination(let key, let d): return m.editDestination(d, of: key)
                case .deleteDestination(let key, let e):
                    return m.deleteDestination(IPVSDestination(address: e.address, port: UInt16(e.port), forwarding: .dr, weight: 0), of: key)
                case .setTimeouts(let t): return m.setTimeouts(t)
                case .startSyncDaemon(let d): return m.startDaemon(d)
                case .stopSyncDaemon(let s): return m.stopDaemon(s)
                default: preconditionFailure("not an IPVS action")
                }
            }
            for (k, result) in zip(indices, try client.execute(requests)) {
                if case .failure(let e) = result { failures[k] = classify(e, actions[k]) }
            }
        } catch {
            for k in indices { failures[k] = HostError(.system, actions[k], "\(actions[k]): \(error)") }
        }
    }

    /// Maps a kernel errno to what it means for this action, with the operator's wording.
    nonisolated func classify(_ error: NetlinkError, _ action: HostAction) -> HostError {
        guard case .kernel(let code, let text, _) = error else { return HostError(.system, action, "\(action): \(error)") }
        let detail = text.map { " (kernel: \($0))" } ?? ""
        switch (action, code) {
        case (.addAddress, EEXIST), (.addService, EEXIST), (.addDestination, EEXIST), (.startSyncDaemon, EEXIST):
            return HostError(.exists, action, "\(action): already exists")
        case (.deleteAddress, EADDRNOTAVAIL):
            return HostError(.notFound, action, "\(action): no such address")
        case (.addAddress, ENODEV), (.deleteAddress, ENODEV), (.startSyncDaemon, ENODEV):
            return HostError(.noSuchInterface, action, "\(action): no such interface")
        case (.editService(let s), ESRCH): return HostError(.noSuchService, action, "no such service \(s.key)")
        case (.deleteService(let key), ESRCH), (.addDestination(let key, _), ESRCH),
             (.editDestination(let key, _), ESRCH), (.deleteDestination(let key, _), ESRCH):
            return HostError(.noSuchService, action, "no such service \(key)")
        case (.editDestination(let key, let d), ENOENT):
            return HostError(.noSuchDestination, action, "no such destination \(d.endpoint) in \(key)")
        case (.deleteDestination(let key, let e), ENOENT):
            return HostError(.noSuchDestination, action, "no such destination \(e) in \(key)")
        case (.addService(let s), ENOENT), (.editService(let s), ENOENT):
            return HostError(.invalid, action, "\(action): the kernel has no scheduler '\(s.scheduler)' (is ip_vs_\(s.scheduler) available?)\(detail)")
        case (.stopSyncDaemon, ESRCH):
            return HostError(.notFound, action, "\(action): not running")
        case (_, EINVAL), (_, ERANGE), (_, EADDRNOTAVAIL):
            return HostError(.invalid, action, "\(action): \(error)")
        default:
            return HostError(.system, action, "\(action): \(error)")
        }
    }

    // MARK: sysctl

    /// Dotted sysctl names to /proc/sys paths; a '/' in a name component (eth0/100) is a '.' in the path.
    nonisolated func sysctlPath(_ key: String) -> String {
        sysctlRoot + "/" + key.split(separator: ".").map { String($0.map { $0 == "/" ? "." : $0 }) }.joined(separator: "/")
    }

    private func readSysctl(_ key: String) -> String? {
        let fd = open(sysctlPath(key), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self).trimmedWhitespace()
    }

    private func writeSysctl(_ action: HostAction) -> HostError? {
        guard case .setSysctl(let key, let value) = action else { return nil }
        let fd = open(sysctlPath(key), O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            return HostError(e == ENOENT ? .notFound : .system, action, "\(action): \(NetlinkError.system(errno: e, call: "open \(sysctlPath(key))"))")
        }
        defer { close(fd) }
        let bytes = Array((value + "\n").utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            let e = errno
            return HostError(e == EINVAL ? .invalid : .system, action, "\(action): the kernel refused the value (\(NetlinkError.errnoText(e)))")
        }
        return nil
    }

    // MARK: clients

    private func routeClient() throws -> RouteClient {
        if let route { return route }
        let client = try RouteClient()
        route = client
        return client
    }

    private func ipvs() throws -> IPVSClient {
        if let ipvsClient { return ipvsClient }
        let client = try IPVSClient()
        ipvsClient = client
        return client
    }
}

extension String {
    /// Without leading and trailing white space; FoundationEssentials-free.
    func trimmedWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
