import LBReport

/// When a director asks for the master's whole connection table, when it gives its own, and whether it
/// holds back VRRP preemption meanwhile (docs/connection-sync.md). A pure value fed observations and
/// the time; `HandoverService` does the reading, sending and reporting.
///
/// Why: the kernel's sync daemon sends a connection only when its packets cross sync_threshold, so a
/// director that comes back (a reboot, an agent restart, a link that returns) lacks every quiet
/// connection; preempting then resets them all (keepalived's issue #237). So a director that becomes
/// BACKUP asks, over its gossiped report, for the table; the master multicasts every entry in the
/// kernel's own sync format to the backup's kernel thread and reports how many; the backup checks its
/// table holds them and only then lets its speakers preempt.
public struct HandoverEngine: Sendable {
    /// What the engine needs to know now.
    public struct Observation: Sendable, Equatable {
        /// This node runs connection sync (a director whose plan has sync daemons).
        public var syncing: Bool
        /// The plan is in the kernel (services and the backup sync thread), so entries sent now land.
        public var ready: Bool
        /// The plan has VRRP instances (without them there is no master to take over from).
        public var vrrp: Bool
        /// Some VRRP instance of this node is MASTER / BACKUP.
        public var master: Bool
        public var backup: Bool
        /// Entries of planned services in this kernel's table (read while verifying a handover).
        public var localEntries: Int?
        /// The other directors' handover state, from their reports.
        public var peers: [Peer]

        public init(syncing: Bool, ready: Bool, vrrp: Bool = true, master: Bool, backup: Bool, localEntries: Int? = nil, peers: [Peer] = []) {
            self.syncing = syncing
            self.vrrp = vrrp
            self.ready = ready
            self.master = master
            self.backup = backup
            self.localEntries = localEntries
            self.peers = peers
        }
    }

    /// Another director as its report shows it.
    public struct Peer: Sendable, Equatable {
        public var name: String
        public var master: Bool
        public var handover: AgentReport.Handover?

        public init(name: String, master: Bool, handover: AgentReport.Handover?) {
            self.name = name
            self.master = master
            self.handover = handover
        }
    }

    /// What the shell is to do.
    public enum Action: Sendable, Equatable {
        /// Hold (true) or release VRRP preemption.
        case holdPreemption(Bool)
        /// Read the table and multicast it; then call `gave(to:token:entries:)`.
        case give(to: String, token: String)
        case log(Level, String)
    }

    public enum Level: Sendable, Equatable { case info, notice, warning }

    enum Phase: Sendable, Equatable {
        case idle
        /// Asking with `token`, `attempt` of `maxAttempts` of the round begun at `roundStart`.
        case asking(token: String, attempt: Int, roundStart: Duration)
        /// `from` gave `expected` entries; waiting for this table to hold them.
        case verifying(token: String, from: String, expected: Int, since: Duration, attempt: Int, roundStart: Duration)
    }

    /// How long a backup waits, in all, for a master's table before it preempts without it.
    public var patience: Duration
    /// How long a given table may take to show in this kernel before it is asked for again.
    public var verifyWindow: Duration
    public var maxAttempts: Int

    private(set) var phase: Phase = .idle
    private var wasBackup = false
    /// This node became BACKUP (or started) and has not had a master's table since.
    private var needTable = true
    /// When that was first seen: patience counts from there, ready or not.
    private var needSince: Duration?
    private(set) public var holding: Bool
    /// Requests answered, the latest per peer.
    private(set) public var gave: [AgentReport.Handover.Gave] = []
    private var giving: Set<String> = []

    /// `holding` starts true: a director that starts is a returning one until it knows better, and its
    /// speakers must not preempt before the first observation.
    public init(patience: Duration = .seconds(60), verifyWindow: Duration = .seconds(5), maxAttempts: Int = 3) {
        self.patience = patience
        self.verifyWindow = verifyWindow
        self.maxAttempts = maxAttempts
        holding = true
    }

    /// The token of the open request, for the report.
    public var want: String? {
        switch phase {
        case .asking(let t, _, _), .verifying(let t, _, _, _, _, _): return t
        case .idle: return nil
        }
    }

    /// Whether the table of planned-service entries is needed now (the shell reads it only then).
    public var needsLocalEntries: Bool {
        if case .verifying = phase { return true }
        return false
    }

    /// The report's part.
    public var report: AgentReport.Handover? {
        want == nil && gave.isEmpty ? nil : AgentReport.Handover(want: want, gave: gave.isEmpty ? nil : gave)
    }

