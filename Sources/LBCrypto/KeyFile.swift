#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A key read from a key file together with the free-text comment that followed it on its line.
public struct KeyFileEntry<Key: Sendable>: Sendable {
    public var key: Key
    /// Everything after the key material, trimmed; empty when the line had none.
    public var comment: String

    public init(key: Key, comment: String = "") {
        self.key = key
        self.comment = comment
    }
}

/// Reads and writes the line-based key file format of docs/keys.md:
///
///     lb-signing-key v1 <base64 seed> [comment]
///     lb-public-key v1 ed25519 <base64 public key> [comment]
///     lb-cluster-key v1 <base64 key> [comment]
///
/// Blank lines and lines starting with `#` are ignored. Files with secrets are written 0600 and refused
/// on read when group or others may access them.
public enum KeyFile {
    static let signingKind = "lb-signing-key"
    static let publicKind = "lb-public-key"
    static let clusterKind = "lb-cluster-key"
    static let formatVersion = "v1"
    static let algorithm = "ed25519"

    // MARK: Files

    /// Reads a file holding exactly one `lb-signing-key` line.
    public static func readSigningKey(at path: String) throws -> SigningKey {
        var contents = try SecureFile.readSecret(at: path)
        defer { wipeArray(&contents) }
        return try parseSigningKey(contents, path: path)
    }

    /// Writes `key` as a one-line signing key file with mode 0600.
    public static func writeSigningKey(_ key: SigningKey, comment: String = "", to path: String,
                                       overwrite: Bool = false) throws {
        var contents = render(signingKey: key, comment: comment)
        defer { wipeArray(&contents) }
        try SecureFile.writeAtomically(contents, to: path, mode: 0o600, overwrite: overwrite)
    }

    /// Reads a file of one or more `lb-public-key` lines (a trust list).
    public static func readPublicKeys(at path: String) throws -> [KeyFileEntry<PublicKey>] {
        try parsePublicKeys(SecureFile.readPublic(at: path), path: path)
    }

    /// Writes public keys, one per line, with mode 0644.
    public static func writePublicKeys(_ entries: [KeyFileEntry<PublicKey>], to path: String,
                                       overwrite: Bool = false) throws {
        guard !entries.isEmpty else {
            throw CryptoError(.invalidArgument, "a trust list needs at least one public key", path: path)
        }
        let text = entries.map { render(publicKey: $0.key, comment: $0.comment) }.joined()
        try SecureFile.writeAtomically(Array(text.utf8), to: path, mode: 0o644, overwrite: overwrite)
    }

    /// Reads a cluster keyring: one or more `lb-cluster-key` lines, the first being the primary.
    public static func readKeyring(at path: String) throws -> Keyring {
        var contents = try SecureFile.readSecret(at: path)
        defer { wipeArray(&contents) }
        return try parseKeyring(contents, path: path)
    }

    /// Writes the keyring, primary first, with mode 0600.
    public static func writeKeyring(_ keyring: Keyring, to path: String, overwrite: Bool = false) throws {
        var contents = render(keyring: keyring)
        defer { wipeArray(&contents) }
        try SecureFile.writeAtomically(contents, to: path, mode: 0o600, overwrite: overwrite)
    }

    // MARK: Parsing

    /// Parses signing key file contents; `path` only labels errors.
    public static func parseSigningKey(_ contents: [UInt8], path: String) throws -> SigningKey {
        let lines = try keyLines(contents, path: path, kind: signingKind)
        guard lines.count == 1, let line = lines.first else {
            throw syntax(path, lines.dropFirst().first?.number,
                         "a signing key file holds exactly one \(signingKind) line, found \(lines.count)")
        }
        try line.expectFields(3, "\(signingKind) v1 <base64 seed> [comment]")
        let seed = try line.secret(field: 2, byteCount: SigningKey.seedByteCount, what: "seed")
        defer { seed.wipe() }
        return try SigningKey(seed: seed)
    }

    /// Parses a trust list; `path` only labels errors.
    public static func parsePublicKeys(_ contents: [UInt8], path: String) throws -> [KeyFileEntry<PublicKey>] {
        let lines = try keyLines(contents, path: path, kind: publicKind)
        guard !lines.isEmpty else { throw syntax(path, nil, "no \(publicKind) lines") }
        return try lines.map { line in
            try line.expectFields(4, "\(publicKind) v1 ed25519 <base64 public key> [comment]")
            guard line.text(2) == algorithm else {
                throw line.error("unsupported algorithm '\(line.text(2))' (this build knows \(algorithm))")
            }
            let bytes = try line.bytes(field: 3, byteCount: PublicKey.byteCount, what: "public key")
            do {
                return KeyFileEntry(key: try PublicKey(bytes: bytes), comment: line.comment(after: 3))
            } catch let error as CryptoError {
                throw line.error(error.message)
            }
        }
    }

    /// Parses keyring contents; `path` only labels errors.
    public static func parseKeyring(_ contents: [UInt8], path: String) throws -> Keyring {
        let lines = try keyLines(contents, path: path, kind: clusterKind)
        guard !lines.isEmpty else { throw syntax(path, nil, "no \(clusterKind) lines") }
        var keys: [ClusterKey] = []
        for line in lines {
            try line.expectFields(3, "\(clusterKind) v1 <base64 key> [comment]")
            let key = try ClusterKey(secret: line.secret(field: 2, byteCount: ClusterKey.byteCount, what: "cluster key"))
            if keys.contains(where: { $0.id == key.id }) {
                throw line.error("cluster key \(key.id) appears twice")
            }
            keys.append(key)
        }
        return try Keyring(keys: keys)
    }

