import ArgumentParser
import Dispatch
import Foundation
import LBCrypto
import LBDocument
import LBGossip
import LBGossipService
import LBSpec
#if canImport(Glibc)
import Glibc
#endif

extension Agent {
    /// `lb-agent gossip`: one gossip member on its own, printing what it sees as JSON lines.
    struct Gossip: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a gossip member and print membership, documents and reports as JSON lines.",
            discussion: """
            Joins through --seed (none for the first member), holds the newest document its trust list \
            verifies and serves it to the others, and prints one JSON object per line for every member \
            change, document held and report received. On SIGTERM or SIGINT it leaves gracefully; \
            SIGKILL looks like a crash to the others. The agent daemon runs the same member.
            """
        )

        @Option(help: "This member's name, unique in the cluster.")
        var name: String

        @Option(help: "Address and port to listen on for UDP and TCP, e.g. 10.0.0.11:7946.")
        var listen: String

        @Option(help: "Address and port peers should use, when --listen is a wildcard.")
        var advertise: String?

        @Option(name: .customLong("seed"), help: "A member to join through, ADDRESS:PORT (repeatable).")
        var seeds: [String] = []

        @Option(help: "The cluster keyring file (lbctl init writes cluster.keyring).")
        var keyring: String

        @Option(help: "Trusted operator keys (lbctl init writes operator.pub).")
        var trust: String

        @Option(help: "Refuse documents for any other cluster.")
        var cluster: String?

        @Option(help: "Directory that keeps the held document across restarts.")
        var stateDir: String?

        @Option(help: "A signed document (lbctl sign) to verify and publish at start, as the controller does.")
        var publish: String?

        @Option(help: "A report to publish at start (text, at most 1,024 bytes).")
        var report: String?

        @Option(help: "Timing profile: lan (memberlist's LAN defaults) or fast (half the detection time).")
        var profile: String = "lan"

        func run() async throws {
            let config: GossipConfig
            switch profile {
            case "lan": config = .lan
            case "fast": config = .fast
            default: throw ValidationError("--profile must be lan or fast, not '\(profile)'")
            }
            guard let endpoint = Endpoint(listen), (0...65535).contains(endpoint.port) else {
                throw ValidationError("--listen must be ADDRESS:PORT, not '\(listen)'")
            }
            let host = "\(endpoint.address)", port = endpoint.port
            let ring = try KeyFile.readKeyring(at: keyring)
            let trusted = try KeyFile.readPublicKeys(at: trust).map(\.key)
            let policy = try TrustPolicy(trustedKeys: trusted, expectedCluster: cluster)
            let member = try await GossipService.listen(name: name, host: host, port: port, advertise: advertise, keyring: ring,
                                                        policy: policy, config: config, stateDirectory: stateDir)
            let events = Task { await Self.print(member) }
            await member.start(seeds: seeds)
            if let publish {
                let bytes: [UInt8]
                do { bytes = try Array(Data(contentsOf: URL(fileURLWithPath: publish))) } catch {
                    await member.stop()
                    throw ValidationError("cannot read \(publish): \(error.localizedDescription)")
                }
                do { try await member.publish(envelopeJSON: bytes) } catch {
                    await member.stop()
                    throw ValidationError("\(publish): \(error.description)")
                }
            }
            if let report { try await member.publishReport(Array(report.utf8)) }

            // SIGTERM and SIGINT: leave gracefully, so the others mark this member left, not dead.
            signal(SIGTERM, SIG_IGN)
            signal(SIGINT, SIG_IGN)
            let stop = AsyncStream<Void>.makeStream()
            let sources = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { stop.continuation.yield() }
                source.resume()
                return source
            }
            defer { sources.forEach { $0.cancel() } }
            for await _ in stop.stream { break }
            await member.leave()
            events.cancel()
        }

        /// Every member, document and report event as one JSON line, until the member stops.
        static func print(_ member: GossipService) async {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in await member.members() {
                        switch event {
                        case .changed(let m, _):
                            line(["event": .string("member"), "name": .string(m.node.name), "address": .string(m.node.address),
                                  "status": .string(m.status.description), "incarnation": .number(m.incarnation),
                                  "document_version": .number(m.metadata.documentVersion)])
                        case .removed(let n):
                            line(["event": .string("removed"), "name": .string(n.name)])
                        }
                    }
                }
                group.addTask {
                    for await d in await member.documents() {
                        line(["event": .string("document"), "version": .number(d.head.version),
                              "digest": .string(d.verified.digest.description), "cluster": .string(d.verified.document.cluster)])
                    }
                }
                group.addTask {
                    for await r in await member.reports() {
                        line(["event": .string("report"), "name": .string(r.node), "version": .number(r.version),
                              "text": .string(String(decoding: r.bytes, as: UTF8.self))])
                    }
                }
            }
        }

        enum Value { case string(String), number(UInt64) }

        /// One JSON object per write(2), keys in a fixed order, so lines from concurrent tasks never interleave.
        static func line(_ fields: KeyValuePairs<String, Value>) {
            let body = fields.map { key, value -> String in
                switch value {
                case .string(let s): "\"\(key)\": \(quote(s))"
                case .number(let n): "\"\(key)\": \(n)"
                }
            }.joined(separator: ", ")
            let bytes = Array("{\(body)}\n".utf8)
            _ = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
        }

        static func quote(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case _ where u.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
                default: out.unicodeScalars.append(u)
                }
            }
            return out + "\""
        }
    }
}