    public mutating func step(now: Duration, _ o: Observation, token: () -> String) -> [Action] {
        var out: [Action] = []
        let becameBackup = o.backup && !wasBackup
        wasBackup = o.backup
        guard o.syncing, o.vrrp else {
            phase = .idle
            needTable = false
            needSince = nil
            gave = []
            release(&out)
            return out
        }

        // Giving: as master, answer every open request not answered yet.
        if o.master {
            for p in o.peers {
                guard let t = p.handover?.want, !giving.contains(t), !gave.contains(where: { $0.to == p.name && $0.token == t }) else { continue }
                giving.insert(t)
                out.append(.give(to: p.name, token: t))
            }
        }
        // Answers nobody waits for any more are dropped, so the report stays small.
        gave.removeAll { g in !o.peers.contains { $0.name == g.to && $0.handover?.want == g.token } }

        // Asking: only a backup needs a table, and it holds preemption until it has one.
        if o.master {
            if want != nil { out.append(.log(.info, "handover: this node is master now; nothing to wait for")) }
            phase = .idle
            needTable = false
            needSince = nil
            release(&out)
            return out
        }
        if becameBackup { needTable = true }
        if needTable {
            hold(&out)
            if needSince == nil { needSince = now }
        }
        switch phase {
        case .idle:
            guard needTable, o.backup else { break }
            if o.ready {
                startRound(attempt: 1, roundStart: needSince ?? now, token: token, &out)
            } else if let since = needSince, now - since >= patience {
                // A plan that does not converge must not keep this director from ever taking its VIPs back.
                finish(&out, .warning, "handover: this node's plan is not in the kernel after \(Self.seconds(patience)); preempting without the master's table")
            }
        case .asking(let t, let attempt, let roundStart):
            if let (from, n) = answer(to: t, in: o.peers) {
                phase = .verifying(token: t, from: from, expected: n, since: now, attempt: attempt, roundStart: roundStart)
                out.append(.log(.info, "handover: \(from) sent \(n) entries; checking they arrived"))
            } else if now - roundStart >= patience {
                finish(&out, .warning, "handover: no master sent its connection table in \(Self.seconds(patience)); preempting without it")
            }
        case .verifying(_, let from, let expected, let since, let attempt, let roundStart):
            let have = o.localEntries ?? 0
            if have >= expected {
                finish(&out, .notice, "handover: \(have) entries here after \(from) sent \(expected), \(Self.seconds(now - roundStart)) after asking; preemption allowed")
            } else if now - since >= verifyWindow {
                if attempt < maxAttempts {
                    out.append(.log(.warning, "handover: \(have) of \(from)'s \(expected) entries arrived; asking again"))
                    startRound(attempt: attempt + 1, roundStart: roundStart, token: token, &out)
                } else {
                    finish(&out, .warning, "handover: \(have) of \(from)'s \(expected) entries after \(attempt) tries; preempting anyway")
                }
            }
        }
        return out
    }

    private mutating func finish(_ out: inout [Action], _ level: Level, _ message: String) {
        phase = .idle
        needTable = false
        needSince = nil
        out.append(.log(level, message))
        release(&out)
    }

    /// The shell sent `entries` entries for `token`.
    public mutating func gave(to peer: String, token: String, entries: Int) {
        giving.remove(token)
        gave.removeAll { $0.to == peer }
        gave.append(.init(to: peer, token: token, entries: entries))
    }

    /// The shell could not send (it logs why); the request is answered again on a later step.
    public mutating func failedToGive(token: String) { giving.remove(token) }

    private mutating func startRound(attempt: Int, roundStart: Duration, token: () -> String, _ out: inout [Action]) {
        let t = token()
        phase = .asking(token: t, attempt: attempt, roundStart: roundStart)
        hold(&out)
        out.append(.log(.info, "handover: asking the master for its connection table (request \(t), try \(attempt))"))
    }

    private func answer(to token: String, in peers: [Peer]) -> (String, Int)? {
        for p in peers {
            if let g = p.handover?.gave?.first(where: { $0.token == token }) { return (p.name, g.entries) }
        }
        return nil
    }

    private mutating func hold(_ out: inout [Action]) {
        guard !holding else { return }
        holding = true
        out.append(.holdPreemption(true))
    }

    private mutating func release(_ out: inout [Action]) {
        guard holding else { return }
        holding = false
        out.append(.holdPreemption(false))
    }

    static func seconds(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms"
    }
}
