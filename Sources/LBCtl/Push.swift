import ArgumentParser
import Foundation
import LBCrypto
import LBDocument
import LBGossip
import LBGossipService
import LBSpec

#if canImport(Glibc)
import Glibc
#endif

extension LBCtl {
    /// `lbctl push`: a document into the cluster without a controller, through a transient gossip member.
    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a signed document to the agents over gossip, without a controller.",
            discussion: """
            Joins the cluster through --seed as a short-lived member, publishes DOC (after checking it as \
            an agent would), waits until another member holds it, then leaves. Agents fetch the document \
            from this member, so --listen must be an address they can reach; by default it is the address \
            this machine uses to reach the first seed, on a free port. Exit 0 when a member holds the \
            document; 1 when none does within --timeout, or when the first member to answer holds a newer \
            document or another one of the same version (the agents will not take this one).
            """
        )

        @Argument(help: "The signed document (lbctl sign).")
        var document: String

        @Option(name: .customLong("seed"), help: "An agent's gossip address, ADDRESS:PORT (repeatable).")
        var seeds: [String]

        @Option(help: "The cluster keyring file (lbctl init writes cluster.keyring).")
        var keyring: String

        /// The agents' trust list: the document is checked as they will check it.
        @OptionGroup var trust: TrustOptions

        @Option(help: "Address and port to gossip from (default: the address that reaches the first seed, a free port).")
        var listen: String?

        @Option(help: "Seconds to wait for a member to hold the document.")
        var timeout: Int = 30

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if seeds.isEmpty { throw ValidationError("name at least one agent with --seed ADDRESS:PORT") }
            for s in seeds where GossipAddress.endpoint(s) == nil { throw ValidationError("--seed \(s) is not ADDRESS:PORT") }
            if let listen, GossipAddress.endpoint(listen) == nil { throw ValidationError("--listen \(listen) is not ADDRESS:PORT") }
            if timeout < 1 { throw ValidationError("--timeout must be at least 1 second") }
        }

        func run() async throws {
            let json = Array(try readFile(document))
            let anyCluster = try trust.policy()
            let verified = try Self.verify(json, anyCluster, document)
            var policy = anyCluster
            policy.expectedCluster = verified.document.cluster
            let ring = try KeyFile.readKeyring(at: keyring)
            let (host, port) = try listenAddress()
            let member = try await GossipService.listen(name: "lbctl-push-\(getpid())", host: host, port: port, keyring: ring, policy: policy,
                                                        config: .fast)
            await member.start(seeds: seeds)
            let version = verified.document.version
            do {
                try await member.publish(envelopeJSON: json)
            } catch {
                await member.stop()
                throw CommandFailure("\(document): \(error)")
            }
            let found = await Self.firstHolder(member, version: version, timeout: .seconds(timeout))
            let seen = await member.currentMembers.dropFirst()
            await member.leave()
            guard let found else {
                let view = seen.map { "\($0.node.name) (\($0.status), v\($0.metadata.documentVersion))" }.joined(separator: ", ")
                throw CommandFailure("no member holds v\(version) after \(timeout) s; members seen: \(view.isEmpty ? "none (is --seed right, and the keyring the cluster's?)" : view)")
            }
            // A member holding a newer document, or another one of this version, does not hold this one and
            // never will: agents take no older document and no second one with a version already held.
            if found.version > version {
                throw CommandFailure("\(found.name) holds v\(found.version), newer than v\(version): agents never go back to an older document "
                                     + "(a replay or a stale copy), so v\(version) is not in force; sign the change as v\(found.version + 1)")
            }
            guard found.digest == verified.digest.bytes else {
                throw CommandFailure("\(found.name) holds another document with version \(version): two documents cannot carry one version, "
                                     + "so this one is not in force; sign it as v\(version + 1)")
            }
            let holder = found.name
            switch output.output {
            case .text: print("pushed v\(version) \(verified.digest) of cluster '\(verified.document.cluster)': \(holder) holds it")
            case .json: printJSON(["version": version, "digest": verified.digest.description, "cluster": verified.document.cluster, "holder": holder])
            }
        }

        static func verify(_ json: [UInt8], _ policy: TrustPolicy, _ name: String) throws -> VerifiedDocument {
            do {
                return try DesiredStateDocument.verify(json: json, policy: policy)
            } catch {
                throw CommandFailure("\(name) would be refused by the agents: \(error)")
            }
        }

        /// What another member holds: its name and its document's version and digest.
        struct Holding: Sendable {
            var name: String
            var version: UInt64
            var digest: [UInt8]
        }

        /// The first other member that advertises `version` or newer, or nil at the timeout.
        static func firstHolder(_ member: GossipService, version: UInt64, timeout: Duration) async -> Holding? {
            let me = member.node.name
            return await withTaskGroup(of: Holding?.self) { group in
                group.addTask {
                    for await event in await member.members() {
                        if case .changed(let m, _) = event, m.node.name != me, m.status == .alive, m.metadata.documentVersion >= version {
                            return Holding(name: m.node.name, version: m.metadata.documentVersion, digest: m.metadata.documentDigest)
                        }
                    }
                    return nil
                }
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }

        func listenAddress() throws -> (String, Int) {
            if let listen, let e = GossipAddress.endpoint(listen) { return ("\(e.address)", e.port) }
            guard let seed = GossipAddress.endpoint(seeds[0]) else { throw CommandFailure("--seed \(seeds[0]) is not ADDRESS:PORT") }
            guard let local = GossipAddress.route(to: "\(seed.address)", port: seed.port) else {
                throw CommandFailure("no route to the seed \(seeds[0]); name the address to gossip from with --listen")
            }
            return (local, 0)
        }
    }
}

/// ADDRESS:PORT as gossip writes it, and which local address reaches a peer.
enum GossipAddress {
    /// The spec's own ADDRESS:PORT parser (numeric addresses only, as gossip needs), with the port's range.
    static func endpoint(_ s: String) -> Endpoint? {
        guard let e = Endpoint(s), (0...65535).contains(e.port) else { return nil }
        return e
    }

    /// The source address the kernel picks for `host` (a connected UDP socket sends nothing).
    static func route(to host: String, port: Int) -> String? {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let ai = info else { return nil }
        defer { freeaddrinfo(info) }
        let fd = socket(ai.pointee.ai_family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard ok == 0 else { return nil }
        var name = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let got = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getnameinfo($0, length, &name, socklen_t(name.count), nil, 0, NI_NUMERICHOST) }
        }
        guard got == 0 else { return nil }
        return name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
