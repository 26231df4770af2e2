import Foundation
import LBCrypto
import XCTest

final class HMACSHA256Tests: XCTestCase {
    /// RFC 4231 section 4, test cases 1–7 (case 5 compares the first 128 bits, as the RFC truncates it).
    func testRFC4231Vectors() {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            ([UInt8](repeating: 0x0c, count: 20), Array("Test With Truncation".utf8),
             "a3b6167473100ee06e0c796c2955552b"),
            ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([UInt8](repeating: 0xaa, count: 131),
             Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for (number, c) in cases.enumerated() {
            let mac = Hex.encode(HMACSHA256.authenticationCode(for: c.data, key: c.key))
            XCTAssertEqual(String(mac.prefix(c.mac.count)), c.mac, "RFC 4231 test case \(number + 1)")
            XCTAssertEqual(Hex.encode(HMACSHA256.authenticationCode(for: c.data, key: SecretBytes(copying: c.key))), mac)
        }
    }

    func testIsValidComparesTheWholeCode() {
        let key = SecretBytes(copying: Array("Jefe".utf8))
        let message = Array("what do ya want for nothing?".utf8)
        let code = HMACSHA256.authenticationCode(for: message, key: key)
        XCTAssertTrue(HMACSHA256.isValid(code, for: message, key: key))
        XCTAssertFalse(HMACSHA256.isValid(Array(code.dropLast()), for: message, key: key))
        XCTAssertFalse(HMACSHA256.isValid(code, for: message + [0], key: key))
    }

    func testReadKeyTrimsOneNewlineAndRefusesOpenOrEmptyFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lb-hmac-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        func write(_ text: String, mode: Int = 0o600) throws -> String {
            let path = dir.appendingPathComponent(UUID().uuidString).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            return path
        }
        for (text, secret) in [("s3cret\n", "s3cret"), ("s3cret\r\n", "s3cret"), ("s3cret", "s3cret"), ("two\n\n", "two\n"), (" sp ", " sp ")] {
            let key = try HMACSHA256.readKey(at: try write(text))
            XCTAssertEqual(key.withUnsafeBytes { Array($0) }, Array(secret.utf8), text.debugDescription)
        }
        let open = try write("s3cret\n", mode: 0o644)
        XCTAssertThrowsError(try HMACSHA256.readKey(at: open)) { error in
            XCTAssertEqual((error as? CryptoError)?.code, .insecurePermissions)
        }
        let empty = try write("\n")
        XCTAssertThrowsError(try HMACSHA256.readKey(at: empty)) { error in
            XCTAssertEqual((error as? CryptoError)?.message, "'\(empty)' holds no secret; write one, e.g. head -c 32 /dev/urandom | base64 > \(empty)")
        }
    }
}
