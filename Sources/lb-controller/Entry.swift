import ArgumentParser
import LBController
import LBControllerConfig
import Logging

// Not main.swift: an async entry point there is skipped by this toolchain (LAB-NOTES).
@main
struct Controller: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lb-controller",
        abstract: "The lb controller: accepts signed documents, keeps their history, spreads them, watches the cluster.",
        subcommands: [Run.self, CheckConfig.self]
    )
}

/// `--config FILE`, shared by the commands that read the controller's configuration.
struct ConfigOptions: ParsableArguments {
    @Option(help: "The controller's configuration file (docs/controller.md).")
    var config: String = ControllerConfig.defaultPath

    /// The configuration, or every problem printed as FILE:LINE:COLUMN and exit 1.
    func load() throws -> ControllerConfig {
        let loaded = ControllerConfigLoader.load(file: config)
        for d in loaded.diagnostics { print(d.description) }
        guard let c = loaded.config, !loaded.hasErrors else { throw ExitCode(1) }
        return c
    }
}

extension Controller {
    /// `lb-controller run`: the daemon systemd runs.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the controller: the API for lbctl, the history, gossip, notifications and the status page.",
            discussion: """
            Reads --config (docs/controller.md); a file with errors is refused before anything starts. SIGTERM \
            or SIGINT: event streams end, the member leaves the cluster, the history stays as it is. One log \
            line per event on standard output.
            """
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            var logger = Logger(label: "lb-controller", factory: { StreamLogHandler.standardOutput(label: $0) })
            logger.logLevel = Logger.Level(rawValue: config.logLevel.rawValue) ?? .info
            do {
                try await ControllerDaemon(config: config).run(logger: logger)
            } catch let error as ControllerError {
                logger.critical("\(error)")
                throw ExitCode(1)
            }
        }
    }

    /// `lb-controller check-config`: what `run` would refuse, without running.
    struct CheckConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config",
            abstract: "Check the controller's configuration file and the files it names; exit 1 on any error."
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            do {
                let prepared = try ControllerDaemon(config: config).prepare()
                print("\(options.config): ok: \(config.name) of cluster \(config.cluster); gossip on \(config.gossip.advertised); "
                      + "\(prepared.policy.trustedKeys.count) trusted key(s), threshold \(prepared.policy.threshold); history in \(config.stateDirectory); "
                      + "API on \(config.api.listen)\(prepared.tls == nil ? "" : " (TLS)"), status on \(config.status.listen)")
            } catch {
                print("\(options.config): error: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
