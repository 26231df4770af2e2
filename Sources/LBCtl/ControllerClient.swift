import ArgumentParser
import AsyncHTTPClient
import Foundation
import LBClusterView
import LBControllerAPI
import LBCrypto
import LBDocument
import NIOCore
import NIOHTTP1
import NIOSSL
import Yams

/// Where lbctl finds the controller and the operator's keys: flags, then `LB_CONTROLLER` / `LB_KEY` /
/// `LB_TRUST`, then `~/.config/lb/lbctl.yaml` (docs/api.md).
struct ControllerOptions: ParsableArguments {
    @Option(name: .customLong("controller"), help: "Controller API URL, e.g. http://127.0.0.1:9120 (repeatable: the first that answers is used).")
    var controllers: [String] = []

    @Option(help: "The operator's signing key file (lb-signing-key): signs requests and documents.")
    var key: String?

    @Option(name: .customLong("trust"), help: "Public key files trusted to have signed the cluster's documents (default: the signing key's own).")
    var trustFiles: [String] = []

    @Option(help: "Signatures a document needs (the cluster's trust threshold).")
    var threshold: Int = 1

    @Option(help: "PEM file of the CA (or the certificate itself) an https:// controller's certificate is checked against (default: the system's).")
    var ca: String?

    /// The file read when flags and environment leave something unset.
    static var configPath: String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CONFIG_HOME"].map { $0 } ?? ((env["HOME"] ?? "/root") + "/.config")
        return base + "/lb/lbctl.yaml"
    }

    /// What `~/.config/lb/lbctl.yaml` may hold.
    struct File: Decodable {
        var controllers: [String]?
        var key: String?
        var trust: [String]?
        var ca: String?
    }

    func resolved() throws -> ControllerClient.Settings {
        let env = ProcessInfo.processInfo.environment
        var file = File()
        let path = Self.configPath
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            do { file = try YAMLDecoder().decode(File.self, from: text) } catch {
                throw CommandFailure("\(path): \(error)")
            }
        }
        let urls = !controllers.isEmpty ? controllers
            : env["LB_CONTROLLER"].map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? file.controllers ?? []
        guard !urls.isEmpty else {
            throw CommandFailure("no controller: pass --controller URL, set LB_CONTROLLER, or write controllers: [URL] in \(path)")
        }
        for u in urls where URL(string: u)?.host == nil || !(u.hasPrefix("http://") || u.hasPrefix("https://")) {
            throw CommandFailure("controller '\(u)' is not an http:// or https:// URL")
        }
        guard let keyPath = key ?? env["LB_KEY"] ?? file.key else {
            throw CommandFailure("no signing key: pass --key FILE, set LB_KEY, or write key: FILE in \(path)")
        }
        let signing = try KeyFile.readSigningKey(at: keyPath)
        let trustPaths = !trustFiles.isEmpty ? trustFiles : env["LB_TRUST"].map { $0.split(separator: ",").map(String.init) } ?? file.trust ?? []
        let trusted = trustPaths.isEmpty ? [signing.publicKey] : try trustPaths.flatMap { try KeyFile.readPublicKeys(at: $0).map(\.key) }
        let caFile = ca ?? env["LB_CA"] ?? file.ca
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) { throw CommandFailure("--ca \(caFile) cannot be read") }
        return ControllerClient.Settings(controllers: urls, key: signing, trusted: trusted, threshold: threshold, caFile: caFile)
    }
}

/// The controller's API from lbctl: every request signed, the first controller that answers used.
final class ControllerClient: Sendable {
    struct Settings: Sendable {
        var controllers: [String]
        var key: SigningKey
        var trusted: [PublicKey]
        var threshold: Int
        /// The CA an https:// controller is verified against; nil: the system's trust store.
        var caFile: String?
    }

    let settings: Settings
    let http: HTTPClient

