import ArgumentParser
import Foundation
import LBCrypto

extension LBCtl {
    /// `lbctl init --dir DIR`: the keys an operator starts a cluster with.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an operator signing key pair and a cluster key in a new directory.",
            discussion: """
            Writes operator.key (secret, 0600: signs documents; keep it off the hosts), operator.pub \
            (give it to every agent as a trusted key) and cluster.keyring (secret, 0600: seals gossip; \
            every agent and the controller need it). Existing files are never overwritten.
            """
        )

        @Option(help: "Directory for the keys; created with mode 0700 if missing.")
        var dir: String

        @Option(help: "Comment stored with the keys, e.g. the operator's name.")
        var comment: String = "lb operator key"

        func run() throws {
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
    }
}
