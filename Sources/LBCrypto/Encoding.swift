import CSodium

/// Lowercase hexadecimal, as used in digests and key ids.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Two lowercase hex digits per byte.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even-length hex string; upper- and lowercase digits are accepted.
    public static func decode(_ text: String) throws -> [UInt8] {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else {
            throw CryptoError(.invalidEncoding, "hex text has an odd number of digits (\(chars.count))")
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(of: chars[index]), let low = value(of: chars[index + 1]) else {
                throw CryptoError(.invalidEncoding, "hex text has a non-hex character near offset \(index)")
            }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(of char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Base64 through libsodium, whose decoder is constant-time and strict: it refuses stray characters,
/// wrong padding and non-zero trailing bits, so every byte string has exactly one accepted spelling per
/// alphabet.
public enum Base64 {
    /// Which spellings a decoder accepts.
    public enum Alphabets: Sendable {
        /// Only RFC 4648 section 4 (`+/`) with `=` padding: what this project writes.
        case standardPadded
        /// Standard or URL-safe (`-_`), each padded or not, as DSSE requires of verifiers.
        case any
    }

    /// Standard alphabet with padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// Standard alphabet with padding.
    public static func encode(_ buffer: UnsafeRawBufferPointer) -> String {
        Sodium.ensureInitialised()
        let capacity = (buffer.count + 2) / 3 * 4 + 1  // sodium_base64_ENCODED_LEN, padded variant
        var text = [CChar](repeating: 0, count: capacity)
        text.withUnsafeMutableBufferPointer { out in
            _ = sodium_bin2base64(out.baseAddress!, capacity,
                                  buffer.bindMemory(to: UInt8.self).baseAddress, buffer.count,
                                  sodium_base64_VARIANT_ORIGINAL)
        }
        return String(decoding: text.prefix(capacity - 1).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The bytes spelled by `text`, or `invalidEncoding`.
    public static func decode(_ text: String, alphabets: Alphabets = .any) throws -> [UInt8] {
        try Array(text.utf8).withUnsafeBytes { try decode($0, alphabets: alphabets) }
    }

    /// The bytes spelled by the ASCII in `text`, or `invalidEncoding`.
    public static func decode(_ text: UnsafeRawBufferPointer, alphabets: Alphabets = .any) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: maximumDecodedCount(text.count))
        let written = try out.withUnsafeMutableBytes { try decode(text, into: $0, alphabets: alphabets) }
        out.removeSubrange(written...)
        return out
    }

    /// Decodes straight into `output` (for secrets: no intermediate copy), returning the byte count.
    static func decode(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                       alphabets: Alphabets) throws -> Int {
        Sodium.ensureInitialised()
        let variants: [Int32] = switch alphabets {
        case .standardPadded: [sodium_base64_VARIANT_ORIGINAL]
        case .any: [sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_URLSAFE,
                    sodium_base64_VARIANT_ORIGINAL_NO_PADDING, sodium_base64_VARIANT_URLSAFE_NO_PADDING]
        }
        if text.isEmpty { return 0 }
        for variant in variants {
            if let count = decode(text, into: output, variant: variant) { return count }
        }
        throw CryptoError(.invalidEncoding, alphabets == .standardPadded
            ? "not valid base64 (standard alphabet with = padding)"
            : "not valid base64")
    }

    private static func decode(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                               variant: Int32) -> Int? {
        guard let out = output.bindMemory(to: UInt8.self).baseAddress else { return nil }
        var written = 0
        let rc = sodium_base642bin(out, output.count,
                                   text.bindMemory(to: CChar.self).baseAddress, text.count,
                                   nil, &written, nil, variant)
        return rc == 0 ? written : nil
    }

    /// An upper bound on the decoded size of `count` base64 characters.
    static func maximumDecodedCount(_ count: Int) -> Int { count / 4 * 3 + 3 }
}
