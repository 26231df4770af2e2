import ArgumentParser
import LBAgent
import LBAgentConfig
import LBSpecYAML
import Logging

#if canImport(Glibc)
import Glibc
#endif

extension Agent {
    /// `lb-agent run`: the daemon systemd runs.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the agent: follow the signed document, keep this host's part in the kernel, report.",
            discussion: """
            Reads --config (docs/agent.md); a file with errors is refused before anything changes. Restores \
            the last verified document from the state directory at once, then follows the newest one from \
            gossip. SIGTERM or SIGINT: VRRP masters resign, the member leaves, and the kernel state stays \
            (stopping or upgrading the agent drops no connection); `lb-agent reset` removes it. SIGHUP: a \
            full drift check at once. One log line per event on standard output.
            """
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            let logger = AgentLog.logger(config.logLevel)
            do {
                try await AgentDaemon(config: config).run(logger: logger)
            } catch let error as AgentError {
                logger.critical("\(error)")
                throw ExitCode(1)
            }
        }
    }

    /// `lb-agent check-config`: what `run` would refuse, without running.
    struct CheckConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config",
            abstract: "Check the agent's configuration file and the key files it names; exit 1 on any error.",
            discussion: "Prints every problem as FILE:LINE:COLUMN: error|warning: message, then a summary of what the agent would do."
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            do {
                let prepared = try AgentDaemon(config: config).prepare()
                print("\(options.config): ok: node \(config.node) of cluster \(config.cluster); gossip on \(config.gossip.advertised) "
                      + "with \(AgentConfigValidator.usefulSeeds(config.gossip).count) seed(s); \(prepared.policy.trustedKeys.count) trusted key(s), "
                      + "threshold \(prepared.policy.threshold); state in \(config.stateDirectory); status on \(config.status.listen)")
            } catch {
                print("\(options.config): error: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

/// `--config FILE`, shared by the commands that read the agent's configuration.
struct ConfigOptions: ParsableArguments {
    @Option(help: "The agent's configuration file (docs/agent.md).")
    var config: String = AgentConfig.defaultPath

    /// The configuration, or every problem printed and exit 1.
    func load() throws -> AgentConfig {
        let loaded = AgentConfigLoader.load(file: config)
        for d in loaded.diagnostics { print(d.description) }
        guard let c = loaded.config, !loaded.hasErrors else { throw ExitCode(1) }
        return c
    }
}

/// One line per event on standard output (journald adds its own time; a terminal sees swift-log's).
enum AgentLog {
    static func logger(_ level: AgentConfig.LogLevel) -> Logger {
        var logger = Logger(label: "lb-agent", factory: { StreamLogHandler.standardOutput(label: $0) })
        logger.logLevel = Logger.Level(rawValue: level.rawValue) ?? .info
        return logger
    }
}
