import LBCrypto
import XCTest

final class DSSETests: XCTestCase {
    // Keys A and B of the DSSE test vectors are RFC 8032 TEST 1 and TEST 2.
    let keyA = try! SigningKey(seedBytes: Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
    let keyB = try! SigningKey(seedBytes: Hex.decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"))
    let inToto = "application/vnd.in-toto+json"
    let statement = Array(#"{"_type":"https://in-toto.io/Statement/v1"}"#.utf8)

    func testPAEMatchesProtocolExample() {
        // protocol.md, "Test Vectors".
        let pae = Envelope.preAuthenticationEncoding(payloadType: "http://example.com/HelloWorld",
                                                     payload: Array("hello world".utf8))
        XCTAssertEqual(String(decoding: pae, as: UTF8.self), "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }

    func testPAEEdgeCases() {
        // Empty body keeps its trailing space; LEN counts UTF-8 bytes, not characters.
        XCTAssertEqual(Envelope.preAuthenticationEncoding(payloadType: inToto, payload: []),
                       Array("DSSEv1 28 application/vnd.in-toto+json 0 ".utf8))
        XCTAssertEqual(Hex.encode(Envelope.preAuthenticationEncoding(payloadType: "application/vnd.exämple+json", payload: [])),
                       Hex.encode(Array("DSSEv1 29 application/vnd.exämple+json 0 ".utf8)))
    }

    func testDSSEVectorSingleSignatureVerifiesAndIsReproduced() throws {
        // testvectors/vectors.json "single-signature" of secure-systems-lab/dsse.
        let json = #"{"payload": "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==", "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA==", "keyid": "A"}]}"#
        let envelope = try Envelope(json: Array(json.utf8))
        XCTAssertEqual(envelope.payload, statement)
        XCTAssertEqual(envelope.verify(trusting: [keyA.publicKey]).validSigners, [keyA.publicKey])
        let ours = try Envelope.sign(payload: statement, payloadType: inToto, keys: [keyA])
        XCTAssertEqual(ours.signatures.first?.bytes, envelope.signatures.first?.bytes)
    }

    func testDSSEVectorURLSafeBase64() throws {
        let json = #"{"payload": "-_-_Pj8=", "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "P-_KHICeR7tI6S_YyejJTRtrXhcQyQ2LYPaL8h90KjC9qN8HU_svOQ6TuDOT1HIrsGW886DbWNWcCmX5twLrAw==", "keyid": "A"}]}"#
        let envelope = try Envelope(json: Array(json.utf8))
        XCTAssertEqual(envelope.payload, [0xfb, 0xff, 0xbf, 0x3e, 0x3f])
        XCTAssertEqual(envelope.verify(trusting: [keyA.publicKey]).validKeyIDs, [keyA.keyID])
    }

    func testDSSEVectorPayloadTypeSwappedFails() throws {
        let json = #"{"payload": "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==", "payloadType": "application/vnd.example.other+json", "signatures": [{"sig": "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA==", "keyid": "A"}]}"#
        let check = try Envelope(json: Array(json.utf8)).verify(trusting: [keyA.publicKey])
        XCTAssertEqual(check.validSigners, [])
        XCTAssertEqual(check.unmatchedKeyIDs, ["A"])
    }

    func testDSSEVectorThresholdTwoWithoutKeyIDs() throws {
        let json = #"{"payload": "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==", "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA=="}, {"sig": "c1+67/aT0yqEpwx8PsVY3MLHsj9D0CZ014/Fv/QlG59P+9CobUZ7xECJ/V3USG0Ob9CiE5LjReEZUzNF2l7eBw=="}]}"#
        let check = try Envelope(json: Array(json.utf8)).verify(trusting: [keyA.publicKey, keyB.publicKey])
        XCTAssertEqual(Set(check.validSigners), [keyA.publicKey, keyB.publicKey])
    }

    func testDuplicateSignaturesCountOnce() throws {
        var envelope = try Envelope.sign(payload: statement, payloadType: inToto, keys: [keyA, keyA])
        XCTAssertEqual(envelope.signatures.count, 1, "signing twice with one key adds one signature")
        envelope.signatures.append(envelope.signatures[0])
        XCTAssertEqual(envelope.verify(trusting: [keyA.publicKey, keyB.publicKey]).validSigners, [keyA.publicKey])
    }

    func testSignVerifyAndTampering() throws {
        let envelope = try Envelope.sign(payload: statement, payloadType: inToto, keys: [keyA, keyB])
        XCTAssertEqual(envelope.signatures.map(\.keyID), [keyA.keyID, keyB.keyID])
        XCTAssertEqual(envelope.verify(trusting: [keyA.publicKey, keyB.publicKey]).validSigners.count, 2)

        var payloadChanged = envelope
        payloadChanged.payload[3] ^= 1
        let check = payloadChanged.verify(trusting: [keyA.publicKey, keyB.publicKey])
        XCTAssertEqual(check.validSigners, [])
        XCTAssertEqual(check.failedKeyIDs, [keyA.keyID, keyB.keyID])

        var typeChanged = envelope
        typeChanged.payloadType = "application/json"
        XCTAssertEqual(typeChanged.verify(trusting: [keyA.publicKey]).validSigners, [])

        // Only B is trusted: A's signature is unmatched, not failed.
        let onlyB = envelope.verify(trusting: [keyB.publicKey])
        XCTAssertEqual(onlyB.validSigners, [keyB.publicKey])
        XCTAssertEqual(onlyB.unmatchedKeyIDs, [keyA.keyID])
    }

    func testKeyIDHintIsNotTrusted() throws {
        // A signature by B that claims to be A's must not count for A, nor fail B.
        var envelope = try Envelope.sign(payload: statement, payloadType: inToto, keys: [keyB])
        envelope.signatures[0].keyID = keyA.keyID
        let check = envelope.verify(trusting: [keyA.publicKey, keyB.publicKey])
        XCTAssertEqual(check.validSigners, [])
        XCTAssertEqual(check.failedKeyIDs, [keyA.keyID])
        envelope.signatures[0].keyID = "someone-elses-name-for-B"
        XCTAssertEqual(envelope.verify(trusting: [keyA.publicKey, keyB.publicKey]).validSigners, [keyB.publicKey])
    }

    func testSigningNeedsAKey() {
        XCTAssertThrowsError(try Envelope.sign(payload: [], payloadType: inToto, keys: [])) { error in
            XCTAssertEqual((error as? CryptoError)?.code, .invalidArgument)
        }
    }

    func testJSONRoundTripIsStable() throws {
        let envelope = try Envelope.sign(payload: statement, payloadType: inToto, keys: [keyA])
        let json = envelope.jsonEncoded()
        XCTAssertEqual(String(decoding: json, as: UTF8.self),
                       #"{"payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"ed25519:21fe31dfa154a261","sig":"2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA=="}]}"#)
        XCTAssertEqual(try Envelope(json: json), envelope)
        XCTAssertEqual(try Envelope(json: envelope.jsonEncoded(pretty: true)), envelope)
    }

    func testMalformedJSONIsATypedError() throws {
        let good = String(decoding: try Envelope.sign(payload: statement, payloadType: inToto, keys: [keyA]).jsonEncoded(), as: UTF8.self)
        let cases: [(String, String)] = [
            (String(good.prefix(good.count / 2)), "not valid JSON"),
            ("", "not valid JSON"),
            ("[]", "not a JSON object"),
            ("null", "not a JSON object"),
            (#"{"payloadType":"x","signatures":[{"sig":"AA=="}]}"#, "missing field 'payload'"),
            (#"{"payload":"","signatures":[{"sig":"AA=="}]}"#, "missing field 'payloadType'"),
            (#"{"payload":"","payloadType":"x"}"#, "missing field 'signatures'"),
            (#"{"payload":"","payloadType":"x","signatures":[{"keyid":"k"}]}"#, "missing field 'signatures[0].sig'"),
            (#"{"payload":"","payloadType":"x","signatures":[]}"#, "envelope has no signatures"),
            (#"{"payload":"!!","payloadType":"x","signatures":[{"sig":"AA=="}]}"#, "field 'payload' is not valid base64"),
            (#"{"payload":"","payloadType":"x","signatures":[{"sig":"A"}]}"#, "field 'signatures[0].sig' is not valid base64"),
            (#"{"payload":1,"payloadType":"x","signatures":[{"sig":"AA=="}]}"#, "field 'payload' has the wrong type"),
            (#"{"payload":null,"payloadType":"x","signatures":[{"sig":"AA=="}]}"#, "field 'payload' is null"),
        ]
        for (json, expected) in cases {
            XCTAssertThrowsError(try Envelope(json: Array(json.utf8)), json) { error in
                let error = error as? CryptoError
                XCTAssertEqual(error?.code, .malformedEnvelope, json)
                XCTAssertEqual(error?.message, "malformed DSSE envelope: \(expected)", json)
            }
        }
    }

    func testEnvelopeLimits() throws {
        let tooMany = #"{"payload":"","payloadType":"x","signatures":["# +
            Array(repeating: #"{"sig":"AA=="}"#, count: Envelope.maximumSignatures + 1).joined(separator: ",") + "]}"
        XCTAssertThrowsError(try Envelope(json: Array(tooMany.utf8))) { error in
            XCTAssertEqual((error as? CryptoError)?.message,
                           "malformed DSSE envelope: envelope has 33 signatures, over the limit of 32")
        }
        let json = try Envelope.sign(payload: statement, payloadType: inToto, keys: [keyA]).jsonEncoded()
        XCTAssertThrowsError(try Envelope(json: json, maximumBytes: json.count - 1))
        XCTAssertNoThrow(try Envelope(json: json, maximumBytes: json.count))
    }
}
