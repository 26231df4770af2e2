import ArgumentParser
import LBHost

/// `lb-agent`: the daemon on every director and real server.
public struct Agent: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lb-agent",
        abstract: "The lb agent: applies this host's part of the cluster and keeps it in place.",
        subcommands: [Run.self, CheckConfig.self, Status.self, Reset.self, Inspect.self, Connections.self, Apply.self, VRRP.self, Gossip.self]
    )

    public init() {}
}
