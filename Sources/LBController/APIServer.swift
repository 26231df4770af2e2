import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTLS
import LBClusterView
import LBControllerAPI
import LBDocument
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ServiceLifecycle

extension APIRefusal: HTTPResponseError {
    public var status: HTTPResponse.Status { .init(code: code) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        APIServer.json(body, status: .init(code: code))
    }
}

/// The request verifier shared by every connection: a value behind a lock, since each check also
/// records the nonce it saw.
public final class RequestAuthenticator: Sendable {
    let verifier: NIOLockedValueBox<RequestVerifier>
    let clock: @Sendable () -> Date

    public init(_ verifier: RequestVerifier, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.verifier = NIOLockedValueBox(verifier)
        self.clock = clock
    }

    /// The signer's key id, or the 401 that says why not.
    func check(_ request: Request, body: [UInt8]) throws(APIRefusal) -> String {
        let now = clock()
        let result = verifier.withLockedValue { v in
            v.verify(method: request.method.rawValue, path: request.uri.string, body: body, now: now) { name in
                HTTPField.Name(name).flatMap { request.headers[$0] }
            }
        }
        switch result {
        case .success(let key): return key
        case .failure(let failure): throw APIRefusal(401, failure.code, failure.description)
        }
    }
}

/// The operators' HTTP API (docs/api.md): documents in, history, status and the event stream out.
/// Every request is signed by an operator key (`RequestSigning`); a submitted document must also pass
/// the trust policy and extend the head.
public enum APIServer {
    /// Bodies above this are refused before they are read further: the largest document plus headroom.
    static let maximumBody = DesiredStateDocument.maximumEnvelopeBytes + 4096
    /// A comment line on an idle event stream, so proxies and clients see the connection is alive.
    static let heartbeat: Duration = .seconds(15)

    public static func router(state: ControllerState, auth: RequestAuthenticator, metrics: ControllerMetrics,
                              shutdown: ShutdownSignal) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: CountingMiddleware(metrics: metrics))
        router.post("v1/documents") { request, _ -> Response in
            let body = try await read(request)
            _ = try auth.check(request, body: body)
            let result = try await state.submit(body)
            return json(result, status: .ok)
        }
        router.get("v1/documents") { request, _ -> Response in
            _ = try auth.check(request, body: try await read(request))
            guard let head = try await state.head() else { throw APIRefusal(404, "not_found", "no version has been applied yet") }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[HTTPField.Name("LB-Version")!] = "\(head.version)"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: head.envelope)))
        }
        router.get("v1/history") { request, _ -> Response in
            _ = try auth.check(request, body: try await read(request))
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 100
            guard (1...10_000).contains(limit) else { throw APIRefusal(400, "bad_request", "limit must be 1 to 10000, not \(limit)") }
            return json(HistoryPage(versions: try await state.versions(limit: limit)), status: .ok)
        }
        router.get("v1/history/:version") { request, context -> Response in
            _ = try auth.check(request, body: try await read(request))
            guard let text = context.parameters.get("version"), let n = UInt64(text) else {
                throw APIRefusal(400, "bad_request", "a version is a whole number ≥ 1")
            }
            guard let v = try await state.version(n) else { throw APIRefusal(404, "not_found", "there is no v\(n) in the history") }
            let summary = VersionSummary(version: UInt64(v.version), digest: v.digest, previous: v.previous, acceptedAt: v.acceptedAt,
                                         signers: v.signers, summary: v.summary)
            return json(VersionRecord(summary: summary, envelope: String(decoding: v.envelope, as: UTF8.self)), status: .ok)
        }
        router.get("v1/status") { request, _ -> Response in
            _ = try auth.check(request, body: try await read(request))
            return json(await state.status(), status: .ok)
        }
        router.get("v1/events") { request, _ -> Response in
            _ = try auth.check(request, body: try await read(request))
            let after = request.uri.queryParameters.get("after", as: Int64.self)
                ?? request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0) }
            let events = try await state.events(after: after)
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init { writer in
                try await stream(events, to: &writer, after: after ?? 0, shutdown: shutdown) { ServerSentEvents.message($0) }
            })
        }
        return router
    }

    /// Writes each element as it comes, a heartbeat comment when idle, until the client goes or shutdown.
    static func stream(_ events: AsyncStream<ClusterEvent>, to writer: inout any ResponseBodyWriter, after: Int64,
                       shutdown: ShutdownSignal, render: @escaping @Sendable (ClusterEvent) -> String?) async throws {
        let (merged, continuation) = AsyncStream<String?>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        let pump = Task {
            var last = after
            for await e in events {
                // Replayed history and the live stream overlap by design; each id is sent once.
                guard e.id == 0 || e.id > last else { continue }
                last = max(last, e.id)
                if let text = render(e) { continuation.yield(text) }
            }
            continuation.finish()
        }
        let beat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                continuation.yield(":\n\n")
            }
        }
        let stop = Task {
            await shutdown.wait()
            continuation.finish()
        }
        defer { pump.cancel(); beat.cancel(); stop.cancel() }
        try await writer.write(ByteBuffer(string: ": lb-controller event stream\n\n"))
        for await chunk in merged {
            guard let chunk else { break }
            try await writer.write(ByteBuffer(string: chunk))
        }
        try await writer.finish(nil)
    }

    static func read(_ request: Request) async throws -> [UInt8] {
        do {
            return Array(buffer: try await request.body.collect(upTo: maximumBody))
        } catch {
            throw APIRefusal(413, "too_large", "the request body is over \(maximumBody) bytes")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let bytes = (try? APIJSON.encoder(pretty: true).encode(value)) ?? Data(#"{"error":"internal","message":"cannot encode"}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes + [0x0A])))
    }

    /// The TLS server configuration from the certificate chain and key files.
    public static func tls(certificate: String, key: String) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: key, format: .pem)
            return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        } catch {
            throw ControllerError("api.tls: cannot load \(certificate) and \(key): \(error)")
        }
    }
}

/// Counts every API request by route and status, refusals included.
struct CountingMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ControllerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.request(path: context.endpointPath ?? "unmatched", status: Int(response.status.code))
            return response
        } catch let refusal as APIRefusal {
            metrics.request(path: context.endpointPath ?? "unmatched", status: refusal.code)
            throw refusal
        } catch let error as HTTPError {
            metrics.request(path: context.endpointPath ?? "unmatched", status: Int(error.status.code))
            throw error
        }
    }
}

/// Resolves once graceful shutdown begins, for streams that must end then. Waiting is cancellable,
/// so a client that goes away leaves no waiter behind.
public final class ShutdownSignal: Sendable {
    struct State {
        var done = false
        var next = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }
    let box = NIOLockedValueBox(State())

    public init() {}

    public func trigger() {
        let waiters = box.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.done = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    public func wait() async {
        let id = box.withLockedValue { state -> Int in
            state.next += 1
            return state.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = box.withLockedValue { state -> Bool in
                    if state.done || Task.isCancelled { return true }
                    state.waiters[id] = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            box.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// Why the controller cannot start.
public struct ControllerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
