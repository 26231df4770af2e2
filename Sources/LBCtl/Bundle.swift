import LBAgentConfig
import LBControllerConfig
import LBDaemonConfig
import LBSpec

/// The configuration files of a bootstrap bundle (`lbctl init --spec`), drawn from the spec alone: one
/// agent.yaml per node and the controller's file, each as it goes into /etc/lb on its host. Pure: the
/// command decides what already exists and writes only what is missing.
enum BootstrapBundle {
    /// Gossip's port on every host unless told otherwise (memberlist's and Serf's).
    static let defaultGossipPort = 7946
    /// The controller's gossip member name unless told otherwise.
    static let defaultControllerName = "controller"

    /// What the spec does not say: the gossip port and timing, and where the controller gossips.
    struct Options {
        var gossipPort = BootstrapBundle.defaultGossipPort
        var profile: DaemonConfig.Gossip.Profile = .lan
        /// The controller's gossip address; nil: no controller.yaml, and the agents seed only each other.
        var controller: Endpoint?
        var controllerName = BootstrapBundle.defaultControllerName
    }

    /// One file of the bundle: where it goes under the bundle directory, and its text.
    struct File: Equatable {
        var path: String
        var text: String
    }

    /// Where a node's agent.yaml goes in the bundle.
    static func agentPath(_ node: String) -> String { "nodes/\(node)/agent.yaml" }
    /// Where controller.yaml goes in the bundle.
    static let controllerPath = "controller/controller.yaml"

    /// What keeps the options from making a working cluster of `spec`, each as a sentence; empty when
    /// nothing does. The node names are the spec's and already valid; the controller's are the options'.
    static func problems(_ spec: ClusterSpec, _ options: Options) -> [String] {
        var problems: [String] = []
        if !(1...65535).contains(options.gossipPort) {
            problems.append("--gossip-port \(options.gossipPort) is out of range 1–65535")
        }
        // A node named "." or ".." passes the spec's name rule but would name a directory of the bundle itself.
        for node in spec.nodes where node.name == "." || node.name == ".." {
            problems.append("node name '\(node.name)' cannot name a directory of the bundle; rename the node in the spec")
        }
        guard let controller = options.controller else { return problems }
        if let problem = SpecValidator.nameProblem(options.controllerName, what: "--controller-name") {
            problems.append(problem)
        } else if spec.nodes.contains(where: { $0.name == options.controllerName }) {
            problems.append("--controller-name '\(options.controllerName)' is also a node of the spec; gossip names must differ, choose another")
        }
        if let node = spec.nodes.first(where: { gossipEndpoint($0, options) == controller }) {
            problems.append("--controller-address \(controller) is node \(node.name)'s gossip address; give the controller another address or port (ADDRESS:PORT)")
        }
        if controller.address.isUnspecified || controller.address.isMulticast || !(1...65535).contains(controller.port) {
            problems.append("--controller-address \(controller) is not an address other hosts can reach; give the controller host's own address")
        }
        return problems
    }

    static func gossipEndpoint(_ node: Node, _ options: Options) -> Endpoint {
        Endpoint(address: node.address.address, port: options.gossipPort)
    }

    /// `node`'s configuration: its gossip on its own address, the other nodes and the controller as seeds,
    /// and every path the default one under /etc/lb and /var/lib/lb, where the packages put them.
    static func agentConfig(_ node: Node, in spec: ClusterSpec, _ options: Options) -> AgentConfig {
        let others = spec.nodes.filter { $0.name != node.name }.map { gossipEndpoint($0, options) }
        let gossip = AgentConfig.Gossip(listen: gossipEndpoint(node, options), seeds: others + (options.controller.map { [$0] } ?? []),
                                        profile: options.profile)
        return AgentConfig(node: node.name, cluster: spec.cluster, gossip: gossip)
    }

    /// The controller's configuration: every node a seed, its API and status page on loopback (the
    /// defaults; opening the API to the network needs TLS files only its host has).
    static func controllerConfig(_ spec: ClusterSpec, _ options: Options) -> ControllerConfig? {
        guard let controller = options.controller else { return nil }
        let gossip = ControllerConfig.Gossip(listen: controller, seeds: spec.nodes.map { gossipEndpoint($0, options) }, profile: options.profile)
        return ControllerConfig(name: options.controllerName, cluster: spec.cluster, gossip: gossip)
    }

    /// Every configuration file, nodes in the spec's order, then the controller's. Throws when a file
    /// would not load on its host (a bug here, or a spec this did not foresee), so nothing unusable is written.
    static func files(_ spec: ClusterSpec, _ options: Options) throws -> [File] {
        var files: [File] = []
        for node in spec.nodes {
            let config = agentConfig(node, in: spec, options)
            let errors = AgentConfigValidator.validate(config).filter { $0.severity == .error }
            guard errors.isEmpty else {
                throw CommandFailure("the agent configuration for node \(node.name) would not load: \(errors.map(\.message).joined(separator: "; "))")
            }
            files.append(File(path: agentPath(node.name), text: AgentConfigWriter.yaml(config)))
        }
        if let config = controllerConfig(spec, options) {
            let errors = ControllerConfigValidator.validate(config).filter { $0.severity == .error }
            guard errors.isEmpty else {
                throw CommandFailure("the controller configuration would not load: \(errors.map(\.message).joined(separator: "; "))")
            }
            files.append(File(path: controllerPath, text: ControllerConfigWriter.yaml(config)))
        }
        return files
    }
}
