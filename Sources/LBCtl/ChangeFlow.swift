import ArgumentParser
import Foundation
import LBClusterView
import LBControllerAPI
import LBCrypto
import LBDocument
import LBSpec

#if canImport(Glibc)
import Glibc
#endif

/// lbctl's exit codes (docs/api.md): 0 done, 1 error or refusal, 2 bad usage (ArgumentParser's), 3 someone
/// else applied first (run the command again), 4 applied but not every node confirmed in time.
enum ExitCodes {
    static let conflict = ExitCode(3)
    static let notConverged = ExitCode(4)
}

/// `--yes`, `--wait`, `--timeout`: how every command that makes a new version goes on.
struct ChangeOptions: ParsableArguments {
    @Flag(help: "Apply without asking (needed when standard input is not a terminal).")
    var yes = false

    @Flag(help: "Wait until every node of the spec has confirmed the new version; exit 4 naming the laggards if not in --timeout.")
    var wait = false

    @Option(help: "How long --wait waits (90s, 5m…).")
    var timeout: String = "120s"

    @Option(help: "Expiry of the signed document, as a duration from now (30d…).")
    var expiresIn: String?

    func validate() throws {
        if parseDuration(timeout) == nil { throw ValidationError("--timeout '\(timeout)' is not a duration such as 90s or 5m") }
        if let expiresIn, parseDuration(expiresIn) == nil { throw ValidationError("--expires-in '\(expiresIn)' is not a duration such as 30d") }
    }
}

/// The one path every change takes, whether `apply`, `rollback`, `drain` or `undrain`: the plan diff
/// against the head, confirmation, a document signed as head + 1 and chained to it, submission, and
/// with --wait each node's progress until all have confirmed.
struct ChangeFlow {
    let client: ControllerClient
    let options: ChangeOptions
    let output: OutputFormat

    /// The head as the operator's trust list verifies it (nil before any version).
    func head() async throws -> VerifiedDocument? {
        guard let envelope = try await client.head() else { return nil }
        return try client.verify(envelope, cluster: nil, what: "the controller's head")
    }

    func run(_ spec: ClusterSpec, head: VerifiedDocument?, what: String) async throws {
        if let head, head.document.cluster != spec.cluster {
            throw CommandFailure("the spec is for cluster '\(spec.cluster)', the controller's is '\(head.document.cluster)'")
        }
        if let head, head.document.spec == spec {
            emit(text: "no changes: v\(head.document.version) already holds this spec", json: ["changed": false, "version": head.document.version])
            return
        }
        let diff = PlanDiff.diff(from: head?.document.spec, to: spec)
        let version = (head?.document.version ?? 0) + 1
        if output == .text {
            print("\(what): v\(version) on cluster '\(spec.cluster)'\(head.map { ", replacing v\($0.document.version)" } ?? ", the first version")")
            print(PlanDiffText.render(diff, spec: spec), terminator: "")
        }
        try confirm(version)

        let now = Date()
        let expiry = options.expiresIn.flatMap(parseDuration).map { now.addingTimeInterval($0) }
        var document = try head.map { try $0.successor(spec: spec, issuedAt: now, expiresAt: expiry) }
            ?? DesiredStateDocument(spec: spec, version: 1, issuedAt: now, expiresAt: expiry)
        document.version = version
        let envelope = try document.signed(by: [client.settings.key]).jsonEncoded()

        // Subscribed before submitting, so no node's confirmation can arrive unseen.
        let events = options.wait ? try await client.events() : nil
        let started = ContinuousClock.now
        let result: SubmitResult
        do {
            result = try await client.submit(envelope)
        } catch let failure as APIFailure where failure.error.error == "not_the_next_version" {
            printError("lbctl: error: \(failure.error.message)")
            throw ExitCodes.conflict
        }
        if output == .text { print("applied v\(result.version) \(result.digest.prefix(23)), signed by \(client.settings.key.keyID)") }
        guard let events else {
            if output == .json { printJSON(["changed": true, "version": result.version, "digest": result.digest]) }
            return
        }
        let timeout = parseDuration(options.timeout).map { Duration.milliseconds(Int64($0 * 1000)) } ?? .seconds(120)
        try await Waiter(client: client, version: result.version, output: output).wait(events, started: started, timeout: timeout, digest: result.digest)
    }

