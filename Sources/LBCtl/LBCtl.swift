import ArgumentParser

/// `lbctl`: the operator's command line for lb clusters.
public struct LBCtl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lbctl",
        abstract: "Declare, check, sign and inspect lb load-balancer clusters.",
        discussion: "A cluster is one YAML spec (see docs/spec.md). Validate and plan it, sign it into a desired-state document, and hand it to the controller.",
        subcommands: [Init.self, Validate.self, Plan.self, Apply.self, Status.self, History.self, Diff.self, Get.self, Rollback.self, Drain.self,
                      Undrain.self, Sign.self, Verify.self, Push.self, Import.self, Export.self]
    )

    public init() {}
}

/// How a command prints its result. JSON is stable for scripts; text is for people and may change.
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

/// Options every reporting command shares.
public struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Output format: text (for people) or json (stable, for scripts).")
    public var output: OutputFormat = .text

    public init() {}
}

/// A failure the operator must act on; printed as "lbctl: error: …" with exit status 1.
public struct CommandFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
