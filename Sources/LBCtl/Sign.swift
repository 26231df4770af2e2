import ArgumentParser
import Foundation
import LBCrypto
import LBDocument
import LBSpec

extension LBCtl {
    /// `lbctl sign`: a validated spec becomes a signed desired-state document.
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a validated spec as a desired-state document (DSSE envelope, Ed25519).",
            discussion: """
            The spec must validate without errors. With --previous, the new document chains to that one \
            (its digest is recorded) and must have a higher version; the previous document is verified \
            first, against --trust keys or, without them, the signing key's own public key.
            """
        )

        @Argument(help: "The cluster spec.")
        var spec: String

        @Option(help: "Signing key file (lb-signing-key); repeat for several signers.")
        var key: [String]

        @Option(help: "Document version; must be higher than every version agents hold.")
        var version: UInt64

        @Option(help: "The document this one replaces.")
        var previous: String?

        @Option(help: "Public key files trusted to have signed --previous.")
        var trust: [String] = []

        @Option(help: "Expiry, as a duration from now (90s, 30m, 12h, 30d).")
        var expiresIn: String?

        @Option(help: "Where to write the signed document.")
        var out: String

        func validate() throws {
            if key.isEmpty { throw ValidationError("name a signing key with --key") }
            if version == 0 { throw ValidationError("--version starts at 1") }
            if let expiresIn, parseDuration(expiresIn) == nil {
                throw ValidationError("--expires-in '\(expiresIn)' is not a duration such as 90s, 30m, 12h or 30d")
            }
        }

        func run() throws {
            let spec = try loadValidSpec(self.spec)
            let keys = try key.map { try KeyFile.readSigningKey(at: $0) }
            defer { keys.forEach { $0.wipe() } }
            let now = Date()
            let expiry = expiresIn.flatMap(parseDuration).map { now.addingTimeInterval($0) }
            var document = DesiredStateDocument(spec: spec, version: version, issuedAt: now, expiresAt: expiry)
            if let previous {
                let trusted = try trust.isEmpty ? keys.map(\.publicKey) : trust.flatMap { try KeyFile.readPublicKeys(at: $0).map(\.key) }
                let policy = try TrustPolicy(trustedKeys: trusted, expectedCluster: spec.cluster)
                let verified: VerifiedDocument
                do {
                    verified = try DesiredStateDocument.verify(json: Array(try readFile(previous)), policy: policy, now: now)
                } catch {
                    throw CommandFailure("previous document \(previous) refused: \(error)")
                }
                guard version > verified.document.version else {
                    throw CommandFailure("version \(version) is not higher than \(verified.document.version) of the previous document \(previous)")
                }
                document = try verified.successor(spec: spec, issuedAt: now, expiresAt: expiry)
                document.version = version
            }
            let envelope = try document.signed(by: keys)
            try writeAtomically(envelope.jsonEncoded(pretty: true) + [UInt8(ascii: "\n")], to: out)
            print("signed \(out): cluster '\(spec.cluster)' version \(version), digest \(try document.digest()), by \(keys.map(\.keyID).joined(separator: ", "))")
        }
    }
}

/// `90s`, `30m`, `12h`, `30d` in seconds; nil for anything else.
func parseDuration(_ text: String) -> TimeInterval? {
    let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
    guard let unit = text.last.flatMap({ units[$0] }), let n = UInt32(text.dropLast()), n > 0 else { return nil }
    return TimeInterval(n) * unit
}

func readFile(_ path: String) throws -> Data {
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw CommandFailure("cannot read \(path): \((error as NSError).localizedDescription)")
    }
}

/// Writes through a temporary file and a rename, so a reader never sees half a document.
func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    do {
        try AtomicFile.write(bytes, to: path)
    } catch {
        throw CommandFailure("cannot write \(path): \(error.description)")
    }
}
