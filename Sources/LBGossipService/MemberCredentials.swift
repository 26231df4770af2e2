import LBCrypto
import LBDocument

/// What a gossip member must hold before it starts, read the same way by the agent and the controller:
/// the cluster keyring that seals gossip and the trust policy documents must pass.
public struct MemberCredentials: Sendable {
    public var keyring: Keyring
    public var policy: TrustPolicy

    /// Why the credentials cannot be read, prefixed with the configuration key that names the file.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the keyring and the trusted keys; `cluster` and `threshold` complete the policy.
    public static func load(keyring path: String, trustKeys: String, threshold: Int, cluster: String) throws(Failure) -> MemberCredentials {
        let keyring: Keyring
        do { keyring = try KeyFile.readKeyring(at: path) } catch { throw Failure(description: "keyring: \(error)") }
        let keys: [PublicKey]
        do { keys = try KeyFile.readPublicKeys(at: trustKeys).map(\.key) } catch { throw Failure(description: "trust.keys: \(error)") }
        do {
            return MemberCredentials(keyring: keyring, policy: try TrustPolicy(trustedKeys: keys, threshold: threshold, expectedCluster: cluster))
        } catch {
            throw Failure(description: "trust: \(error)")
        }
    }
}