    // MARK: Rendering

    /// One public key line, newline included.
    public static func render(publicKey: PublicKey, comment: String = "") -> String {
        line([publicKind, formatVersion, algorithm, publicKey.base64], comment: comment)
    }

    static func render(signingKey: SigningKey, comment: String) -> [UInt8] {
        let seed = signingKey.withSeed { Base64.encode($0) }
        return Array(line([signingKind, formatVersion, seed], comment: comment).utf8)
    }

    static func render(keyring: Keyring) -> [UInt8] {
        var text = "# lb cluster keyring: the first key seals, every key opens\n"
        for (index, key) in keyring.keys.enumerated() {
            let material = key.secret.withUnsafeBytes { Base64.encode($0) }
            text += line([clusterKind, formatVersion, material], comment: index == 0 ? "primary \(key.id)" : "\(key.id)")
        }
        return Array(text.utf8)
    }

    private static func line(_ fields: [String], comment: String) -> String {
        // A newline inside a comment would start a line the parser would misread.
        let flat = comment.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingSpaces()
        return (fields + (flat.isEmpty ? [] : [flat])).joined(separator: " ") + "\n"
    }

    // MARK: Lines

    private static func keyLines(_ contents: [UInt8], path: String, kind: String) throws -> [KeyLine] {
        var lines: [KeyLine] = []
        var number = 0
        for raw in contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            let line = KeyLine(raw, path: path, number: number)
            guard !line.fields.isEmpty, line.byte(0, 0) != UInt8(ascii: "#") else { continue }
            let found = line.text(0)
            guard found == kind else {
                let known = [signingKind, publicKind, clusterKind].contains(found)
                throw line.error(known ? "expected \(kind), found \(found)"
                                       : "unknown line type '\(found)' (expected \(kind))")
            }
            guard line.fields.count > 1, line.text(1) == formatVersion else {
                throw line.error("unsupported format version '\(line.fields.count > 1 ? line.text(1) : "")' (this build reads \(formatVersion))")
            }
            lines.append(line)
        }
        return lines
    }

    static func syntax(_ path: String, _ line: Int?, _ message: String) -> CryptoError {
        let location = line.map { "\(path):\($0)" } ?? path
        return CryptoError(.keyFileSyntax, "\(location): \(message)", path: path, line: line)
    }
}

/// One non-blank line of a key file, split on spaces and tabs, without copying secret fields to Strings.
private struct KeyLine {
    let bytes: ArraySlice<UInt8>
    let path: String
    let number: Int
    let fields: [Range<Int>]

    init(_ raw: ArraySlice<UInt8>, path: String, number: Int) {
        let trimmed = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw
        bytes = trimmed
        self.path = path
        self.number = number
        var fields: [Range<Int>] = []
        var start: Int?
        for index in trimmed.indices {
            let blank = trimmed[index] == UInt8(ascii: " ") || trimmed[index] == UInt8(ascii: "\t")
            if blank, let s = start { fields.append(s..<index); start = nil }
            if !blank, start == nil { start = index }
        }
        if let s = start { fields.append(s..<trimmed.endIndex) }
        self.fields = fields
    }

    func byte(_ field: Int, _ offset: Int) -> UInt8 { bytes[fields[field].lowerBound + offset] }

    func text(_ field: Int) -> String { String(decoding: bytes[fields[field]], as: UTF8.self) }

    /// The rest of the line after `field`, trimmed.
    func comment(after field: Int) -> String {
        guard fields.count > field + 1 else { return "" }
        return String(decoding: bytes[fields[field + 1].lowerBound...], as: UTF8.self).trimmingSpaces()
    }

    func expectFields(_ minimum: Int, _ form: String) throws {
        guard fields.count >= minimum else { throw error("missing fields; expected '\(form)'") }
    }

    func bytes(field: Int, byteCount: Int, what: String) throws -> [UInt8] {
        try checkLength(field: field, byteCount: byteCount, what: what)
        do {
            return try bytes[fields[field]].withUnsafeBytes { try Base64.decode($0, alphabets: .standardPadded) }
        } catch {
            throw self.error("\(what) is not valid base64 (standard alphabet with = padding)")
        }
    }

    /// Decodes the field straight into guarded memory.
    func secret(field: Int, byteCount: Int, what: String) throws -> SecretBytes {
        try checkLength(field: field, byteCount: byteCount, what: what)
        do {
            return try SecretBytes(count: byteCount) { out in
                _ = try bytes[fields[field]].withUnsafeBytes { try Base64.decode($0, into: out, alphabets: .standardPadded) }
            }
        } catch {
            throw self.error("\(what) is not valid base64 (standard alphabet with = padding)")
        }
    }

    // Padded base64 of n bytes is exactly 4 * ceil(n / 3) characters; checking that first gives a
    // clearer message than a decoder failure, and lets a secret decode straight into a buffer of its size.
    private func checkLength(field: Int, byteCount: Int, what: String) throws {
        let expected = (byteCount + 2) / 3 * 4
        guard fields[field].count == expected else {
            throw error("\(what) must be \(byteCount) bytes (\(expected) base64 characters), found \(fields[field].count) characters")
        }
    }

    func error(_ message: String) -> CryptoError { KeyFile.syntax(path, number, message) }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
