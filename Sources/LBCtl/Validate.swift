import ArgumentParser
import LBSpec
import LBSpecYAML

extension LBCtl {
    /// `lbctl validate FILE...`: every problem of every file, one per line.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check cluster specs and report every problem as FILE:LINE:COLUMN: error|warning: message.",
            discussion: "Exits 1 when any file has an error, 0 otherwise (warnings allowed)."
        )

        @Argument(help: "Spec files to check.")
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("name at least one spec file") }
        }

        func run() throws {
            var failed = false
            for file in files {
                let loaded = SpecLoader.load(file: file)
                loaded.diagnostics.forEach { print($0) }
                if let spec = loaded.spec {
                    print("\(file): valid: cluster '\(spec.cluster)', \(summary(spec))")
                } else {
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}

/// "4 nodes, 1 VIP, 1 service" with the right plurals.
func summary(_ spec: ClusterSpec) -> String {
    let services = spec.vips.reduce(0) { $0 + $1.services.count }
    return [counted(spec.nodes.count, "node"), counted(spec.vips.count, "VIP"), counted(services, "service")].joined(separator: ", ")
}

func counted(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

/// Loads a spec for a command that needs a valid one: problems are printed, errors end the command.
func loadValidSpec(_ file: String) throws -> ClusterSpec {
    let loaded = SpecLoader.load(file: file)
    loaded.diagnostics.forEach { printError($0.description) }
    guard let spec = loaded.spec else { throw ExitCode(1) }
    return spec
}