    func confirm(_ version: UInt64) throws {
        guard !options.yes else { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CommandFailure("standard input is not a terminal, so nobody can confirm: pass --yes to apply v\(version) without asking")
        }
        // Written unbuffered, so the question shows before the answer is read.
        FileHandle.standardOutput.write(Data("Apply v\(version)? Only 'yes' applies: ".utf8))
        guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
            print("cancelled: nothing was signed or sent")
            throw ExitCode(1)
        }
    }

    func emit(text: String, json: [String: Any]) {
        switch output {
        case .text: print(text)
        case .json: printJSON(json)
        }
    }
}

/// Follows one version until every node of its spec is converged on it, printing each node's steps.
struct Waiter {
    let client: ControllerClient
    let version: UInt64
    let output: OutputFormat

    func wait(_ events: AsyncThrowingStream<ClusterEvent, any Error>, started: ContinuousClock.Instant, timeout: Duration, digest: String) async throws {
        let outcome: Convergence? = try await withThrowingTaskGroup(of: Convergence?.self) { group in
            group.addTask {
                var progress = Progress(version: version, started: started, output: output)
                func show(_ status: ClusterStatus) -> Convergence? { progress.show(status) }
                if let c = show(try await client.status()), c.complete { return c }
                for try await e in events {
                    guard e.kind == ClusterEvent.Kind.nodeProgress.rawValue || e.kind == ClusterEvent.Kind.converged.rawValue
                        || e.kind == ClusterEvent.Kind.refused.rawValue else { continue }
                    if let c = show(try await client.status()), c.complete { return c }
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if let outcome, outcome.complete {
            switch output {
            case .text: print("v\(version) converged on all \(outcome.converged.count) nodes in \(String(format: "%.2f", seconds)) s")
            case .json: printJSON(["changed": true, "version": version, "digest": digest, "converged": true, "nodes": outcome.converged, "seconds": seconds])
            }
            return
        }
        let status = try await client.status()
        let final = status.convergence.first { $0.version == version }
        let errors = Dictionary(status.nodes.map { ($0.name, $0.lastError) }, uniquingKeysWith: { a, _ in a })
        let laggards = (final?.pending.map { "\($0.node) (\($0.reason ?? $0.version.map { "at v\($0)" } ?? "no report"))" } ?? [])
            + (final?.applying.map { node in "\(node) (applied, not converged\((errors[node] ?? nil).map { ": \($0)" } ?? ""))" } ?? [])
        switch output {
        case .text: printError("lbctl: error: v\(version) is not on every node after \(options(timeout)): \(laggards.joined(separator: ", "))")
        case .json: printJSON(["changed": true, "version": version, "digest": digest, "converged": false, "laggards": laggards, "seconds": seconds])
        }
        throw ExitCodes.notConverged
    }

    func options(_ d: Duration) -> String { "\(d.components.seconds) s" }
}

/// What --wait has printed of each node, so each step is printed once.
struct Progress {
    let version: UInt64
    let started: ContinuousClock.Instant
    let output: OutputFormat
    var shown: [String: String] = [:]

    init(version: UInt64, started: ContinuousClock.Instant, output: OutputFormat) {
        self.version = version
        self.started = started
        self.output = output
    }

    mutating func show(_ status: ClusterStatus) -> Convergence? {
        guard let c = status.convergence.first(where: { $0.version == version }) else { return nil }
        guard output == .text else { return c }
        let elapsed = ContinuousClock.now - started
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        for node in c.converged where shown[node] != "converged" {
            shown[node] = "converged"
            print("  \(node): converged on v\(version) (\(ms) ms)")
        }
        for node in c.applying where shown[node] != "applied" {
            shown[node] = "applied"
            print("  \(node): applied v\(version), converging")
        }
        for l in c.pending where shown[l.node] == nil {
            shown[l.node] = "pending"
            print("  \(l.node): pending\(l.reason.map { " (\($0))" } ?? "")")
        }
        return c
    }
}

/// The human form of a plan diff: one block per node, one line per change, as terraform prints a plan.
enum PlanDiffText {
    static func render(_ nodes: [PlanDiff.NodeChanges], spec: ClusterSpec) -> String {
        guard !nodes.isEmpty else { return "no change to any node's kernel state (only settings the agents do not apply changed)\n" }
        var out = ""
        for n in nodes {
            out += "node \(n.node)\(spec.nodes.contains { $0.name == n.node } ? "" : " (removed from the spec)")\n"
            for c in n.changes { out += "  \(c)\n" }
        }
        let all = nodes.flatMap(\.changes)
        let count = { (a: PlanDiff.Change.Action) in all.filter { $0.action == a }.count }
        out += "plan: \(count(.add)) to add, \(count(.change)) to change, \(count(.remove)) to remove, on \(nodes.count) node\(nodes.count == 1 ? "" : "s")\n"
        return out
    }
}
