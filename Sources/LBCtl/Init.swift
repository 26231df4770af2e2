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

/// The bundle's directory on the admin machine: which of its files exist, and writing the missing ones
/// without ever replacing one.
struct BundleDirectory {
    static let operatorKey = "operator.key"
    static let operatorPublic = "operator.pub"
    static let trustList = "operators.pub"
    static let keyring = "cluster.keyring"

    let root: String

    func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    private func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

    func create() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CommandFailure("--out \(root) exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CommandFailure("cannot create the bundle directory \(root): \(error.localizedDescription)")
        }
    }

    /// The host configuration files already in the bundle, relative, sorted: nodes' and the controller's.
    func existingHostFiles() throws -> [String] {
        var found: [String] = []
        if let nodes = try? FileManager.default.contentsOfDirectory(atPath: path("nodes")) {
            found += nodes.sorted().map(BootstrapBundle.agentPath).filter(exists)
        }
        if exists(BootstrapBundle.controllerPath) { found.append(BootstrapBundle.controllerPath) }
        return found
    }

    /// Which keys to make, and which the existing operator key must give its public half to.
    struct KeyPlan {
        var makeSigningKey = false
        var makeKeyring = false
        var writePublic = false
        var writeTrustList = false
    }

    /// What is missing and may be made. A missing key is made only where nothing already depends on the
    /// old one: a new signing key beside a public key or trust list hosts already hold would make every
    /// document refused, a new keyring beside configured hosts would cut them off from gossip.
    func keyPlan(hostFilesExist hostFiles: [String]) throws -> KeyPlan {
        var plan = KeyPlan()
        let publicFiles = [Self.operatorPublic, Self.trustList].filter(exists)
        if !exists(Self.operatorKey) {
            if let file = publicFiles.first {
                throw CommandFailure("\(path(Self.operatorKey)) is missing but \(path(file)) exists: lbctl init never makes a new signing key beside an old public key; restore \(Self.operatorKey), or start a new bundle")
            }
            plan.makeSigningKey = true
        }
        if !exists(Self.keyring) {
            if let file = hostFiles.first {
                throw CommandFailure("\(path(Self.keyring)) is missing but \(path(file)) exists: its host seals gossip with the old keyring; restore \(Self.keyring), or start a new bundle")
            }
            plan.makeKeyring = true
        }
        plan.writePublic = !exists(Self.operatorPublic)
        plan.writeTrustList = !exists(Self.trustList)
        return plan
    }

    /// Refuses a configuration path taken by something that is not a file (a directory where agent.yaml belongs).
    func checkWritable(_ relative: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path(relative), isDirectory: &isDirectory), isDirectory.boolValue {
            throw CommandFailure("\(path(relative)) is a directory; remove it so its configuration can be written")
        }
    }

    /// Makes the planned keys; one line each for what was written or kept. A failure removes the keys made
    /// by this run, so a second run finds the bundle as the first found it.
    func writeKeys(_ plan: KeyPlan, comment: String) throws -> [String] {
        var lines: [String] = []
        var written: [String] = []
        do {
            let signing: SigningKey
            if plan.makeSigningKey {
                signing = SigningKey.generate()
                try KeyFile.writeSigningKey(signing, comment: comment, to: path(Self.operatorKey))
                written.append(path(Self.operatorKey))
                lines.append("wrote \(path(Self.operatorKey)) (secret: signs documents, signing key \(signing.keyID); keep it off the hosts)")
            } else {
                signing = try KeyFile.readSigningKey(at: path(Self.operatorKey))
                lines.append("kept \(path(Self.operatorKey)) (exists, signing key \(signing.keyID))")
            }
            defer { signing.wipe() }
            let entry = KeyFileEntry(key: signing.publicKey, comment: comment)
            for (file, write, what) in [(Self.operatorPublic, plan.writePublic, "the operator's public key"),
                                        (Self.trustList, plan.writeTrustList, "the trust list: /etc/lb/operators.pub on every host")] {
                if write {
                    try KeyFile.writePublicKeys([entry], to: path(file))
                    written.append(path(file))
                    lines.append("wrote \(path(file)) (\(what))")
                } else {
                    lines.append("kept \(path(file)) (exists)")
                }
            }
            if plan.makeKeyring {
                let clusterKey = ClusterKey.generate()
                defer { clusterKey.wipe() }
                try KeyFile.writeKeyring(Keyring(keys: [clusterKey]), to: path(Self.keyring))
                written.append(path(Self.keyring))
                lines.append("wrote \(path(Self.keyring)) (secret: seals gossip, cluster key \(clusterKey.id); /etc/lb/cluster.keyring on every host)")
            } else {
                lines.append("kept \(path(Self.keyring)) (exists)")
            }
        } catch {
            written.forEach { try? FileManager.default.removeItem(atPath: $0) }
            throw error
        }
        return lines
    }

    /// Writes `file` unless it exists; true when written. Created exclusively, so a file that appeared
    /// since the check is still not replaced.
    func writeIfMissing(_ file: BootstrapBundle.File) throws -> Bool {
        let target = path(file.path)
        if FileManager.default.fileExists(atPath: target) { return false }
        let directory = (target as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try Data(file.text.utf8).write(to: URL(fileURLWithPath: target), options: .withoutOverwriting)
        } catch CocoaError.fileWriteFileExists {
            return false
        } catch {
            throw CommandFailure("cannot write \(target): \(error.localizedDescription)")
        }
        return true
    }
}
