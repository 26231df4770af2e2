import ArgumentParser
import Foundation
import LBKeepalived
import LBSpec
import LBSpecYAML

extension LBCtl {
    /// `lbctl import …`: a cluster spec from another tool's configuration.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a cluster spec from existing configuration files.",
            subcommands: [ImportKeepalived.self]
        )
    }
}

/// `lbctl import keepalived FILE... [-o SPEC]`: one keepalived.conf per director, merged into one spec.
struct ImportKeepalived: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keepalived",
        abstract: "Merge the keepalived.conf of every director into one cluster spec.",
        discussion: """
        Each file is one director (name it with --name NODE=FILE, else its global_defs router_id); '@NODE' \
        lines are read for that name, so one file with such lines may be named for several directors. The \
        same virtual_router_id in several files becomes one VRRP group with each director's priority, the \
        same virtual_server one service; real servers become nodes rs1, rs2, … What keepalived runs despite \
        `keepalived -t` (unknown keywords, values it ignores) imports with a warning. Problems are printed to \
        standard error as FILE:LINE: error|warning: message. Exit 0 when the spec validates (warnings \
        allowed), 1 otherwise; the spec is written only then. docs/keepalived.md lists how every keyword maps.
        """
    )

    @Argument(help: "keepalived.conf files, one per director.")
    var files: [String] = []

    @Option(name: .customLong("name"), help: ArgumentHelp("Name the director of a file (the file is imported too); a file with '@NODE' lines may be named once per director.", valueName: "NODE=FILE"))
    var names: [String] = []

    @Option(name: .customLong("address"), help: ArgumentHelp("A director's own address, for files without unicast_src_ip.", valueName: "NODE=IP[/PREFIX]"))
    var addresses: [String] = []

    @Option(help: "The cluster name for the spec (keepalived.conf has none).")
    var cluster: String = "imported"

    @Option(name: [.customShort("o"), .customLong("out")], help: ArgumentHelp("Write the spec to this file instead of standard output.", valueName: "SPEC"))
    var out: String?

    func validate() throws {
        if files.isEmpty && names.isEmpty { throw ValidationError("name at least one keepalived.conf") }
        _ = try parsedNames()
        _ = try parsedAddresses()
        let valid = cluster.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
        if cluster.isEmpty || cluster.utf8.count > 63 || !valid {
            throw ValidationError("--cluster '\(cluster)' must be 1–63 characters of letters, digits, '-', '_' and '.'")
        }
    }

    /// `--name NODE=FILE` pairs, in the order given.
    func parsedNames() throws -> [(node: String, file: String)] {
        try names.map { pair in
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex, pair.index(after: eq) != pair.endIndex else {
                throw ValidationError("--name '\(pair)' is not NODE=FILE")
            }
            return (String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
        }
    }

    func parsedAddresses() throws -> [String: CIDR] {
        var out: [String: CIDR] = [:]
        for pair in addresses {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex, let cidr = CIDR(String(pair[pair.index(after: eq)...])) else {
                throw ValidationError("--address '\(pair)' is not NODE=IP or NODE=IP/PREFIX")
            }
            out[String(pair[..<eq])] = cidr
        }
        return out
    }

    /// One entry per director: the listed files in order, each named by the first `--name` for it; a
    /// further name for a file is a further director read from it (its `@NODE` lines).
    func directors() throws -> [(file: String, name: String?)] {
        var directors: [(file: String, name: String?)] = files.map { ($0, nil) }
        func standard(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.path }
        for (node, given) in try parsedNames() {
            // "./a.conf" and "a.conf" are one file: keep the spelling it was listed with first.
            let same = directors.indices.filter { standard(directors[$0].file) == standard(given) }
            if same.contains(where: { directors[$0].name == node }) { continue }
            if let unnamed = same.first(where: { directors[$0].name == nil }) {
                directors[unnamed].name = node
            } else {
                directors.append((same.first.map { directors[$0].file } ?? given, node))
            }
        }
        return directors
    }

    func run() throws {
        let directors = try directors()
        var paths: [String] = []
        for d in directors where !paths.contains(d.file) { paths.append(d.file) }
        let options = KeepalivedImportOptions(cluster: cluster, addresses: try parsedAddresses())
        let result = KeepalivedImporter.importDirectors(directors, options: options)
        result.diagnostics.forEach { printError($0.description) }
        guard let spec = result.spec else { throw ExitCode(1) }

        let yaml = SpecYAMLWriter.yaml(spec, header: [
            "imported by lbctl import keepalived from \(paths.joined(separator: ", "))",
            "docs/spec.md explains every key; docs/keepalived.md how keepalived's keywords map to them.",
        ])
        // The written spec must read back as exactly this spec, or nothing is written.
        let reread = SpecLoader.load(yaml: yaml, file: out ?? "<imported spec>")
        guard let back = reread.spec, back == spec else {
            reread.diagnostics.filter { $0.diagnostic.severity == .error }.forEach { printError($0.description) }
            throw CommandFailure("internal error: the imported spec does not read back as written; please report this with the keepalived.conf files")
        }
        if let out {
            try writeAtomically(Array(yaml.utf8), to: out)
            print("\(out): imported \(counted(paths.count, "file")): cluster '\(spec.cluster)', \(summary(spec))")
        } else {
            print(yaml, terminator: "")
        }
    }
}
