// libFuzzer driver for everything an agent reads from the network: DSSE envelope JSON through document
// verification, and sealed gossip packets through the keyring. Build and run with
// scripts/fuzz.sh document; without -DFUZZ this target only explains that.
#if FUZZ
import LBFuzzSupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import LBCrypto
import LBDocument
import LBSpec

/// Fixed keys, policy and keyring, so the fuzzer explores inputs rather than configurations.
enum Fixture {
    static let operatorKey = try! SigningKey(seedBytes: [UInt8](repeating: 1, count: 32))
    static let secondKey = try! SigningKey(seedBytes: [UInt8](repeating: 2, count: 32))
    static let strangerKey = try! SigningKey(seedBytes: [UInt8](repeating: 9, count: 32))
    static let now = Date(timeIntervalSince1970: 1_764_076_440)  // 2025-11-25T13:14:00Z
    static let headDocument = document(version: 2)
    static let headDigest = try! headDocument.digest()

    static let policy = try! TrustPolicy(
        trustedKeys: [operatorKey.publicKey, secondKey.publicKey], threshold: 1, expectedCluster: "web",
        minimumVersion: 1, head: .init(version: 2, digest: headDigest), clock: { now })

    static let keyring = try! Keyring(keys: [
        ClusterKey(secret: SecretBytes(copying: [UInt8](repeating: 3, count: 32))),
        ClusterKey(secret: SecretBytes(copying: [UInt8](repeating: 4, count: 32))),
    ])

    static func document(version: UInt64, cluster: String = "web", expiresAt: Date? = nil) -> DesiredStateDocument {
        DesiredStateDocument(spec: ClusterSpec(cluster: cluster), version: version,
                             previousDigest: version > 1 ? DocumentDigest(payload: [UInt8(version)]) : nil,
                             issuedAt: now, expiresAt: expiresAt)
    }

    /// Inputs that reach deep: accepted documents, each kind of rejection, and sealed packets.
    static func seeds() throws -> [(name: String, bytes: [UInt8])] {
        let next = document(version: 3)
        let envelopes: [(String, Envelope)] = [
            ("head", try headDocument.signed(by: [operatorKey])),
            ("next-two-signers", try next.signed(by: [operatorKey, secondKey])),
            ("next-with-stranger", try next.signed(by: [strangerKey, operatorKey])),
            ("forged", try next.signed(by: [strangerKey])),
            ("older", try document(version: 1).signed(by: [operatorKey])),
            ("expiring", try document(version: 4, expiresAt: now.addingTimeInterval(60)).signed(by: [secondKey])),
            ("other-cluster", try document(version: 5, cluster: "db").signed(by: [operatorKey])),
        ]
        var seeds = envelopes.map { ("envelope-\($0.0).json", $0.1.jsonEncoded()) }
        seeds.append(("sealed-envelope.bin", keyring.seal(envelopes[1].1.jsonEncoded())))
        seeds.append(("sealed-empty.bin", keyring.seal([])))
        return seeds
    }
}

/// Checks what must hold for any input; a violation crashes, which libFuzzer records as a finding.
enum Oracle {
    static func envelope(_ bytes: [UInt8]) {
        guard let verified = try? DesiredStateDocument.verify(json: bytes, policy: Fixture.policy) else { return }
        let trusted = Fixture.policy.trustedKeys
        precondition(!verified.signers.isEmpty && verified.signers.allSatisfy(trusted.contains), "accepted without a trusted signer")
        precondition(verified.document.cluster == "web", "accepted another cluster")
        precondition(verified.document.version >= 2, "accepted a version older than the head")
        precondition(verified.document.version > 2 || verified.digest == Fixture.headDigest, "accepted an equivocating head")
        precondition(verified.digest == DocumentDigest(payload: verified.envelope.payload), "digest is not over the signed bytes")
        let again = try? DesiredStateDocument.verify(json: verified.envelope.jsonEncoded(), policy: Fixture.policy)
        precondition(again?.document == verified.document, "re-encoded envelope is not accepted the same way")
    }

    static func sealed(_ bytes: [UInt8]) {
        _ = try? Fixture.keyring.open(bytes)
        let resealed = Fixture.keyring.seal(bytes, associatedData: [1])
        precondition((try? Fixture.keyring.open(resealed, associatedData: [1])) == bytes, "seal/open round trip failed")
    }

    static func keyFiles(_ bytes: [UInt8]) {
        _ = try? KeyFile.parsePublicKeys(bytes, path: "fuzz")
        _ = try? KeyFile.parseKeyring(bytes, path: "fuzz")
    }
}

_ = Fixture.policy
_ = Fixture.keyring
FuzzDriver.main(seeds: { try Fixture.seeds().map { ($0.name, $0.bytes) } }) { bytes in
    Oracle.envelope(bytes)
    Oracle.sealed(bytes)
    Oracle.keyFiles(bytes)
}
#else
print("DocumentFuzz must be built with -sanitize=fuzzer -DFUZZ; run scripts/fuzz.sh document")
#endif
