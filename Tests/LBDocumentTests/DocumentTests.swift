import Foundation
import LBCrypto
import LBDocument
import LBSpec
import XCTest

/// Building, encoding and chaining documents.
final class DocumentTests: XCTestCase {
    func testPayloadIsSortedSnakeCaseJSONWithISODates() throws {
        let doc = document(version: 7, previous: DocumentDigest(payload: [1]),
                           issuedAt: issued.addingTimeInterval(0.75), expiresAt: issued.addingTimeInterval(3600))
        let json = try JSONSerialization.jsonObject(with: Data(doc.payload())) as? [String: Any]
        XCTAssertEqual(json?.keys.sorted(), ["cluster", "expires_at", "issued_at", "previous_digest", "spec", "version"])
        XCTAssertEqual(json?["cluster"] as? String, "web")
        XCTAssertEqual(json?["version"] as? Int, 7)
        XCTAssertEqual(json?["issued_at"] as? String, "2025-11-25T13:14:00Z", "truncated to whole seconds")
        XCTAssertEqual(json?["expires_at"] as? String, "2025-11-25T14:14:00Z")
        XCTAssertEqual(json?["previous_digest"] as? String, DocumentDigest(payload: [1]).description)
        let text = String(decoding: try doc.payload(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix(#"{"cluster":"web","expires_at":"2025-11-25T14:14:00Z","issued_at":"#), text)
    }

    func testOptionalFieldsAreOmitted() throws {
        let json = try JSONSerialization.jsonObject(with: Data(document().payload())) as? [String: Any]
        XCTAssertEqual(json?.keys.sorted(), ["cluster", "issued_at", "spec", "version"])
    }

    func testEncodingIsDeterministicAndDigestIsOverPayload() throws {
        let doc = document()
        XCTAssertEqual(try doc.payload(), try doc.payload())
        let digest = try doc.digest()
        XCTAssertEqual(digest.description, "sha256:" + Hex.encode(SHA256.hash(try doc.payload())))
        XCTAssertEqual(try doc.signed(by: [Keys.alice]).payload, try doc.payload())
    }

    func testDigestText() {
        let digest = DocumentDigest(payload: Array("abc".utf8))
        XCTAssertEqual(digest.description, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(DocumentDigest(digest.description), digest)
        XCTAssertNil(DocumentDigest("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"))
        XCTAssertNil(DocumentDigest("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        XCTAssertNil(DocumentDigest("sha256:ba78"))
        XCTAssertNil(DocumentDigest("sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
    }

    func testSuccessorChainsAndRollbackIsANewVersion() throws {
        let v1 = try policy().verify(try document().signed(by: [Keys.alice]))
        let v2doc = try v1.successor(spec: sampleSpec(), issuedAt: issued.addingTimeInterval(60))
        XCTAssertEqual(v2doc.version, 2)
        XCTAssertEqual(v2doc.previousDigest, v1.digest)
        XCTAssertEqual(try document().successor(spec: sampleSpec(), issuedAt: issued).previousDigest, v1.digest,
                       "an unsigned document chains to the digest of what signing it produces")

        var agent = policy(head: v1.head)
        let v2 = try agent.verify(try v2doc.signed(by: [Keys.alice]))
        agent.advance(to: v2)
        // Rolling back to v1's content is version 3 pointing at v2, and is accepted as new.
        let v3doc = try v2.successor(spec: v1.document.spec, issuedAt: issued.addingTimeInterval(120))
        let v3 = try agent.verify(try v3doc.signed(by: [Keys.alice]))
        XCTAssertEqual(v3.document.version, 3)
        XCTAssertEqual(v3.document.spec, v1.document.spec)
        XCTAssertEqual(v3.document.previousDigest, v2.digest)
        XCTAssertFalse(v3.isCurrentHead)
    }

    func testDocumentsAgentsWouldRefuseCannotBeSigned() {
        XCTAssertThrowsError(try document(version: 0).signed(by: [Keys.alice])) { error in
            XCTAssertEqual(error as? DocumentRejection, .malformed("version must be at least 1, got 0"))
        }
        XCTAssertThrowsError(try document(expiresAt: issued).signed(by: [Keys.alice]))
        XCTAssertThrowsError(try document().signed(by: []))
        XCTAssertThrowsError(try document(version: .max).successor(spec: sampleSpec(), issuedAt: issued))
    }

    func testSpecChangeKeepsClusterInStep() {
        var doc = document()
        doc.spec = sampleSpec(cluster: "db")
        XCTAssertEqual(doc.cluster, "db")
    }

    func testDatesKeepWholeSecondsWhenAssigned() throws {
        var doc = document()
        doc.issuedAt = issued.addingTimeInterval(1.9)
        doc.expiresAt = issued.addingTimeInterval(60.5)
        XCTAssertEqual(doc.issuedAt, issued.addingTimeInterval(1))
        XCTAssertEqual(doc.expiresAt, issued.addingTimeInterval(60))
        XCTAssertNoThrow(try doc.signed(by: [Keys.alice]), "a document with assigned dates still round-trips")
    }
}

extension TrustPolicy {
    /// Shorthand: round-trip through JSON the way agents receive documents.
    func verify(_ envelope: Envelope, now: Date? = nil) throws(DocumentRejection) -> VerifiedDocument {
        try DesiredStateDocument.verify(json: envelope.jsonEncoded(), policy: self, now: now)
    }
}
