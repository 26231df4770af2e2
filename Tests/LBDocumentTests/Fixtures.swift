import Foundation
import LBCrypto
import LBDocument
import LBSpec

/// The spec every document test signs. Kept minimal so these tests do not depend on spec details.
func sampleSpec(cluster: String = "web") -> ClusterSpec {
    ClusterSpec(cluster: cluster)
}

enum Keys {
    // RFC 8032 TEST 1, 2 and 3 seeds: fixed keys make failures reproducible.
    static let alice = try! SigningKey(seedBytes: Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
    static let bob = try! SigningKey(seedBytes: Hex.decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"))
    static let mallory = try! SigningKey(seedBytes: Hex.decode("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7"))
}

/// 2025-11-25T13:14:00Z.
let issued = Date(timeIntervalSince1970: 1_764_076_440)

func document(version: UInt64 = 1, spec: ClusterSpec = sampleSpec(), previous: DocumentDigest? = nil,
              issuedAt: Date = issued, expiresAt: Date? = nil) -> DesiredStateDocument {
    DesiredStateDocument(spec: spec, version: version, previousDigest: previous, issuedAt: issuedAt, expiresAt: expiresAt)
}

func policy(_ keys: [SigningKey] = [Keys.alice], threshold: Int = 1, cluster: String? = "web",
            minimumVersion: UInt64? = nil, head: TrustPolicy.Head? = nil) -> TrustPolicy {
    try! TrustPolicy(trustedKeys: keys.map(\.publicKey), threshold: threshold, expectedCluster: cluster,
                     minimumVersion: minimumVersion, head: head, clock: { issued })
}
