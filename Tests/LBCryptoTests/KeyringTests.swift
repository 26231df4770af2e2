import LBCrypto
import XCTest

final class KeyringTests: XCTestCase {
    let message = Array("gossip packet".utf8)

    func testRoundTripWithAndWithoutAssociatedData() throws {
        let ring = try Keyring(keys: [ClusterKey.generate()])
        let sealed = ring.seal(message)
        XCTAssertEqual(sealed.count, message.count + Keyring.overheadByteCount)
        XCTAssertEqual(try ring.open(sealed), message)
        XCTAssertEqual(try ring.open(ring.seal([])), [])

        let bound = ring.seal(message, associatedData: [1, 2, 3])
        XCTAssertEqual(try ring.open(bound, associatedData: [1, 2, 3]), message)
        assertFails(try ring.open(bound), .authenticationFailed)
        assertFails(try ring.open(bound, associatedData: [1, 2, 4]), .authenticationFailed)
    }

    func testSealedLayout() throws {
        let key = try ClusterKey(secret: SecretBytes(copying: Array(0..<32)))
        // python3: hashlib.sha256(b"lb-cluster-key-id-v1\x00" + bytes(range(32))).hexdigest()[:8]
        XCTAssertEqual(key.id.description, "dbfe1de7")
        let sealed = try Keyring(keys: [key]).seal(message)
        XCTAssertEqual(sealed[0], 1)
        XCTAssertEqual(Array(sealed[1..<5]), [0xdb, 0xfe, 0x1d, 0xe7])
        XCTAssertNotEqual(Array(sealed[5..<29]), Array(try Keyring(keys: [key]).seal(message)[5..<29]),
                          "every seal draws a fresh nonce")
    }

    func testTamperingAnywhereIsDetected() throws {
        let ring = try Keyring(keys: [ClusterKey.generate()])
        let sealed = ring.seal(message)
        for index in [5, 20, 28, 29, sealed.count - 17, sealed.count - 1] {  // nonce, ciphertext, tag
            var changed = sealed
            changed[index] ^= 0x80
            assertFails(try ring.open(changed), .authenticationFailed, "byte \(index)")
        }
        var version = sealed
        version[0] = 2
        assertFails(try ring.open(version), .unsupportedFormat)
        var keyID = sealed
        keyID[2] ^= 1
        assertFails(try ring.open(keyID), .unknownKey)
        assertFails(try ring.open(Array(sealed.prefix(Keyring.overheadByteCount - 1))), .sealedTooShort)
        assertFails(try ring.open([]), .sealedTooShort)
    }

    func testWrongKeyringCannotOpen() throws {
        let sealed = try Keyring(keys: [ClusterKey.generate()]).seal(message)
        assertFails(try Keyring(keys: [ClusterKey.generate()]).open(sealed), .unknownKey)
    }

    func testRotation() throws {
        let old = ClusterKey.generate(), new = ClusterKey.generate()
        var ring = try Keyring(keys: [old])
        let sealedUnderOld = ring.seal(message)

        try ring.install(new)
        XCTAssertEqual(ring.primary.id, old.id, "installing does not change the primary")
        try ring.install(new)  // idempotent
        XCTAssertEqual(ring.keys.count, 2)

        try ring.usePrimary(new.id)
        XCTAssertEqual(ring.keys.map(\.id), [new.id, old.id])
        let sealedUnderNew = ring.seal(message)
        XCTAssertEqual(Array(sealedUnderNew[1..<5]), new.id.bytes)
        XCTAssertEqual(try ring.open(sealedUnderOld), message, "old key still opens during rotation")

        // A member that has not rotated yet still opens the new traffic once it has the key installed.
        var lagging = try Keyring(keys: [old])
        try lagging.install(new)
        XCTAssertEqual(try lagging.open(sealedUnderNew), message)

        try ring.remove(old.id)
        XCTAssertEqual(ring.keys.map(\.id), [new.id])
        assertFails(try ring.open(sealedUnderOld), .unknownKey)
        XCTAssertEqual(try ring.open(sealedUnderNew), message)
    }

    func testKeyringRules() throws {
        let a = ClusterKey.generate(), b = ClusterKey.generate()
        var ring = try Keyring(keys: [a, b])
        assertFails(try ring.remove(a.id), .keyringRule)
        assertFails(try ring.usePrimary(ClusterKeyID(rawValue: 42)), .keyringRule)
        assertFails(try ring.remove(ClusterKeyID(rawValue: 42)), .keyringRule)
        assertFails(try Keyring(keys: []), .invalidArgument)
        XCTAssertThrowsError(try ring.remove(a.id)) { error in
            XCTAssertEqual("\(error)", "key \(a.id) is the primary; make another key primary before removing it")
        }
        try ring.remove(b.id)
        XCTAssertEqual(ring.keys.count, 1)
        assertFails(try ClusterKey(secret: SecretBytes(copying: [1, 2, 3])), .invalidLength)
    }

    private func assertFails<T>(_ expression: @autoclosure () throws -> T, _ code: CryptoError.Code,
                                _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), message, file: file, line: line) { error in
            XCTAssertEqual((error as? CryptoError)?.code, code, "\(message): \(error)", file: file, line: line)
        }
    }
}
