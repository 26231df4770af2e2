import Foundation
import LBCrypto
import LBDocument
import LBSpec
import XCTest

/// Every way a trust policy refuses a document, and the cases it must still accept.
final class VerificationTests: XCTestCase {
    func testValidDocumentIsAccepted() throws {
        let doc = document()
        let verified = try policy().verify(try doc.signed(by: [Keys.alice]))
        XCTAssertEqual(verified.document, doc)
        XCTAssertEqual(verified.signers, [Keys.alice.publicKey])
        XCTAssertEqual(verified.digest, try doc.digest())
        XCTAssertFalse(verified.isCurrentHead)
        XCTAssertEqual(verified.head, TrustPolicy.Head(version: 1, digest: try doc.digest()))
    }

    // MARK: Signatures

    func testTamperedPayloadIsABadSignature() throws {
        var envelope = try document().signed(by: [Keys.alice])
        let text = String(decoding: envelope.payload, as: UTF8.self).replacingOccurrences(of: #""version":1"#, with: #""version":9"#)
        envelope.payload = Array(text.utf8)
        assertRejected(try policy().verify(envelope), .badSignature(keyID: Keys.alice.keyID))
    }

    func testTamperedSignatureIsABadSignature() throws {
        var envelope = try document().signed(by: [Keys.alice])
        envelope.signatures[0].bytes[63] ^= 0x40
        assertRejected(try policy().verify(envelope), .badSignature(keyID: Keys.alice.keyID))
    }

    func testDocumentSignedByUntrustedKeyIsRefused() throws {
        let forged = try document().signed(by: [Keys.mallory])
        assertRejected(try policy().verify(forged), .unknownKey(keyID: Keys.mallory.keyID))
        // Claiming to be Alice does not help Mallory: the claim names Alice, whose key does not verify it.
        var impostor = forged
        impostor.signatures[0].keyID = Keys.alice.keyID
        assertRejected(try policy().verify(impostor), .badSignature(keyID: Keys.alice.keyID))
    }

    func testUnknownKeyIDWithJunkSignature() throws {
        var envelope = try document().signed(by: [Keys.alice])
        envelope.signatures = [Envelope.Signature(keyID: "nobody", bytes: [UInt8](repeating: 7, count: 64))]
        assertRejected(try policy().verify(envelope), .unknownKey(keyID: "nobody"))
        envelope.signatures[0].keyID = nil
        assertRejected(try policy().verify(envelope), .unknownKey(keyID: ""))
    }

    func testUntrustedAndBrokenSignaturesAreIgnoredOnceThresholdIsMet() throws {
        var envelope = try document().signed(by: [Keys.mallory, Keys.alice, Keys.bob])
        envelope.signatures[2].bytes[0] ^= 1  // Bob's signature is broken
        let verified = try policy([Keys.alice, Keys.bob]).verify(envelope)
        XCTAssertEqual(verified.signers, [Keys.alice.publicKey])
    }

    func testKeyIDHintIsOnlyAHint() throws {
        var envelope = try document().signed(by: [Keys.alice])
        envelope.signatures[0].keyID = "alice@laptop"
        XCTAssertEqual(try policy().verify(envelope).signers, [Keys.alice.publicKey])
    }

    func testThresholdOfTwo() throws {
        let trusted = policy([Keys.alice, Keys.bob], threshold: 2)
        assertRejected(try trusted.verify(try document().signed(by: [Keys.alice])), .belowThreshold(valid: 1, required: 2))

        let both = try trusted.verify(try document().signed(by: [Keys.alice, Keys.bob]))
        XCTAssertEqual(both.signers, [Keys.alice.publicKey, Keys.bob.publicKey])

        var duplicated = try document().signed(by: [Keys.alice])
        duplicated.signatures.append(duplicated.signatures[0])
        assertRejected(try trusted.verify(duplicated), .belowThreshold(valid: 1, required: 2))

        assertRejected(try trusted.verify(try document().signed(by: [Keys.alice, Keys.mallory])),
                       .belowThreshold(valid: 1, required: 2))

        var oneBroken = try document().signed(by: [Keys.alice, Keys.bob])
        oneBroken.signatures[1].bytes[5] ^= 1
        assertRejected(try trusted.verify(oneBroken), .badSignature(keyID: Keys.bob.keyID))
    }

    // MARK: Content

    func testWrongPayloadType() throws {
        let envelope = try Envelope.sign(payload: document().payload(), payloadType: "application/json", keys: [Keys.alice])
        assertRejected(try policy().verify(envelope),
                       .wrongPayloadType(got: "application/json", expected: DesiredStateDocument.payloadType))
    }

    func testWrongCluster() throws {
        let envelope = try document(spec: sampleSpec(cluster: "db")).signed(by: [Keys.alice])
        assertRejected(try policy().verify(envelope), .wrongCluster(got: "db", expected: "web"))
        XCTAssertEqual(try policy(cluster: nil).verify(envelope).document.cluster, "db")
    }

    func testBelowMinimumVersion() throws {
        let trusted = policy(minimumVersion: 5)
        assertRejected(try trusted.verify(try document(version: 4).signed(by: [Keys.alice])),
                       .belowMinimumVersion(got: 4, minimum: 5))
        XCTAssertNoThrow(try trusted.verify(try document(version: 5).signed(by: [Keys.alice])))
    }

    func testOlderThanHeadIsRefused() throws {
        let v3 = try policy().verify(try document(version: 3).signed(by: [Keys.alice]))
        var agent = policy()
        agent.advance(to: v3)
        assertRejected(try agent.verify(try document(version: 2).signed(by: [Keys.alice])),
                       .olderThanHead(got: 2, held: 3))
    }

    func testSameVersionWithOtherContentIsEquivocation() throws {
        let held = try document(version: 4).digest()
        let other = document(version: 4, issuedAt: issued.addingTimeInterval(1))
        assertRejected(try policy(head: .init(version: 4, digest: held)).verify(try other.signed(by: [Keys.alice])),
                       .equivocation(version: 4, got: try other.digest(), held: held))
    }

    func testSameDocumentAgainIsAcceptedAsCurrentHead() throws {
        let envelope = try document(version: 4).signed(by: [Keys.alice])
        let first = try policy().verify(envelope)
        let again = try policy(head: first.head).verify(envelope)
        XCTAssertTrue(again.isCurrentHead)
        XCTAssertEqual(again.document, first.document)
        let newer = try policy(head: first.head).verify(try document(version: 5).signed(by: [Keys.alice]))
        XCTAssertFalse(newer.isCurrentHead)
    }

    func testExpiry() throws {
        let expiresAt = issued.addingTimeInterval(60)
        let envelope = try document(expiresAt: expiresAt).signed(by: [Keys.alice])
        XCTAssertNoThrow(try policy().verify(envelope, now: expiresAt.addingTimeInterval(-1)))
        assertRejected(try policy().verify(envelope, now: expiresAt), .expired(expiresAt: expiresAt, now: expiresAt))
        // Without an explicit time, the policy's clock decides.
        var late = policy()
        late.clock = { expiresAt.addingTimeInterval(5) }
        assertRejected(try late.verify(envelope), .expired(expiresAt: expiresAt, now: expiresAt.addingTimeInterval(5)))
        XCTAssertNoThrow(try policy().verify(try document().signed(by: [Keys.alice]), now: .distantFuture),
                         "no expiry means none")
    }

    // MARK: Malformed input

    func testMalformedEnvelopes() throws {
        let good = String(decoding: try document().signed(by: [Keys.alice]).jsonEncoded(), as: UTF8.self)
        let cases: [(String, String)] = [
            (String(good.dropLast(10)), "malformed DSSE envelope: not valid JSON"),
            (good.replacingOccurrences(of: #""payload":""#, with: #""payload":"*"#), "malformed DSSE envelope: field 'payload' is not valid base64"),
            (good.replacingOccurrences(of: #""sig":""#, with: #""sig":"%"#), "malformed DSSE envelope: field 'signatures[0].sig' is not valid base64"),
            (#"{"payload":"","payloadType":"application/vnd.lb.desired-state+json;version=1","signatures":[]}"#,
             "malformed DSSE envelope: envelope has no signatures"),
        ]
        for (json, detail) in cases {
            XCTAssertThrowsError(try DesiredStateDocument.verify(json: Array(json.utf8), policy: policy()), json) { error in
                XCTAssertEqual(error as? DocumentRejection, .malformed(detail), json)
            }
        }
    }

    func testOversizedEnvelopeIsRefusedBeforeParsing() {
        let huge = [UInt8](repeating: UInt8(ascii: " "), count: DesiredStateDocument.maximumEnvelopeBytes + 1)
        XCTAssertThrowsError(try DesiredStateDocument.verify(json: huge, policy: policy())) { error in
            XCTAssertEqual(error as? DocumentRejection,
                           .malformed("malformed DSSE envelope: envelope is 16777217 bytes, over the limit of 16777216"))
        }
    }

    func testSignedButMalformedPayloads() throws {
        let specJSON = String(decoding: try SpecJSON.encoder().encode(sampleSpec()), as: UTF8.self)
        let cases: [(String, String)] = [
            ("{}", "payload: missing field 'cluster'"),
            ("not json", "payload: not valid JSON"),
            (#"{"cluster":"web","issued_at":"2025-11-25T13:14:00Z","spec":\#(specJSON),"version":0}"#,
             "version must be at least 1, got 0"),
            (#"{"cluster":"db","issued_at":"2025-11-25T13:14:00Z","spec":\#(specJSON),"version":1}"#,
             "cluster 'db' differs from the spec's cluster 'web'"),
            (#"{"cluster":"web","issued_at":"yesterday","spec":\#(specJSON),"version":1}"#, "payload: field 'issued_at' is invalid"),
            (#"{"cluster":"web","issued_at":"2025-11-25T13:14:00.5Z","spec":\#(specJSON),"version":1}"#, "payload: field 'issued_at' is invalid"),
            (#"{"cluster":"web","issued_at":"2025-11-25T13:14:00Z","spec":\#(specJSON),"version":"1"}"#, "payload: field 'version' has the wrong type"),
            (#"{"cluster":"web","issued_at":"2025-11-25T13:14:00Z","previous_digest":"md5:00","spec":\#(specJSON),"version":1}"#,
             "payload: field 'previous_digest' is invalid"),
        ]
        for (payload, detail) in cases {
            let envelope = try Envelope.sign(payload: Array(payload.utf8), payloadType: DesiredStateDocument.payloadType, keys: [Keys.alice])
            XCTAssertThrowsError(try policy().verify(envelope), payload) { error in
                guard case .malformed(let message) = error as? DocumentRejection else {
                    return XCTFail("expected malformed, got \(error)")
                }
                XCTAssertTrue(message.hasPrefix(detail), "\(message) does not start with \(detail)")
            }
        }
        // The same payload with a valid version is accepted: the cases above fail for the stated reason.
        let valid = #"{"cluster":"web","issued_at":"2025-11-25T13:14:00Z","spec":\#(specJSON),"version":1}"#
        XCTAssertNoThrow(try policy().verify(Envelope.sign(payload: Array(valid.utf8), payloadType: DesiredStateDocument.payloadType, keys: [Keys.alice])))
    }

    func testEverySingleByteChangeIsRefusedOrHarmless() throws {
        let json = try document().signed(by: [Keys.alice]).jsonEncoded()
        let original = try DesiredStateDocument.verify(json: json, policy: policy())
        var accepted = 0
        for index in json.indices {
            var mutated = json
            mutated[index] ^= 0x01
            if let verified = try? DesiredStateDocument.verify(json: mutated, policy: policy()) {
                accepted += 1
                XCTAssertEqual(verified.document, original.document, "byte \(index) changed the document")
                XCTAssertEqual(verified.digest, original.digest)
            }
        }
        XCTAssertLessThan(accepted, 30, "only key id hint changes may be accepted")
    }

    // MARK: Policy

    func testPolicyValidation() {
        let a = Keys.alice.publicKey, b = Keys.bob.publicKey
        XCTAssertThrowsError(try TrustPolicy(trustedKeys: [])) { error in
            XCTAssertEqual(error as? DocumentRejection, .invalidPolicy("no trusted keys"))
        }
        XCTAssertThrowsError(try TrustPolicy(trustedKeys: [a], threshold: 0)) { error in
            XCTAssertEqual(error as? DocumentRejection, .invalidPolicy("threshold must be at least 1, got 0"))
        }
        XCTAssertThrowsError(try TrustPolicy(trustedKeys: [a, b], threshold: 3))
        XCTAssertThrowsError(try TrustPolicy(trustedKeys: [a, a], threshold: 2)) { error in
            XCTAssertEqual(error as? DocumentRejection, .invalidPolicy("threshold 2 exceeds the 1 distinct trusted keys"))
        }
        XCTAssertEqual(try TrustPolicy(trustedKeys: [a, b, a], threshold: 2).trustedKeys, [a, b])
    }

    func testRejectionTexts() throws {
        XCTAssertEqual(DocumentRejection.belowThreshold(valid: 1, required: 2).description,
                       "signed by 1 of the 2 required trusted keys")
        XCTAssertEqual(DocumentRejection.olderThanHead(got: 2, held: 3).description,
                       "version 2 is older than the held version 3 (replayed or stale)")
        XCTAssertEqual(DocumentRejection.expired(expiresAt: issued, now: issued.addingTimeInterval(1)).description,
                       "document expired at 2025-11-25T13:14:00Z (now 2025-11-25T13:14:01Z)")
        XCTAssertEqual(DocumentRejection.wrongCluster(got: "db", expected: "web").reason, "wrong_cluster")
    }

    private func assertRejected(_ expression: @autoclosure () throws -> VerifiedDocument, _ expected: DocumentRejection,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            XCTAssertEqual(error as? DocumentRejection, expected, file: file, line: line)
        }
    }
}
