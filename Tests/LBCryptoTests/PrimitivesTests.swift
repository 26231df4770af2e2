import LBCrypto
import XCTest

final class PrimitivesTests: XCTestCase {
    func testSHA256KnownAnswers() {
        XCTAssertEqual(Hex.encode(SHA256.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Hex.encode(SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testHexRoundTripAndErrors() throws {
        XCTAssertEqual(Hex.encode([0x00, 0x0f, 0xa0, 0xff]), "000fa0ff")
        XCTAssertEqual(try Hex.decode("000FA0ff"), [0x00, 0x0f, 0xa0, 0xff])
        XCTAssertThrowsError(try Hex.decode("abc"))
        XCTAssertThrowsError(try Hex.decode("zz"))
    }

    func testBase64AcceptsBothAlphabetsStrictly() throws {
        let bytes: [UInt8] = [0xfb, 0xff, 0xbf, 0x3e, 0x3f]
        XCTAssertEqual(Base64.encode(bytes), "+/+/Pj8=")
        XCTAssertEqual(try Base64.decode("+/+/Pj8="), bytes)
        XCTAssertEqual(try Base64.decode("-_-_Pj8="), bytes)
        XCTAssertEqual(try Base64.decode("-_-_Pj8"), bytes)
        XCTAssertEqual(try Base64.decode(""), [])
        // Mixed alphabets, stray whitespace, non-zero trailing bits and bad padding are all refused.
        for bad in ["+_+/Pj8=", "+/+/ Pj8=", "QR==", "QQ=", "Q===", "@@@@"] {
            XCTAssertThrowsError(try Base64.decode(bad), bad)
        }
        XCTAssertThrowsError(try Base64.decode("-_-_Pj8=", alphabets: .standardPadded))
        XCTAssertThrowsError(try Base64.decode("+/+/Pj8", alphabets: .standardPadded))
    }

    func testSecretBytesWipeAndCompare() {
        let a = SecretBytes(copying: [1, 2, 3, 4])
        let b = SecretBytes(copying: [1, 2, 3, 4])
        let c = SecretBytes(copying: [1, 2, 3, 5])
        XCTAssertTrue(a.constantTimeEquals(b))
        XCTAssertFalse(a.constantTimeEquals(c))
        XCTAssertEqual(a.withUnsafeBytes { Array($0) }, [1, 2, 3, 4])
        XCTAssertEqual("\(a)", "SecretBytes(4 bytes, redacted)")
        XCTAssertFalse(a.isWiped)
        a.wipe()
        XCTAssertTrue(a.isWiped)
        a.wipe()  // idempotent
        XCTAssertEqual(a.count, 4)
    }

    func testRandomBytesAreFresh() {
        XCTAssertNotEqual(SecureRandom.bytes(count: 32), SecureRandom.bytes(count: 32))
        XCTAssertFalse(SecretBytes.random(count: 32).constantTimeEquals(SecretBytes.random(count: 32)))
    }

    func testConcurrentUseOfOneKey() async {
        let key = SigningKey.generate()
        let message = Array("concurrent".utf8)
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<32 {
                group.addTask { key.publicKey.isValidSignature(key.signature(for: message), for: message) }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        XCTAssertEqual(results.count, 32)
        XCTAssertTrue(results.allSatisfy { $0 })
    }
}
