import AsyncHTTPClient
import Foundation
import Hummingbird
import LBClusterView
import LBController
import LBControllerAPI
import LBCrypto
import LBDocument
import LBHistory
import LBSpec
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import XCTest

/// The API on a real socket on loopback, with a real history file: what it accepts, what it refuses and
/// why, and that a refusal stores nothing.
final class APIServerTests: XCTestCase {
    let operatorKey = SigningKey.generate()
    let stranger = SigningKey.generate()
    var directory = ""
    var history: HistoryStore!
    var state: ControllerState!
    var base = ""
    var serverTask: Task<Void, any Error>?
    // Made in setUp: XCTest makes an instance per test just to list them, and a client must be shut down.
    var http: HTTPClient!
    let shutdown = ShutdownSignal()

    override func setUp() async throws {
        http = HTTPClient(eventLoopGroupProvider: .singleton)
        directory = NSTemporaryDirectory() + "lb-api-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        history = try HistoryStore(path: directory + "/history.sqlite")
        let policy = try TrustPolicy(trustedKeys: [operatorKey.publicKey], expectedCluster: "web")
        state = ControllerState(history: history, cluster: "web", controller: "ctl", policy: policy, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        _ = try await state.start(gossip: nil)
        let auth = RequestAuthenticator(RequestVerifier(trustedKeys: [operatorKey.publicKey], window: .seconds(30)))
        let router = APIServer.router(state: state, auth: auth, metrics: ControllerMetrics(), shutdown: shutdown)
        let (ports, portsIn) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { portsIn.yield($0.localAddress?.port ?? 0) }, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        serverTask = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        base = "http://127.0.0.1:\(await iterator.next() ?? 0)"
    }

    override func tearDown() async throws {
        shutdown.trigger()
        serverTask?.cancel()
        _ = await serverTask?.result
        try await http.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func spec(weight: Int = 1) -> ClusterSpec {
        ClusterSpec(
            cluster: "web",
            nodes: [Node(name: "lvs1", address: CIDR("192.168.1.100/24")!), Node(name: "rs1", address: CIDR("192.168.1.102/24")!)],
            vips: [VIP(name: "web", address: CIDR("192.168.1.200/24")!,
                       vrrp: VRRPGroup(routerID: 51, directors: [Director(node: "lvs1", priority: 100)]),
                       services: [VirtualService(port: 80, realServers: [RealServer(node: "rs1", weight: weight)])])])
    }

    func document(_ version: UInt64, weight: Int = 1, previous: [UInt8]? = nil, by key: SigningKey? = nil) throws -> [UInt8] {
        var doc = DesiredStateDocument(spec: Self.spec(weight: weight), version: version, issuedAt: Date())
        if let previous {
            let policy = try TrustPolicy(trustedKeys: [operatorKey.publicKey])
            doc = try DesiredStateDocument.verify(json: previous, policy: policy).successor(spec: Self.spec(weight: weight), issuedAt: Date())
            doc.version = version
        }
        return try doc.signed(by: [key ?? operatorKey]).jsonEncoded()
    }

    struct Answer {
        var status: Int
        var body: [UInt8]
        var json: APIError? { try? APIJSON.decoder().decode(APIError.self, from: Data(body)) }
    }

    func send(_ method: HTTPMethod, _ path: String, body: [UInt8] = [], headers: [(String, String)]? = nil,
              key: SigningKey? = nil, at: Date = Date()) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (n, v) in headers ?? RequestSigning.headers(method: method.rawValue, path: path, body: body, key: key ?? operatorKey, now: at) {
            request.headers.add(name: n, value: v)
        }
        if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await http.execute(request, timeout: .seconds(10))
        return Answer(status: Int(response.status.code), body: Array(buffer: try await response.body.collect(upTo: 1 << 24)))
    }

    func testASignedDocumentThatExtendsTheHeadIsStoredAndTheNextMustChainToIt() async throws {
        let v1 = try document(1)
        let first = try await send(.POST, APIRoute.documents, body: v1)
        XCTAssertEqual(first.status, 200, String(decoding: first.body, as: UTF8.self))
        let head = try await send(.GET, APIRoute.documents)
        XCTAssertEqual(head.body, v1, "the envelope comes back exactly as signed")

        // Not chained to v1 (no previous digest): refused with who applied the head.
        let unchained = try await send(.POST, APIRoute.documents, body: try document(2, weight: 2))
        XCTAssertEqual(unchained.status, 409)
        XCTAssertEqual(unchained.json?.error, "not_the_next_version")
        XCTAssertEqual(unchained.json?.head?.version, 1)
        XCTAssertTrue(unchained.json?.message.contains(operatorKey.keyID) ?? false, unchained.json?.message ?? "")

        let v2 = try document(2, weight: 2, previous: v1)
        let second = try await send(.POST, APIRoute.documents, body: v2)
        XCTAssertEqual(second.status, 200, String(decoding: second.body, as: UTF8.self))
        // The same document again is a replay: refused, and v2 is still the head.
        let again = try await send(.POST, APIRoute.documents, body: v2)
        XCTAssertEqual(again.status, 409)
        XCTAssertTrue(again.json?.message.contains("already the head") ?? false, again.json?.message ?? "")
        let page = try APIJSON.decoder().decode(HistoryPage.self, from: Data(try await send(.GET, APIRoute.history).body))
        XCTAssertEqual(page.versions.map(\.version), [2, 1])
        XCTAssertTrue(page.versions[0].summary.contains("weight 1 → 2"), page.versions[0].summary)
        let record = try APIJSON.decoder().decode(VersionRecord.self, from: Data(try await send(.GET, APIRoute.version(1)).body))
        XCTAssertEqual(Array(record.envelope.utf8), v1)
    }

    func testTwoConcurrentSubmissionsOfTheNextVersionGiveOneWinnerAndOne409() async throws {
        let v1 = try document(1)
        _ = try await send(.POST, APIRoute.documents, body: v1)
        let a = try document(2, weight: 2, previous: v1), b = try document(2, weight: 3, previous: v1)
        let (http, url, key) = (http!, base + APIRoute.documents, operatorKey)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for body in [a, b] {
                group.addTask {
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    for (n, v) in RequestSigning.headers(method: "POST", path: APIRoute.documents, body: body, key: key) { request.headers.add(name: n, value: v) }
                    request.body = .bytes(ByteBuffer(bytes: body))
                    return Int(try await http.execute(request, timeout: .seconds(10)).status.code)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }.sorted()
        }
        XCTAssertEqual(statuses, [200, 409])
        let versions = try await history.versions()
        XCTAssertEqual(versions.map(\.version), [2, 1])
    }

    func testUnsignedForgedReplayedAndStaleRequestsGet401WithTheReasonAndChangeNothing() async throws {
        let v1 = try document(1)
        let unsigned = try await send(.POST, APIRoute.documents, body: v1, headers: [])
        XCTAssertEqual(unsigned.status, 401)
        XCTAssertEqual(unsigned.json?.error, "unsigned")

        let strangers = try await send(.GET, APIRoute.status, key: stranger)
        XCTAssertEqual(strangers.status, 401)
        XCTAssertEqual(strangers.json?.error, "unknown_key")

        // A valid signature over another body: the body was altered on the way.
        var headers = RequestSigning.headers(method: "POST", path: APIRoute.documents, body: Array("{}".utf8), key: operatorKey)
        let altered = try await send(.POST, APIRoute.documents, body: v1, headers: headers)
        XCTAssertEqual(altered.status, 401)
        XCTAssertEqual(altered.json?.error, "bad_signature")

        let stale = try await send(.GET, APIRoute.status, at: Date().addingTimeInterval(-120))
        XCTAssertEqual(stale.status, 401)
        XCTAssertEqual(stale.json?.error, "clock_window")
        XCTAssertTrue(stale.json?.message.contains("behind") ?? false, stale.json?.message ?? "")

        // A document signed by a key the controller does not trust, in a properly signed request.
        let forged = try await send(.POST, APIRoute.documents, body: try document(1, by: stranger))
        XCTAssertEqual(forged.status, 401)
        XCTAssertEqual(forged.json?.error, "document_refused")

        headers = RequestSigning.headers(method: "POST", path: APIRoute.documents, body: v1, key: operatorKey)
        let original = try await send(.POST, APIRoute.documents, body: v1, headers: headers)
        XCTAssertEqual(original.status, 200)
        let replayed = try await send(.POST, APIRoute.documents, body: v1, headers: headers)
        XCTAssertEqual(replayed.status, 401)
        XCTAssertEqual(replayed.json?.error, "replayed")

        let versions = try await history.versions()
        XCTAssertEqual(versions.map(\.version), [1], "only the one good submission is stored")
    }

    func testBadInputGetsAClearErrorNotACrash() async throws {
        let garbage = try await send(.POST, APIRoute.documents, body: Array("not json".utf8))
        XCTAssertEqual(garbage.status, 400)
        XCTAssertEqual(garbage.json?.error, "bad_request")
        let big = [UInt8](repeating: 0x41, count: DesiredStateDocument.maximumEnvelopeBytes + 8192)
        let tooLarge = try await send(.POST, APIRoute.documents, body: big)
        XCTAssertEqual(tooLarge.status, 413)
        let missing = try await send(.GET, APIRoute.version(7))
        XCTAssertEqual(missing.status, 404)
        let notANumber = try await send(.GET, "/v1/history/x")
        XCTAssertEqual(notANumber.status, 400)
        let status = try APIJSON.decoder().decode(ClusterStatus.self, from: Data(try await send(.GET, APIRoute.status).body))
        XCTAssertEqual(status.cluster, "web")
    }

    func testTheEventStreamReplaysFromAnIDThenFollows() async throws {
        _ = try await send(.POST, APIRoute.documents, body: try document(1))
        let path = APIRoute.events + "?after=0"
        var request = HTTPClientRequest(url: base + path)
        for (n, v) in RequestSigning.headers(method: "GET", path: path, body: [], key: operatorKey) { request.headers.add(name: n, value: v) }
        let response = try await http.execute(request, timeout: .seconds(10))
        XCTAssertEqual(response.headers.first(name: "content-type"), "text/event-stream")
        var parser = ServerSentEvents.Parser()
        var kinds: [String] = []
        for try await chunk in response.body {
            for m in parser.feed(chunk.readableBytesView) { kinds.append(m.event ?? "") }
            if kinds.contains("version-accepted") { break }
        }
        XCTAssertEqual(kinds.first, "version-accepted")
    }
}
