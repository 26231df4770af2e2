import LBCrypto
import XCTest

/// RFC 8032 section 7.1 test vectors (TEST 1, 2, 3), plus key id and public key checks.
final class Ed25519Tests: XCTestCase {
    struct Vector {
        let name, secret, publicKey, message, signature: String
    }

    static let rfc8032: [Vector] = [
        Vector(name: "TEST 1",
               secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
               publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
               message: "",
               signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        Vector(name: "TEST 2",
               secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
               publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
               message: "72",
               signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        Vector(name: "TEST 3",
               secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
               publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
               message: "af82",
               signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]

    func testRFC8032VectorsDeriveSignAndVerify() throws {
        for vector in Self.rfc8032 {
            let key = try SigningKey(seedBytes: Hex.decode(vector.secret))
            XCTAssertEqual(Hex.encode(key.publicKey.bytes), vector.publicKey, vector.name)
            let message = try Hex.decode(vector.message)
            let signature = key.signature(for: message)
            XCTAssertEqual(Hex.encode(signature), vector.signature, vector.name)
            let publicKey = try PublicKey(bytes: Hex.decode(vector.publicKey))
            XCTAssertTrue(publicKey.isValidSignature(try Hex.decode(vector.signature), for: message), vector.name)
        }
    }

    func testVerificationFailsForAnyChange() throws {
        let vector = Self.rfc8032[2]
        let publicKey = try PublicKey(bytes: Hex.decode(vector.publicKey))
        let message = try Hex.decode(vector.message)
        let signature = try Hex.decode(vector.signature)
        XCTAssertFalse(publicKey.isValidSignature(signature, for: message + [0]))
        XCTAssertFalse(publicKey.isValidSignature(signature, for: [0xaf, 0x83]))
        var flipped = signature
        flipped[10] ^= 0x01
        XCTAssertFalse(publicKey.isValidSignature(flipped, for: message))
        XCTAssertFalse(publicKey.isValidSignature(Array(signature.dropLast()), for: message))
        let other = try PublicKey(bytes: Hex.decode(Self.rfc8032[0].publicKey))
        XCTAssertFalse(other.isValidSignature(signature, for: message))
    }

    func testKeyIDIsPrefixOfSHA256OfPublicKey() throws {
        let key = try PublicKey(bytes: Hex.decode(Self.rfc8032[0].publicKey))
        // python3 -c 'import hashlib;print(hashlib.sha256(bytes.fromhex("d75a98...511a")).hexdigest()[:16])'
        XCTAssertEqual(key.keyID, "ed25519:21fe31dfa154a261")
        XCTAssertEqual(key.keyID, "ed25519:" + Hex.encode(SHA256.hash(key.bytes).prefix(8)))
        XCTAssertEqual(try SigningKey(seedBytes: Hex.decode(Self.rfc8032[1].secret)).keyID, "ed25519:39f713d0a644253f")
    }

    func testPublicKeyRefusesWrongLengthAndInvalidPoints() {
        XCTAssertThrowsError(try PublicKey(bytes: [UInt8](repeating: 1, count: 31))) { error in
            XCTAssertEqual((error as? CryptoError)?.code, .invalidLength)
        }
        // The identity point (small order) and an all-zero key must never be trusted.
        var identity = [UInt8](repeating: 0, count: 32)
        identity[0] = 1
        for bytes in [identity, [UInt8](repeating: 0, count: 32)] {
            XCTAssertThrowsError(try PublicKey(bytes: bytes)) { error in
                XCTAssertEqual((error as? CryptoError)?.code, .invalidEncoding)
            }
        }
    }

    func testPublicKeyCodableAsBase64() throws {
        let key = try PublicKey(bytes: Hex.decode(Self.rfc8032[0].publicKey))
        let json = try JSONEncoder().encode([key])
        XCTAssertEqual(String(decoding: json, as: UTF8.self), #"["11qYAYKxCrfVS\/7TyWQHOg7hcvPapiMlrwIaaPcHURo="]"#)
        XCTAssertEqual(try JSONDecoder().decode([PublicKey].self, from: json), [key])
        XCTAssertThrowsError(try JSONDecoder().decode([PublicKey].self, from: Data(#"["AAAA"]"#.utf8)))
    }

    func testGeneratedKeysDifferAndSign() {
        let a = SigningKey.generate(), b = SigningKey.generate()
        XCTAssertNotEqual(a.publicKey, b.publicKey)
        let message = Array("hello".utf8)
        XCTAssertTrue(a.publicKey.isValidSignature(a.signature(for: message), for: message))
        XCTAssertFalse(b.publicKey.isValidSignature(a.signature(for: message), for: message))
        XCTAssertEqual("\(a)", "SigningKey(\(a.keyID))")
    }

    func testSeedMustBe32Bytes() {
        XCTAssertThrowsError(try SigningKey(seedBytes: [UInt8](repeating: 7, count: 33))) { error in
            XCTAssertEqual((error as? CryptoError)?.code, .invalidLength)
        }
    }
}
