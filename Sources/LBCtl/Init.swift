import ArgumentParser
import Foundation
import LBCrypto
import LBDaemonConfig
import LBSpec

extension LBCtl {
    /// `lbctl init --dir DIR` (the keys) or `lbctl init --spec SPEC --out DIR` (a bundle for every host).
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the keys a cluster starts with, or a bundle with every host's configuration as well.",
            discussion: """
            With --dir: operator.key (secret, 0600: signs documents; keep it off the hosts), operator.pub \
            (give it to every agent as a trusted key) and cluster.keyring (secret, 0600: seals gossip; every \
            agent and the controller need it), in a new directory. Existing files are never overwritten.

            With --spec and --out: a bootstrap bundle. The keys as above, plus operators.pub (the trust list), \
            nodes/NODE/agent.yaml for every node of the spec and, with --controller-address, \
            controller/controller.yaml; a host gets cluster.keyring, operators.pub and its own file in /etc/lb. \
            Run it again after adding nodes to the spec: only the missing files are written, existing keys \
            and configurations are kept.
            """
        )

        @Option(help: "Directory for the keys alone; created with mode 0700 if missing.")
        var dir: String?

        @Option(help: "The cluster spec whose nodes get an agent configuration (with --out).")
        var spec: String?

        @Option(help: "The bundle's directory (with --spec); created with mode 0700 if missing.")
        var out: String?

        @Option(help: "The controller's gossip address, ADDRESS or ADDRESS:PORT: writes controller.yaml and makes it every agent's seed.")
        var controllerAddress: String?

        @Option(help: "The controller's gossip member name.")
        var controllerName: String = BootstrapBundle.defaultControllerName

        @Option(help: "The port every node gossips on.")
        var gossipPort: Int = BootstrapBundle.defaultGossipPort

        @Option(help: "Gossip timing: lan (memberlist's LAN timing) or fast (one rack or a lab).")
        var profile: String = DaemonConfig.Gossip.Profile.lan.rawValue

        @Option(help: "Comment stored with the keys, e.g. the operator's name.")
        var comment: String = "lb operator key"

        func validate() throws {
            switch (dir, spec, out) {
            case (_?, nil, nil):
                if controllerAddress != nil { throw ValidationError("--controller-address needs --spec and --out, not --dir") }
            case (nil, _?, _?): break
            case (_?, _, _): throw ValidationError("--dir makes the keys alone; for a bundle give --spec and --out instead")
            case (nil, _?, nil): throw ValidationError("--spec needs --out: the bundle's directory")
            case (nil, nil, _?): throw ValidationError("--out needs --spec: the cluster spec whose nodes get configurations")
            case (nil, nil, nil): throw ValidationError("give --dir DIR for the keys alone, or --spec SPEC --out DIR for a bundle")
            }
            if DaemonConfig.Gossip.Profile(rawValue: profile) == nil {
                throw ValidationError("--profile '\(profile)' is not one of lan, fast")
            }
        }

        func run() throws {
            if let dir {
                try keysOnly(dir)
            } else if let spec, let out {
                try bundle(spec: spec, out: out)
            }
        }

        private func keysOnly(_ dir: String) throws {
            let files = ["operator.key", "operator.pub", "cluster.keyring"].map { (dir as NSString).appendingPathComponent($0) }
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // Check all three first so a refusal leaves nothing half-written.
            if let existing = files.first(where: { FileManager.default.fileExists(atPath: $0) }) {
                throw CommandFailure("\(existing) already exists; lbctl init never overwrites keys (choose another --dir)")
            }
            let signing = SigningKey.generate()
            defer { signing.wipe() }
            let clusterKey = ClusterKey.generate()
            defer { clusterKey.wipe() }
            do {
                try KeyFile.writeSigningKey(signing, comment: comment, to: files[0])
                try KeyFile.writePublicKeys([KeyFileEntry(key: signing.publicKey, comment: comment)], to: files[1])
                try KeyFile.writeKeyring(Keyring(keys: [clusterKey]), to: files[2])
            } catch {
                files.forEach { try? FileManager.default.removeItem(atPath: $0) }
                throw error
            }
            print("signing key \(signing.keyID): \(files[0]) (secret), \(files[1]) (public)")
            print("cluster key \(clusterKey.id): \(files[2]) (secret)")
        }

        private func bundle(spec specFile: String, out: String) throws {
            let spec = try loadValidSpec(specFile)
            var options = BootstrapBundle.Options(gossipPort: gossipPort, profile: DaemonConfig.Gossip.Profile(rawValue: profile) ?? .lan,
                                                  controllerName: controllerName)
            if let controllerAddress {
                guard let endpoint = Endpoint(controllerAddress) ?? IPAddress(controllerAddress).map({ Endpoint(address: $0, port: gossipPort) }) else {
                    throw CommandFailure("--controller-address '\(controllerAddress)' is not an address or ADDRESS:PORT, e.g. 192.168.1.10 or \"[2001:db8::10]:7946\"")
                }
                options.controller = endpoint
            }
            let problems = BootstrapBundle.problems(spec, options)
            guard problems.isEmpty else { throw CommandFailure(problems.joined(separator: "\n")) }
            let configs = try BootstrapBundle.files(spec, options)

            let bundle = BundleDirectory(root: out)
            try bundle.create()
            // Everything is checked before anything is written, so a refusal leaves the bundle as it was.
            let keys = try bundle.keyPlan(hostFilesExist: try bundle.existingHostFiles())
            for file in configs { try bundle.checkWritable(file.path) }

            for line in try bundle.writeKeys(keys, comment: comment) { print(line) }
            for file in configs {
                print(try bundle.writeIfMissing(file) ? "wrote \(bundle.path(file.path))" : "kept \(bundle.path(file.path)) (exists)")
            }
            let inSpec = Set(configs.map(\.path))
            for stale in try bundle.existingHostFiles() where !inSpec.contains(stale) {
                print("kept \(bundle.path(stale)) (its node is not in \(specFile))")
            }
            if options.controller == nil {
                print("no --controller-address: no controller.yaml, and the agents seed only each other")
            }
        }
    }
}
