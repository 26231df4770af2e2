#if canImport(Glibc)
import Glibc
#endif
import LBGossip
import LBGossipSim

/// `lb-bench gossip --members N`: the simulator with the LAN profile (200 ms gossip interval), a cluster
/// started from a shared snapshot as if every member had joined. Measures, in virtual time: a document
/// published at member 0 until 99.9 % and 100 % of members hold it (head seen, fetched, verified);
/// a member crashed until every other marks it dead; bytes on the wire per member per second in a
/// quiet window and while the document spreads. Prints one JSON object.
enum GossipBench {
    static func run(members n: Int, seed: UInt64, quiet: Duration, loss: Double = 0, counters: Bool = false) -> String {
        let started = Bench.now()
        let config = GossipConfig.lan
        let sim = GossipSimulator(config: config, seed: seed)
        sim.recordObservations = false
        // What a director advertises: its role, the agent version, and (after the publish) the head.
        sim.bootstrap(n, metadata: MemberMetadata(roles: ["director"], agentVersion: "0.1.0"))
        // Let the staggered probe timers settle, then measure a quiet window.
        sim.run(for: .seconds(2))
        sim.measureBytes = true
        var t0 = sim.now, b0 = sim.bytesSent
        sim.run(for: quiet)
        progress("quiet window done", started)
        let quietRate = rate(sim.bytesSent - b0, members: n, over: sim.now - t0)

        let head = DocumentHead(version: 2, digest: Array(repeating: 0xD0, count: 32))
        sim.trackedHead = head
        t0 = sim.now; b0 = sim.bytesSent
        sim.publish(head, at: 0)
        let p999Count = Int((Double(n) * 0.999).rounded(.up))
        let full = sim.run(until: { sim.heldAt.count == n }, step: .milliseconds(5), limit: .seconds(30))
        let times = sim.heldAt.values.map { $0 - t0 }.sorted()
        func quantile(_ q: Double) -> Duration? {
            times.isEmpty ? nil : times[min(times.count - 1, Int((Double(times.count) * q).rounded(.up)) - 1)]
        }
        progress("document spread done", started)
        sim.run(for: .seconds(2))
        let publishRate = rate(sim.bytesSent - b0, members: n, over: sim.now - t0)

        let sentBefore = sim.sent
        let victim = n / 2
        let killedAt = sim.now
        sim.kill(victim)
        let name = GossipSimulator.name(victim)
        let dead = sim.run(until: {
            sim.running.allSatisfy { sim.nodes[$0]!.members[name]?.status == .dead }
        }, step: .milliseconds(100), limit: .seconds(300))

        progress("failure detected", started)
        if counters {
            // Where the traffic went, for when a figure looks wrong (stderr, beside the progress lines).
            var queued = 0, suspicions = 0, refutations = 0, unhealthy = 0
            for i in sim.running {
                let g = sim.nodes[i]!
                queued += g.queuedRumours; suspicions += g.stats.suspicionsRaised
                refutations += g.stats.refutations; unhealthy += g.health > 0 ? 1 : 0
            }
            progress("suspicions raised \(suspicions), refutations \(refutations), unhealthy members \(unhealthy), rumours queued \(queued)", started)
            progress("\(sim.sent) messages sent, \(sim.sent - sentBefore) of them in the \(sim.now - killedAt) after the crash", started)
        }
        // Flapping at scale: with `--loss`, a minute of lossy network among the survivors, counting
        // every member another declared dead (all are alive, so each is a false positive).
        var lossFields: [(String, String)] = []
        if loss > 0 {
            sim.network.loss = loss
            var before: [Int: (Int, Int)] = [:]
            for i in sim.running { before[i] = (sim.nodes[i]!.stats.suspicionsRaised, sim.nodes[i]!.stats.declaredDead) }
            sim.run(for: .seconds(60))
            var falseDead = 0, suspicions = 0, declared = 0
            for i in sim.running {
                let g = sim.nodes[i]!
                suspicions += g.stats.suspicionsRaised - before[i]!.0
                declared += g.stats.declaredDead - before[i]!.1
                for m in g.members.values where m.status == .dead && m.node.name != name { falseDead += 1 }
            }
            sim.network.loss = 0
            lossFields = [("loss", "\(loss)"), ("loss_window_s", "60"), ("false_suspicions_raised", "\(suspicions)"),
                          ("false_dead_declarations", "\(declared)"), ("false_dead_at_end", "\(falseDead)")]
            progress("loss window done", started)
        }
        func ms(_ d: Duration?) -> String { d.map { String(Int((GossipMath.seconds($0) * 1000).rounded())) } ?? "null" }
        let fields: [(String, String)] = [
            ("members", "\(n)"),
            ("seed", "\(seed)"),
            ("gossip_interval_ms", ms(config.gossipInterval)),
            ("probe_interval_ms", ms(config.probeInterval)),
            ("p50_convergence_ms", ms(quantile(0.5))),
            // Exact hold times, not the 5 ms polling steps.
            ("p999_convergence_ms", ms(times.count >= p999Count ? times[p999Count - 1] : nil)),
            ("full_convergence_ms", ms(full == nil ? nil : times.last)),
            ("held_by", "\(sim.heldAt.count)"),
            ("failure_detection_ms", ms(dead.map { $0 - killedAt })),
            ("bytes_per_member_per_s", "\(Int(quietRate.rounded()))"),
            ("bytes_per_member_per_s_while_publishing", "\(Int(publishRate.rounded()))"),
            ("memberlist_model_bytes_per_member_per_s", "\(Int(memberlistModel(members: n, config: config).rounded()))"),
            ("wall_s", "\(Int((Bench.now() - started) / 1000))"),
        ] + lossFields
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// Phase timings on stderr, so a long run shows where it is.
    static func progress(_ what: String, _ started: Double) {
        var err = StandardError()
        print("lb-bench gossip: \(what) after \(Int((Bench.now() - started) / 1000)) s", to: &err)
    }

    static func rate(_ bytes: Int, members: Int, over d: Duration) -> Double {
        Double(bytes) / Double(members) / max(GossipMath.seconds(d), 0.001)
    }

    /// memberlist's steady traffic per member for the same profile, from its message layouts with
    /// encryption on (docs/gossip.md derives each figure): one probe sent and one answered per probe
    /// interval, and a push-pull of the full state each way every pushPullScale(30 s, N).
    static func memberlistModel(members n: Int, config: GossipConfig) -> Double {
        let seal = 29.0                  // version byte, 12-byte GCM nonce, 16-byte tag
        let ping = 80.0 + seal           // msgpack map of SeqNo, Node, SourceAddr, SourcePort, SourceNode
        let ack = 23.0 + seal            // SeqNo and an empty Payload
        let entry = 74.0 + 63.0          // pushNodeState with its field names, plus the same metadata as ours
        let header = 32.0                // pushPullHeader
        let probes = (ping + ack) / GossipMath.seconds(config.probeInterval)
        let pushPull = 2 * (Double(n) * entry + header + seal) / GossipMath.seconds(config.pushPullInterval(members: n))
        return probes + pushPull
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { _ = string.withCString { Glibc.write(2, $0, strlen($0)) } }
}
