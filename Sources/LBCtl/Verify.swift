import ArgumentParser
import Foundation
import LBCrypto
import LBDocument

extension LBCtl {
    /// `lbctl verify`: the check every agent makes before it applies a document.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a signed document as an agent would: exit 0 when accepted, 1 with the reason when refused."
        )

        @Argument(help: "The signed document.")
        var document: String

        @OptionGroup var trust: TrustOptions

        @Option(help: "Refuse documents for any other cluster.")
        var cluster: String?

        @Option(help: "Refuse versions below this one (what an agent already holds).")
        var minVersion: UInt64?

        @OptionGroup var output: OutputOptions

        func run() throws {
            let policy = try trust.policy(cluster: cluster, minimumVersion: minVersion)
            let json = Array(try readFile(document))
            do {
                let verified = try DesiredStateDocument.verify(json: json, policy: policy)
                report(accepted: verified)
            } catch {
                report(refused: error)
                throw ExitCode(1)
            }
        }

        func report(accepted v: VerifiedDocument) {
            let d = v.document
            switch output.output {
            case .text:
                print("accepted \(document): cluster '\(d.cluster)' version \(d.version), digest \(v.digest), signed by \(v.signers.map(\.keyID).joined(separator: ", "))")
            case .json:
                printJSON([
                    "accepted": true, "cluster": d.cluster, "version": d.version, "digest": v.digest.description,
                    "signers": v.signers.map(\.keyID), "previous_digest": d.previousDigest?.description as Any,
                ])
            }
        }

        func report(refused error: DocumentRejection) {
            switch output.output {
            case .text: print("refused \(document): \(error)")
            case .json: printJSON(["accepted": false, "reason": error.reason, "message": error.description])
            }
        }
    }
}

/// Prints a JSON object with sorted keys: stable output for scripts.
func printJSON(_ object: [String: Any]) {
    let cleaned = object.mapValues { ($0 as Any?) ?? NSNull() }
    if let data = try? JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys, .withoutEscapingSlashes]) {
        print(String(decoding: data, as: UTF8.self))
    }
}

/// `--trust FILE... --threshold N`: the trust policy an agent applies, for the commands that check as one.
struct TrustOptions: ParsableArguments {
    @Option(help: "Trusted public key files (lb-public-key lines); repeat for several.")
    var trust: [String]

    @Option(help: "Distinct trusted signers required.")
    var threshold: Int = 1

    func validate() throws {
        if trust.isEmpty { throw ValidationError("name at least one trusted public key file with --trust") }
    }

    func policy(cluster: String? = nil, minimumVersion: UInt64? = nil) throws -> TrustPolicy {
        let keys = try trust.flatMap { try KeyFile.readPublicKeys(at: $0).map(\.key) }
        do {
            return try TrustPolicy(trustedKeys: keys, threshold: threshold, expectedCluster: cluster, minimumVersion: minimumVersion)
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}