    init(_ settings: Settings) {
        self.settings = settings
        var configuration = HTTPClient.Configuration()
        if let ca = settings.caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(ca)
            configuration.tlsConfiguration = tls
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async { try? await http.shutdown() }

    /// A response with its status and body.
    struct Answer {
        var status: Int
        var body: [UInt8]
        var controller: String
        var headers: HTTPHeaders
    }

    /// One signed request to the first controller that answers at all; an HTTP error status is an answer.
    func send(_ method: HTTPMethod, _ path: String, body: [UInt8] = [], timeout: Duration = .seconds(30)) async throws -> Answer {
        var failures: [String] = []
        for base in settings.controllers {
            var request = HTTPClientRequest(url: base.trimmingSuffix("/") + path)
            request.method = method
            for (name, value) in RequestSigning.headers(method: method.rawValue, path: path, body: body, key: settings.key) {
                request.headers.add(name: name, value: value)
            }
            if !body.isEmpty {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            do {
                let response = try await http.execute(request, timeout: .seconds(timeout.components.seconds))
                let bytes = try await response.body.collect(upTo: DesiredStateDocument.maximumEnvelopeBytes * 2)
                return Answer(status: Int(response.status.code), body: Array(buffer: bytes), controller: base, headers: response.headers)
            } catch {
                failures.append("\(base): \(Self.describe(error))")
            }
        }
        throw CommandFailure("no controller answers: " + failures.joined(separator: "; "))
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("connectTimeout") || text.contains("connect(descriptor") || text.contains("connection refused") || text.contains("Connection refused") {
            return "connection refused or timed out"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "its TLS certificate does not verify: pass the CA that signed it (or the certificate itself) with --ca or LB_CA"
        }
        if text.contains("remoteConnectionClosed") {
            return "it closed the connection without answering (an https:// controller asked over http://?)"
        }
        return text
    }

    /// The body as `T` on 2xx; otherwise the controller's error, as a CommandFailure carrying its code.
    func decode<T: Decodable>(_ type: T.Type, _ answer: Answer) throws -> T {
        guard (200..<300).contains(answer.status) else { throw refusal(answer) }
        do { return try APIJSON.decoder().decode(T.self, from: Data(answer.body)) } catch {
            throw CommandFailure("\(answer.controller) answered something that is not \(T.self): \(error)")
        }
    }

    func refusal(_ answer: Answer) -> APIFailure {
        if let e = try? APIJSON.decoder().decode(APIError.self, from: Data(answer.body)) {
            return APIFailure(status: answer.status, error: e)
        }
        return APIFailure(status: answer.status, error: APIError(error: "http_\(answer.status)",
                                                                 message: "\(answer.controller) answered \(answer.status): \(String(decoding: answer.body.prefix(200), as: UTF8.self))"))
    }

    // MARK: The API

    /// The head's envelope, nil before any version.
    func head() async throws -> [UInt8]? {
        let answer = try await send(.GET, APIRoute.documents)
        if answer.status == 404 { return nil }
        guard answer.status == 200 else { throw refusal(answer) }
        return answer.body
    }

    func submit(_ envelope: [UInt8]) async throws -> SubmitResult {
        try decode(SubmitResult.self, try await send(.POST, APIRoute.documents, body: envelope))
    }

    func status() async throws -> ClusterStatus { try decode(ClusterStatus.self, try await send(.GET, APIRoute.status)) }

    func history(limit: Int) async throws -> [VersionSummary] {
        try decode(HistoryPage.self, try await send(.GET, APIRoute.history + "?limit=\(limit)")).versions
    }

    func version(_ n: UInt64) async throws -> VersionRecord {
        try decode(VersionRecord.self, try await send(.GET, APIRoute.version(n)))
    }

    /// The event stream: each event as it comes, until the controller ends it or the task is cancelled.
    func events(after: Int64? = nil) async throws -> AsyncThrowingStream<ClusterEvent, any Error> {
        let path = APIRoute.events + (after.map { "?after=\($0)" } ?? "")
        var failures: [String] = []
        for base in settings.controllers {
            var request = HTTPClientRequest(url: base.trimmingSuffix("/") + path)
            for (name, value) in RequestSigning.headers(method: "GET", path: path, body: [], key: settings.key) {
                request.headers.add(name: name, value: value)
            }
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, deadline: .distantFuture)
            } catch {
                failures.append("\(base): \(Self.describe(error))")
                continue
            }
            guard response.status == .ok else {
                let body = try await response.body.collect(upTo: 1 << 20)
                throw refusal(Answer(status: Int(response.status.code), body: Array(buffer: body), controller: base, headers: response.headers))
            }
            return AsyncThrowingStream { continuation in
                let task = Task {
                    var parser = ServerSentEvents.Parser()
                    do {
                        for try await chunk in response.body {
                            for message in parser.feed(chunk.readableBytesView) {
                                if let e = try? APIJSON.decoder().decode(ClusterEvent.self, from: Data(message.data.utf8)) { continuation.yield(e) }
                            }
                        }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        }
        throw CommandFailure("no controller answers: " + failures.joined(separator: "; "))
    }

    /// A fetched envelope verified with the operator's trust list: lbctl does not take the controller's word.
    func verify(_ envelope: [UInt8], cluster: String?, what: String) throws -> VerifiedDocument {
        let policy: TrustPolicy
        do {
            policy = try TrustPolicy(trustedKeys: settings.trusted, threshold: settings.threshold, expectedCluster: cluster)
        } catch {
            throw CommandFailure("trust: \(error)")
        }
        do {
            // History is verified as it was signed: an old version's expiry is no reason to distrust it.
            return try DesiredStateDocument.verify(json: envelope, policy: policy, now: Date.distantPast)
        } catch {
            throw CommandFailure("\(what) does not verify with your trust list: \(error); pass the cluster's operator keys with --trust")
        }
    }
}

/// The controller refused: its status, code and sentence.
struct APIFailure: Error, CustomStringConvertible {
    var status: Int
    var error: APIError
    var description: String { "the controller refused (\(status) \(error.error)): \(error.message)" }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
