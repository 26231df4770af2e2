import ArgumentParser
import Foundation
import LBClusterView
import LBControllerAPI
import LBDocument
import LBSpec
import LBSpecYAML

/// Opens a client, runs `body`, and always closes it (AsyncHTTPClient must be shut down).
func withController<T>(_ options: ControllerOptions, _ body: (ControllerClient) async throws -> T) async throws -> T {
    let client = ControllerClient(try options.resolved())
    do {
        let value = try await body(client)
        await client.shutdown()
        return value
    } catch {
        await client.shutdown()
        throw error
    }
}

extension LBCtl {
    /// `lbctl apply SPEC`: the plan diff against the head, then a new version through the controller.
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a spec: show what changes on each node, confirm, sign it as the next version and submit it.",
            discussion: """
            Validates SPEC, fetches the controller's head, prints per node what will be added (+), changed (~) \
            and removed (-), asks for confirmation on a terminal (--yes to skip), signs version head+1 chained \
            to the head, and submits it. "no changes" signs nothing and exits 0. With --wait, shows each node \
            as it confirms and exits 0 only when all have. Exit codes: 0 done, 1 error, 3 someone else applied \
            first (run it again to see the plan against their version), 4 not every node confirmed in --timeout.
            """
        )

        @Argument(help: "The cluster spec.")
        var spec: String

        @OptionGroup var controller: ControllerOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let spec = try loadValidSpec(self.spec)
            try await withController(controller) { client in
                let flow = ChangeFlow(client: client, options: change, output: output.output)
                try await flow.run(spec, head: try await flow.head(), what: "apply \(self.spec)")
            }
        }
    }

    /// `lbctl rollback --to N`: a new version with N's content.
    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new version whose spec is that of an earlier version (history is never rewritten)."
        )

        @Option(help: "The version whose spec to restore.")
        var to: UInt64

        @OptionGroup var controller: ControllerOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await withController(controller) { client in
                let old = try await client.version(to)
                let verified = try client.verify(Array(old.envelope.utf8), cluster: nil, what: "v\(to)")
                let flow = ChangeFlow(client: client, options: change, output: output.output)
                try await flow.run(verified.document.spec, head: try await flow.head(), what: "rollback to v\(to)")
            }
        }
    }

    /// `lbctl drain NODE` and `lbctl undrain NODE`: a new version with the node's real servers drained or not.
    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drain a real server: new connections go elsewhere, established ones go on; it leaves IPVS when idle or at --deadline.",
            discussion: "Makes a new version from the head with `drain: true` on every real server entry of NODE (docs/agent.md, drain)."
        )

        @Argument(help: "The node (a real server) to drain.")
        var node: String

        @Option(help: "Remove it at this time even with connections left: a duration from now (30m) or an RFC 3339 time.")
        var deadline: String?

        @OptionGroup var controller: ControllerOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let at = try deadline.map(Self.deadline)
            try await withController(controller) { client in
                let flow = ChangeFlow(client: client, options: change, output: output.output)
                guard let head = try await flow.head() else { throw CommandFailure("there is no version yet: apply a spec first") }
                let spec = try Self.draining(head.document.spec, node: node, drain: true, deadline: at)
                try await flow.run(spec, head: head, what: "drain \(node)")
            }
        }

        static func deadline(_ text: String) throws -> Int64 {
            if let seconds = parseDuration(text) { return Int64(Date().timeIntervalSince1970 + seconds) }
            do { return try RFC3339.parse(text) } catch {
                throw CommandFailure("--deadline '\(text)' is neither a duration (30m) nor an RFC 3339 time (2026-12-02T03:00:00Z): \(error)")
            }
        }

        /// `spec` with every real server entry of `node` drained (or not), validated.
        static func draining(_ spec: ClusterSpec, node: String, drain: Bool, deadline: Int64?) throws -> ClusterSpec {
            guard let target = spec.nodes.first(where: { $0.name == node }) else {
                let hint = Suggest.closest(to: node, among: spec.nodes.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
                throw CommandFailure("no node '\(node)' in the head's spec\(hint)")
            }
            var out = spec
            var found = 0
            for v in out.vips.indices {
                for s in out.vips[v].services.indices {
                    for r in out.vips[v].services[s].realServers.indices {
                        let rs = out.vips[v].services[s].realServers[r]
                        guard rs.node == node || (rs.node == nil && rs.address == target.address.address) else { continue }
                        found += 1
                        out.vips[v].services[s].realServers[r].drain = drain
                        out.vips[v].services[s].realServers[r].drainDeadline = drain ? deadline : nil
                    }
                }
            }
            guard found > 0 else {
                throw CommandFailure("\(node) is no service's real server, so there is nothing to drain; to move a VIP off a director, lower its priority in the spec")
            }
            let errors = SpecValidator.validate(out).filter { $0.severity == .error }
            guard errors.isEmpty else { throw CommandFailure("the drained spec does not validate: \(errors.map(\.description).joined(separator: "; "))") }
            return out
        }
    }

    struct Undrain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put a drained real server back into rotation at its spec weight.")

        @Argument(help: "The node (a real server) to bring back.")
        var node: String

        @OptionGroup var controller: ControllerOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await withController(controller) { client in
                let flow = ChangeFlow(client: client, options: change, output: output.output)
                guard let head = try await flow.head() else { throw CommandFailure("there is no version yet: apply a spec first") }
                let spec = try Drain.draining(head.document.spec, node: node, drain: false, deadline: nil)
                try await flow.run(spec, head: head, what: "undrain \(node)")
            }
        }
    }

    /// `lbctl status`: every node, VIP and alarm as the controller sees them.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the cluster: nodes (membership, version, VRRP, connections, repairs, errors), VIP masters, alarms.",
            discussion: "Exit 0; with --output json the ClusterStatus document of docs/api.md. --watch prints it again on every event."
        )

        @OptionGroup var controller: ControllerOptions

        @Option(name: .shortAndLong, help: "table (for people) or json (stable, for scripts).")
        var output: StatusFormat = .table

        @Flag(help: "Print again whenever something changes, until interrupted.")
        var watch = false

        enum StatusFormat: String, ExpressibleByArgument, CaseIterable { case table, json }

        func run() async throws {
            try await withController(controller) { client in
                // Written unbuffered: a watcher reading a pipe must see each status when it is printed.
                func show(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
                show(try render(await client.status()))
                guard watch else { return }
                for try await _ in try await client.events() {
                    let status = try await client.status()
                    if output == .table && isatty(1) == 1 { show("\u{1B}[H\u{1B}[2J") }
                    show(try render(status))
                }
            }
        }

        func render(_ s: ClusterStatus) throws -> String {
            switch output {
            case .json: return String(decoding: try APIJSON.encoder(pretty: true).encode(s), as: UTF8.self)
            case .table: return StatusTable.render(s)
            }
        }
    }

    /// `lbctl history`: every version, newest first.
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the applied versions, newest first: time, signers, what changed.")

        @OptionGroup var controller: ControllerOptions

        @Option(help: "How many versions.")
        var limit: Int = 50

        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await withController(controller) { client in
                let versions = try await client.history(limit: limit)
                switch output.output {
                case .json: print(String(decoding: try APIJSON.encoder(pretty: true).encode(HistoryPage(versions: versions)), as: UTF8.self))
                case .text:
                    print(Table.render(["VERSION", "ACCEPTED", "SIGNERS", "DIGEST", "SUMMARY"], versions.map {
                        ["v\($0.version)", RFC3339.format(Int64($0.acceptedAt.timeIntervalSince1970)), $0.signers.joined(separator: ","),
                         String($0.digest.prefix(19)), $0.summary]
                    }), terminator: "")
                }
            }
        }
    }

    /// `lbctl diff V1 [V2]`: what changed on each node between two versions.
    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show per node what changed from version V1 to V2 (default: the head).")

        @Argument(help: "The older version.")
        var from: UInt64

        @Argument(help: "The newer version (default: the head).")
        var to: UInt64?

        @OptionGroup var controller: ControllerOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await withController(controller) { client in
                let a = try client.verify(Array(try await client.version(from).envelope.utf8), cluster: nil, what: "v\(from)")
                let b: VerifiedDocument
                if let to {
                    b = try client.verify(Array(try await client.version(to).envelope.utf8), cluster: nil, what: "v\(to)")
                } else {
                    guard let head = try await client.head() else { throw CommandFailure("there is no version yet") }
                    b = try client.verify(head, cluster: nil, what: "the head")
                }
                let diff = PlanDiff.diff(from: a.document.spec, to: b.document.spec)
                switch output.output {
                case .json: print(String(decoding: try SpecJSON.encoder(pretty: true).encode(diff), as: UTF8.self))
                case .text:
                    print("v\(a.document.version) → v\(b.document.version)")
                    print(diff.isEmpty && a.document.spec == b.document.spec ? "no changes\n" : PlanDiffText.render(diff, spec: b.document.spec), terminator: "")
                }
            }
        }
    }

    /// `lbctl get`: the spec of a version, as YAML.
    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the spec YAML of the head, or of --version N.")

        @Option(help: "The version (default: the head).")
        var version: UInt64?

        @OptionGroup var controller: ControllerOptions

        func run() async throws {
            try await withController(controller) { client in
                let envelope: [UInt8]
                if let version {
                    envelope = Array(try await client.version(version).envelope.utf8)
                } else {
                    guard let head = try await client.head() else { throw CommandFailure("there is no version yet") }
                    envelope = head
                }
                let verified = try client.verify(envelope, cluster: nil, what: version.map { "v\($0)" } ?? "the head")
                print(SpecYAMLWriter.yaml(verified.document.spec, header: [
                    "cluster '\(verified.document.cluster)' v\(verified.document.version) \(verified.digest)",
                    "signed by \(verified.signers.map(\.keyID).joined(separator: ", ")) at \(RFC3339.format(Int64(verified.document.issuedAt.timeIntervalSince1970)))",
                ]), terminator: "")
            }
        }
    }
}

