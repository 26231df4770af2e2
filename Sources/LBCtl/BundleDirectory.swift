import Foundation
import LBCrypto

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
