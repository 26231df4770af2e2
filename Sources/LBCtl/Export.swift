import ArgumentParser
import Foundation
import LBKeepalived
import LBSpec

extension LBCtl {
    /// `lbctl export …`: what a host would need without lb-agent.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write another tool's configuration for one node of a spec.",
            subcommands: [ExportKeepalived.self, ExportRealServer.self]
        )
    }
}

/// Options both exports share.
struct ExportOptions: ParsableArguments {
    @Argument(help: "The cluster spec.")
    var spec: String

    @Option(help: "The node to export for.")
    var node: String

    @Option(name: [.customShort("o"), .customLong("out")], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "FILE"))
    var out: String?

    /// Prints or writes (atomically) the text; `mode` for a file.
    func emit(_ text: String, mode: Int16 = 0o644) throws {
        guard let out else {
            print(text, terminator: "")
            return
        }
        try writeAtomically(Array(text.utf8), to: out)
        if chmod(out, mode_t(mode)) != 0 {
            throw CommandFailure("cannot set the mode of \(out): \(String(cString: strerror(errno)))")
        }
    }
}

/// `lbctl export keepalived SPEC --node NAME [-o FILE]`.
struct ExportKeepalived: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keepalived",
        abstract: "Write the keepalived.conf a director needs for what lb-agent would do on it.",
        discussion: "keepalived -t accepts the file without a message. What keepalived cannot express exactly is said on standard error and in comments in the file."
    )

    @OptionGroup var options: ExportOptions

    func run() throws {
        let spec = try loadValidSpec(options.spec)
        let export: KeepalivedExport
        do {
            export = try KeepalivedExporter.export(spec, node: options.node, source: options.spec)
        } catch let error as KeepalivedExportError {
            throw CommandFailure(error.description)
        }
        export.warnings.forEach { printError("warning: \($0)") }
        try options.emit(export.text)
    }
}

/// `lbctl export realserver SPEC --node NAME [-o FILE]`.
struct ExportRealServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "realserver",
        abstract: "Write the shell script a real server runs instead of lb-agent (sysctls, VIPs on lo).",
        discussion: "`SCRIPT` or `SCRIPT start` applies the node's plan, `SCRIPT stop` undoes it; both are idempotent."
    )

    @OptionGroup var options: ExportOptions

    func run() throws {
        let spec = try loadValidSpec(options.spec)
        let script: String
        do {
            script = try RealServerScript.script(spec, node: options.node, source: options.spec)
        } catch let error as KeepalivedExportError {
            throw CommandFailure(error.description)
        }
        try options.emit(script, mode: 0o755)
    }
}
