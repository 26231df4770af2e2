/// Every failure LBCrypto reports: a `code` to branch on and a message written for the operator.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a comparable value; codes are only ever added, never renamed.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public var description: String { name }

        /// Bytes of the wrong length for a key, seed or similar fixed-size value.
        public static let invalidLength = Code(name: "invalid_length")
        /// Text that is not valid base64 or hex, or a public key that is not a curve point.
        public static let invalidEncoding = Code(name: "invalid_encoding")
        /// A caller asked for something the API does not allow (no signing keys, an empty keyring).
        public static let invalidArgument = Code(name: "invalid_argument")
        /// A DSSE envelope that is not well-formed JSON with the required fields, or is over its limits.
        public static let malformedEnvelope = Code(name: "malformed_envelope")
        /// A sealed message shorter than its header plus tag.
        public static let sealedTooShort = Code(name: "sealed_too_short")
        /// A sealed message with a format version this build does not know.
        public static let unsupportedFormat = Code(name: "unsupported_format")
        /// A sealed message under a key id the keyring does not hold.
        public static let unknownKey = Code(name: "unknown_key")
        /// A sealed message whose tag does not verify: wrong key, tampering or corruption.
        public static let authenticationFailed = Code(name: "authentication_failed")
        /// A keyring change that would break a rule: removing the primary, a colliding key id.
        public static let keyringRule = Code(name: "keyring_rule")
        /// A key file that does not follow docs/keys.md; `path` and `line` say where.
        public static let keyFileSyntax = Code(name: "key_file_syntax")
        /// A secret key file that group or others may access.
        public static let insecurePermissions = Code(name: "insecure_permissions")
        /// A write that would replace an existing file without being asked to.
        public static let fileExists = Code(name: "file_exists")
        /// A system call on a file failed; the message carries the path and the errno text.
        public static let io = Code(name: "io")
    }

    public let code: Code
    public let message: String
    /// The file involved, when there is one.
    public let path: String?
    /// The 1-based line in `path`, for key file syntax errors.
    public let line: Int?

    public init(_ code: Code, _ message: String, path: String? = nil, line: Int? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.line = line
    }

    public var description: String { message }
}
