import Foundation
import LBCrypto
import XCTest

final class KeyFileTests: XCTestCase {
    var directory: String = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lb-keyfile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    func write(_ text: String, to name: String, mode: Int = 0o600) throws -> String {
        let file = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        return file
    }

    // MARK: Round trips

    func testSigningKeyRoundTripIs0600AndOneLine() throws {
        let key = try SigningKey(seedBytes: Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        try KeyFile.writeSigningKey(key, comment: "operator alice", to: path("alice.key"))
        XCTAssertEqual(try mode(path("alice.key")), 0o600)
        XCTAssertEqual(try String(contentsOfFile: path("alice.key"), encoding: .utf8),
                       "lb-signing-key v1 nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A= operator alice\n")
        XCTAssertEqual(try KeyFile.readSigningKey(at: path("alice.key")).publicKey, key.publicKey)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["alice.key"],
                       "no temporary file is left behind")
    }

    func testPublicKeysRoundTripWithComments() throws {
        let a = SigningKey.generate().publicKey, b = SigningKey.generate().publicKey
        try KeyFile.writePublicKeys([KeyFileEntry(key: a, comment: "alice  laptop"), KeyFileEntry(key: b)],
                                    to: path("trusted.pub"))
        XCTAssertEqual(try mode(path("trusted.pub")), 0o644)
        let entries = try KeyFile.readPublicKeys(at: path("trusted.pub"))
        XCTAssertEqual(entries.map(\.key), [a, b])
        XCTAssertEqual(entries.map(\.comment), ["alice  laptop", ""])
        XCTAssertThrowsError(try KeyFile.writePublicKeys([], to: path("empty.pub"))) { error in
            XCTAssertEqual((error as? CryptoError)?.code, .invalidArgument)
        }
    }

    func testKeyringRoundTripKeepsPrimaryFirst() throws {
        let old = ClusterKey.generate(), new = ClusterKey.generate()
        var ring = try Keyring(keys: [old, new])
        try ring.usePrimary(new.id)
        try KeyFile.writeKeyring(ring, to: path("cluster.keys"))
        XCTAssertEqual(try mode(path("cluster.keys")), 0o600)
        let read = try KeyFile.readKeyring(at: path("cluster.keys"))
        XCTAssertEqual(read.keys.map(\.id), [new.id, old.id])
        XCTAssertEqual(try read.open(ring.seal([1, 2, 3])), [1, 2, 3], "the keys read back are the same keys")
    }

    func testCommentsBlankLinesCRLFAndTabsAreAccepted() throws {
        let text = "# operator key\r\n\r\n   \n\tlb-signing-key\tv1   nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\r\n# end\n"
        let key = try KeyFile.readSigningKey(at: write(text, to: "k"))
        XCTAssertEqual(key.keyID, "ed25519:21fe31dfa154a261")
    }

    // MARK: Permissions and overwriting

