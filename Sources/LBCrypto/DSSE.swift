/// A DSSE v1 envelope (github.com/secure-systems-lab/dsse): a payload, its type, and signatures over
/// PAE(type, payload). Signing and verification here use Ed25519.
public struct Envelope: Sendable, Equatable {
    /// One signature; `keyID` is an unauthenticated hint that only narrows which trusted key to try.
    public struct Signature: Sendable, Hashable {
        public var keyID: String?
        public var bytes: [UInt8]

        public init(keyID: String?, bytes: [UInt8]) {
            self.keyID = keyID
            self.bytes = bytes
        }
    }

    public var payloadType: String
    public var payload: [UInt8]
    public var signatures: [Signature]

    public init(payloadType: String, payload: [UInt8], signatures: [Signature]) {
        self.payloadType = payloadType
        self.payload = payload
        self.signatures = signatures
    }

    /// Signs `payload` once with each distinct key, in the order given.
    public static func sign(payload: [UInt8], payloadType: String, keys: [SigningKey]) throws -> Envelope {
        guard !keys.isEmpty else { throw CryptoError(.invalidArgument, "signing needs at least one key") }
        let message = preAuthenticationEncoding(payloadType: payloadType, payload: payload)
        var seen = Set<PublicKey>()
        let signatures = keys.filter { seen.insert($0.publicKey).inserted }.map {
            Signature(keyID: $0.keyID, bytes: $0.signature(for: message))
        }
        return Envelope(payloadType: payloadType, payload: payload, signatures: signatures)
    }

    /// PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, where LEN is the byte
    /// count in ASCII decimal without leading zeros and type is taken as UTF-8.
    public static func preAuthenticationEncoding(payloadType: String, payload: [UInt8]) -> [UInt8] {
        let type = Array(payloadType.utf8)
        var out = Array("DSSEv1 \(type.count) ".utf8)
        out.reserveCapacity(out.count + type.count + payload.count + 24)
        out += type
        out += Array(" \(payload.count) ".utf8)
        out += payload
        return out
    }

    /// Checks every signature against the trusted keys. A signature whose key id names a trusted key
    /// is checked against that key only; any other is tried against every trusted key, because DSSE
    /// key ids are optional hints and other signers may spell them differently.
    public func verify(trusting trustedKeys: [PublicKey]) -> SignatureCheck {
        let message = Self.preAuthenticationEncoding(payloadType: payloadType, payload: payload)
        var check = SignatureCheck()
        for signature in signatures {
            let named = signature.keyID.flatMap { id in trustedKeys.first { $0.keyID == id } }
            let candidates = named.map { [$0] } ?? trustedKeys
            if let signer = candidates.first(where: { $0.isValidSignature(signature.bytes, for: message) }) {
                if !check.validSigners.contains(signer) { check.validSigners.append(signer) }
            } else if let named {
                check.failedKeyIDs.append(named.keyID)
            } else {
                check.unmatchedKeyIDs.append(signature.keyID ?? "")
            }
        }
        return check
    }
}

/// The outcome of checking an envelope's signatures against a set of trusted keys.
public struct SignatureCheck: Sendable, Equatable {
    /// Trusted keys with at least one valid signature, each once, in order of first appearance.
    public var validSigners: [PublicKey] = []
    /// Key ids of trusted keys named by a signature that did not verify (tampering or corruption).
    public var failedKeyIDs: [String] = []
    /// Key id hints of signatures no trusted key verifies ("" where the signature had none).
    public var unmatchedKeyIDs: [String] = []

    public init() {}

    /// The ids of `validSigners`.
    public var validKeyIDs: [String] { validSigners.map(\.keyID) }
}
