import Foundation
import LBCrypto

/// How an operator's request to the controller is signed: Ed25519 by a key of the cluster's trust list
/// over the method, the path with its query, the time, a nonce and the body's SHA-256. The controller
/// holds only public keys, so there is no password or token to steal from it.
///
/// Headers: `LB-Key` (the key id), `LB-Time` (Unix seconds), `LB-Nonce` (32 hex digits), `LB-Signature`
/// (base64 of the signature over `canonical`). docs/api.md describes them for other clients.
public enum RequestSigning {
    public static let keyHeader = "LB-Key"
    public static let timeHeader = "LB-Time"
    public static let nonceHeader = "LB-Nonce"
    public static let signatureHeader = "LB-Signature"

    /// The signed bytes. A domain line first, so a request signature can never pass for a document's.
    public static func canonical(method: String, path: String, time: Int64, nonce: String, body: [UInt8]) -> [UInt8] {
        Array("lb-request-v1\n\(method.uppercased())\n\(path)\n\(time)\n\(nonce)\n\(Hex.encode(SHA256.hash(body)))".utf8)
    }

    /// The four headers for one request.
    public static func headers(method: String, path: String, body: [UInt8], key: SigningKey, now: Date = Date(),
                               nonce: String = Hex.encode(SecureRandom.bytes(count: 16))) -> [(String, String)] {
        let time = Int64(now.timeIntervalSince1970.rounded(.down))
        let signature = key.signature(for: canonical(method: method, path: path, time: time, nonce: nonce, body: body))
        return [(keyHeader, key.keyID), (timeHeader, "\(time)"), (nonceHeader, nonce), (signatureHeader, Base64.encode(signature))]
    }
}

/// Why a request was not authenticated: the 401's reason, said so the operator can fix it.
public enum AuthFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case missingHeader(String)
    case malformedHeader(String, String)
    case unknownKey(String)
    case badSignature(String)
    case outsideClockWindow(skewSeconds: Int64, windowSeconds: Int64)
    case replayed

    public var description: String {
        switch self {
        case .missingHeader(let h): "the request is not signed: no \(h) header (lbctl signs with --key, LB_KEY or ~/.config/lb/lbctl.yaml)"
        case .malformedHeader(let h, let why): "\(h) header is malformed: \(why)"
        case .unknownKey(let id): "key \(id) is not in the controller's trust list"
        case .badSignature(let id): "the signature by \(id) does not match this request (wrong key, or the request was altered)"
        case .outsideClockWindow(let skew, let window):
            "the request's time is \(abs(skew)) s \(skew < 0 ? "behind" : "ahead of") the controller's clock, more than the \(window) s allowed; check the clocks (NTP)"
        case .replayed: "this exact request was already received (a replay); sign a new one"
        }
    }

    /// A stable name for logs and JSON.
    public var code: String {
        switch self {
        case .missingHeader: "unsigned"
        case .malformedHeader: "malformed_signature"
        case .unknownKey: "unknown_key"
        case .badSignature: "bad_signature"
        case .outsideClockWindow: "clock_window"
        case .replayed: "replayed"
        }
    }
}

/// The controller's side: checks a request's signature against the trusted keys and the clock window,
/// and remembers every nonce inside the window so a captured request cannot be sent again. A value fed
/// the time, so its rules are tested without a clock.
public struct RequestVerifier: Sendable {
    public let trustedKeys: [String: PublicKey]
    public let window: Duration
    /// Nonces seen, with the request time after which they can no longer pass the window anyway.
    var seen: [String: Int64] = [:]
    var lastPrune: Int64 = 0

    public init(trustedKeys: [PublicKey], window: Duration) {
        self.trustedKeys = Dictionary(trustedKeys.map { ($0.keyID, $0) }, uniquingKeysWith: { a, _ in a })
        self.window = window
    }

    /// The signer's key id, or why the request is refused. `header` looks a header up by name.
    public mutating func verify(method: String, path: String, body: [UInt8], now: Date,
                                header: (String) -> String?) -> Result<String, AuthFailure> {
        guard let keyID = header(RequestSigning.keyHeader) else { return .failure(.missingHeader(RequestSigning.keyHeader)) }
        guard let timeText = header(RequestSigning.timeHeader) else { return .failure(.missingHeader(RequestSigning.timeHeader)) }
        guard let nonce = header(RequestSigning.nonceHeader) else { return .failure(.missingHeader(RequestSigning.nonceHeader)) }
        guard let signatureText = header(RequestSigning.signatureHeader) else { return .failure(.missingHeader(RequestSigning.signatureHeader)) }
        guard let time = Int64(timeText) else { return .failure(.malformedHeader(RequestSigning.timeHeader, "'\(timeText.prefix(40))' is not Unix seconds")) }
        guard nonce.utf8.count >= 16, nonce.utf8.count <= 64, nonce.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            return .failure(.malformedHeader(RequestSigning.nonceHeader, "16 to 64 lowercase hex digits expected"))
        }
        guard let signature = try? Base64.decode(signatureText), signature.count == PublicKey.signatureByteCount else {
            return .failure(.malformedHeader(RequestSigning.signatureHeader, "base64 of a 64-byte Ed25519 signature expected"))
        }
        guard let key = trustedKeys[keyID] else { return .failure(.unknownKey(String(keyID.prefix(80)))) }
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let windowSeconds = window.components.seconds
        let skew = time - nowSeconds
        guard abs(skew) <= windowSeconds else { return .failure(.outsideClockWindow(skewSeconds: skew, windowSeconds: windowSeconds)) }
        let message = RequestSigning.canonical(method: method, path: path, time: time, nonce: nonce, body: body)
        guard key.isValidSignature(signature, for: message) else { return .failure(.badSignature(keyID)) }
        // Checked after the signature, so nobody can fill the nonce table without a trusted key.
        prune(now: nowSeconds)
        guard seen[nonce] == nil else { return .failure(.replayed) }
        seen[nonce] = time + windowSeconds
        return .success(keyID)
    }

    /// Nonces whose request time has left the window are refused by the clock check already.
    mutating func prune(now: Int64) {
        guard now > lastPrune else { return }
        lastPrune = now
        seen = seen.filter { $0.value >= now }
    }

    /// How many nonces are remembered now.
    public var remembered: Int { seen.count }
}