/// Plain aligned columns, the last one unpadded.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

/// `lbctl status`'s table.
enum StatusTable {
    static func render(_ s: ClusterStatus) -> String {
        var out = "cluster \(s.cluster) (controller \(s.controller))"
        if let h = s.head { out += ", head v\(h.version) \(h.digest.prefix(19)) by \(h.signers.joined(separator: ","))" } else { out += ", no version yet" }
        out += "\n\n"
        out += Table.render(["NODE", "MEMBER", "ROLES", "VERSION", "VRRP", "CONNS", "REPAIRS", "ERROR"], s.nodes.map { n in
            let version = n.version.map { "v\($0)\(n.converged ? "" : " (applying)")" } ?? "-"
            let vrrp = n.vrrp.isEmpty ? "-" : n.vrrp.map { "\($0.name):\($0.state)" }.joined(separator: ",")
            return [n.name, n.member, n.roles.isEmpty ? "-" : n.roles.joined(separator: ","), version, vrrp,
                    "\(n.activeConnections)/\(n.inactiveConnections)", "\(n.repairsTotal)", n.lastError ?? ""]
        })
        if !s.vips.isEmpty {
            out += "\n" + Table.render(["VIP", "ADDRESS", "ROUTER ID", "MASTER", "DIRECTORS"], s.vips.map {
                [$0.name, $0.address, "\($0.routerID)", $0.masters.count > 1 ? "SPLIT BRAIN: " + $0.masters.joined(separator: "+") : ($0.master ?? "none"),
                 $0.directors.joined(separator: ",")]
            })
        }
        let health = s.nodes.flatMap { n in n.destinations.filter { $0.health != "up" }.map { "\(n.name): \($0.endpoint) of \($0.service) is \($0.health)" } }
        if !health.isEmpty { out += "\n" + health.joined(separator: "\n") + "\n" }
        if let c = s.convergence.first {
            out += "\nv\(c.version): \(c.converged.count) converged" + (c.applying.isEmpty ? "" : ", applying: \(c.applying.joined(separator: ", "))")
                + (c.pending.isEmpty ? "" : ", pending: " + c.pending.map { "\($0.node)\($0.reason.map { " (\($0))" } ?? "")" }.joined(separator: ", ")) + "\n"
        }
        for a in s.alarms { out += "\nALARM \(a.kind) since \(RFC3339.format(Int64(a.since.timeIntervalSince1970))): \(a.message)\n" }
        return out
    }
}