    func testOpenSecretFileIsRefusedLikeSSH() throws {
        try KeyFile.writeSigningKey(SigningKey.generate(), to: path("open.key"))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path("open.key"))
        XCTAssertThrowsError(try KeyFile.readSigningKey(at: path("open.key"))) { error in
            let error = error as? CryptoError
            XCTAssertEqual(error?.code, .insecurePermissions)
            XCTAssertEqual(error?.message,
                           "permissions 0644 for '\(path("open.key"))' are too open; it holds a secret key, so run chmod 600 \(path("open.key"))")
        }
        for mode in [0o640, 0o604, 0o660, 0o601] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path("open.key"))
            XCTAssertThrowsError(try KeyFile.readSigningKey(at: path("open.key")), String(mode, radix: 8))
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path("open.key"))
        XCTAssertNoThrow(try KeyFile.readSigningKey(at: path("open.key")))

        try KeyFile.writeKeyring(Keyring(keys: [ClusterKey.generate()]), to: path("ring"))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path("ring"))
        XCTAssertThrowsError(try KeyFile.readKeyring(at: path("ring"))) { error in
            XCTAssertEqual((error as? CryptoError)?.code, .insecurePermissions)
        }
    }

    func testRefusesToOverwriteUnlessAsked() throws {
        let first = SigningKey.generate(), second = SigningKey.generate()
        try KeyFile.writeSigningKey(first, to: path("k"))
        XCTAssertThrowsError(try KeyFile.writeSigningKey(second, to: path("k"))) { error in
            XCTAssertEqual((error as? CryptoError)?.code, .fileExists)
            XCTAssertEqual("\(error)", "'\(path("k"))' already exists; refusing to overwrite it")
        }
        XCTAssertEqual(try KeyFile.readSigningKey(at: path("k")).publicKey, first.publicKey)
        try KeyFile.writeSigningKey(second, to: path("k"), overwrite: true)
        XCTAssertEqual(try KeyFile.readSigningKey(at: path("k")).publicKey, second.publicKey)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["k"])
    }

    func testMissingFileAndDirectoryAreIOErrors() {
        XCTAssertThrowsError(try KeyFile.readSigningKey(at: path("absent"))) { error in
            XCTAssertEqual((error as? CryptoError)?.code, .io)
            XCTAssertEqual("\(error)", "cannot open '\(path("absent"))': No such file or directory")
        }
        XCTAssertThrowsError(try KeyFile.readPublicKeys(at: directory)) { error in
            XCTAssertEqual((error as? CryptoError)?.code, .io)
        }
        XCTAssertThrowsError(try KeyFile.writeSigningKey(SigningKey.generate(), to: path("no/such/dir/k"))) { error in
            XCTAssertEqual((error as? CryptoError)?.code, .io)
        }
    }

    // MARK: Syntax errors name file and line

    func testSyntaxErrorsNameFileAndLine() throws {
        let seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
        let publicKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        let seedAsClusterKey = try ClusterKey(secret: SecretBytes(copying: Base64.decode(seed))).id
        let cases: [(kind: String, text: String, line: Int?, message: String)] = [
            ("signing", "# a\n\nlb-secret-key v1 \(seed)\n", 3, "unknown line type 'lb-secret-key' (expected lb-signing-key)"),
            ("signing", "lb-signing-key v2 \(seed)\n", 1, "unsupported format version 'v2' (this build reads v1)"),
            ("signing", "lb-signing-key\n", 1, "unsupported format version '' (this build reads v1)"),
            ("signing", "lb-signing-key v1\n", 1, "missing fields; expected 'lb-signing-key v1 <base64 seed> [comment]'"),
            ("signing", "lb-signing-key v1 \(seed.dropLast(4))\n", 1, "seed must be 32 bytes (44 base64 characters), found 40 characters"),
            ("signing", "lb-signing-key v1 \(seed.replacingOccurrences(of: "/", with: "_"))\n", 1, "seed is not valid base64 (standard alphabet with = padding)"),
            ("signing", "lb-signing-key v1 \(seed)\nlb-signing-key v1 \(seed)\n", 2, "a signing key file holds exactly one lb-signing-key line, found 2"),
            ("signing", "# nothing here\n", nil, "a signing key file holds exactly one lb-signing-key line, found 0"),
            ("signing", "lb-public-key v1 ed25519 \(publicKey)\n", 1, "expected lb-signing-key, found lb-public-key"),
            ("public", "lb-public-key v1 rsa \(publicKey)\n", 1, "unsupported algorithm 'rsa' (this build knows ed25519)"),
            ("public", "lb-public-key v1 ed25519\n", 1, "missing fields; expected 'lb-public-key v1 ed25519 <base64 public key> [comment]'"),
            ("public", "lb-public-key v1 ed25519 \(publicKey)\nlb-public-key v1 ed25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 2, "those 32 bytes are not a valid ed25519 public key"),
            ("public", "\n", nil, "no lb-public-key lines"),
            ("ring", "lb-cluster-key v1 \(seed)\nlb-cluster-key v1 \(seed) again\n", 2, "cluster key \(seedAsClusterKey) appears twice"),
        ]
        for (index, c) in cases.enumerated() {
            let name = "case\(index)"
            let file = try write(c.text, to: name)
            let expected = (c.line.map { "\(file):\($0)" } ?? file) + ": " + c.message
            XCTAssertThrowsError(try read(c.kind, file), expected) { error in
                let error = error as? CryptoError
                XCTAssertEqual(error?.code, .keyFileSyntax, expected)
                XCTAssertEqual(error?.line, c.line, expected)
                XCTAssertEqual(error?.path, file, expected)
                XCTAssertEqual(error?.message, expected)
            }
        }
    }

    private func read(_ kind: String, _ file: String) throws {
        switch kind {
        case "signing": _ = try KeyFile.readSigningKey(at: file)
        case "public": _ = try KeyFile.readPublicKeys(at: file)
        default: _ = try KeyFile.readKeyring(at: file)
        }
    }
}
