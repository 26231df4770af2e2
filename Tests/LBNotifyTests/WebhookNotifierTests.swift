import AsyncHTTPClient
import Foundation
import LBClusterView
import LBCrypto
import LBNotify
import LBProcess
import XCTest

final class WebhookNotifierTests: XCTestCase {
    let secret = SecretBytes(copying: Array("s3cret-for-tests".utf8))
    let fast = RetryPolicy(base: .milliseconds(10), cap: .milliseconds(40), attemptTimeout: .seconds(5))

    func client() -> HTTPClient {
        let client = WebhookNotifier.makeClient()
        addTeardownBlock { try? await client.shutdown() }
        return client
    }

    func testDeliversSignedJSONWithItsHeaders() async throws {
        let receiver = try await HTTPReceiver.start(self)
        let notifier = WebhookNotifier(target: WebhookTarget(url: receiver.url(), secret: secret, retries: 0), cluster: "web", client: client(), policy: fast)
        let receipt = try await notifier.deliver(event())
        XCTAssertEqual(receipt, WebhookReceipt(status: 200, attempts: 1))
        let request = try XCTUnwrap(receiver.requests.first)
        XCTAssertEqual(request.method, .POST)
        XCTAssertEqual(request.uri, "/hook")
        XCTAssertEqual(request.headers["Content-Type"], ["application/json"])
        XCTAssertEqual(request.headers["X-LB-Event"], ["vrrp-transition"])
        XCTAssertEqual(request.headers["X-LB-Delivery"], ["42"])
        XCTAssertEqual(request.headers["X-LB-Attempt"], ["1"])
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self),
                       #"{"at":"2025-12-02T10:15:00Z","cluster":"web","id":42,"kind":"vrrp-transition","message":"lb1: vip-ws BACKUP -> MASTER","node":"lb1","version":7}"#)
        let docs = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/controller.md"), encoding: .utf8)
        XCTAssertTrue(docs.contains("```json\n" + String(decoding: request.body, as: UTF8.self) + "\n```\n"), "docs/controller.md shows this body")
        let body = try APIJSON.decoder().decode(NotificationBody.self, from: Data(request.body))
        XCTAssertEqual(body, NotificationBody(event: event(), cluster: "web"))
        let signature = try XCTUnwrap(request.headers["X-LB-Signature"].first)
        XCTAssertEqual(signature, "sha256=" + Hex.encode(HMACSHA256.authenticationCode(for: request.body, key: secret)))
        try await assertPythonVerifies(body: request.body, signature: signature)
    }

    /// The three lines docs/controller.md gives receivers, run by Python on what was received.
    static let pythonCheck = """
    import hmac, hashlib
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, signature), "bad signature"
    """

    func assertPythonVerifies(body: [UInt8], signature: String) async throws {
        try await requireProgram(python)
        let dir = try temporaryDirectory(self)
        try Data(body).write(to: dir.appendingPathComponent("body"))
        let program = """
        import sys
        body = open(sys.argv[1], "rb").read()
        secret, signature = sys.argv[2].encode(), sys.argv[3]
        \(Self.pythonCheck)
        """
        for (sig, passes) in [(signature, true), (signature.dropLast() + "0", false)] {
            let run = try await ChildProcess.run(python, arguments: ["-c", program, dir.appendingPathComponent("body").path, "s3cret-for-tests", String(sig)],
                                                 budget: .seconds(20), outputLimit: 4096)
            XCTAssertEqual(run.termination == .exited(0), passes, String(decoding: run.output, as: UTF8.self))
        }
        let docs = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/controller.md"), encoding: .utf8)
        XCTAssertTrue(docs.contains("```python\n" + Self.pythonCheck + "\n```\n"), "docs/controller.md must show the check this test runs")
    }

    func testRetriesAfterServerErrorsUntilDelivered() async throws {
        let receiver = try await HTTPReceiver.start(self, statuses: [500, 503, 200])
        let notifier = WebhookNotifier(target: WebhookTarget(url: receiver.url(), secret: secret, retries: 5), cluster: "web", client: client(), policy: fast)
        let receipt = try await notifier.deliver(event())
        XCTAssertEqual(receipt, WebhookReceipt(status: 200, attempts: 3))
        let requests = receiver.requests
        XCTAssertEqual(requests.count, 3)
        XCTAssertEqual(requests.map { $0.headers["X-LB-Attempt"].first }, ["1", "2", "3"])
        XCTAssertEqual(Set(requests.map { $0.headers["X-LB-Delivery"].first }), ["42"], "one delivery id for every attempt")
        XCTAssertEqual(Set(requests.map(\.body)).count, 1, "the same body, so the same signature")
    }

    func testTooManyRequestsIsTriedAgain() async throws {
        let receiver = try await HTTPReceiver.start(self, statuses: [429, 408, 204])
        let receipt = try await WebhookNotifier(target: WebhookTarget(url: receiver.url(), retries: 2), cluster: "web", client: client(), policy: fast)
            .deliver(event())
        XCTAssertEqual(receipt, WebhookReceipt(status: 204, attempts: 3))
        XCTAssertEqual(receiver.requests.first?.headers["X-LB-Signature"], [], "no secret, no signature")
    }

    func testUnstoredEventsGetDistinctDeliveryIDs() async throws {
        let receiver = try await HTTPReceiver.start(self, statuses: [500, 200])
        let notifier = WebhookNotifier(target: WebhookTarget(url: receiver.url(), retries: 1), cluster: "web", client: client(), policy: fast)
        try await notifier.deliver(event(id: 0))
        try await notifier.deliver(event(id: 0))
        let ids = receiver.requests.compactMap { $0.headers["X-LB-Delivery"].first }
        XCTAssertEqual(ids.count, 3)
        XCTAssertEqual(ids[0], ids[1], "an attempt again keeps its id")
        XCTAssertNotEqual(ids[1], ids[2], "another event does not")
        XCTAssertTrue(ids.allSatisfy { $0.hasPrefix("u") && $0.count == 17 }, "\(ids)")
    }

    func testClientErrorIsNotTriedAgain() async throws {
        let receiver = try await HTTPReceiver.start(self, statuses: [400, 200])
        let notifier = WebhookNotifier(target: WebhookTarget(url: receiver.url("/hook/t0ken?k=v"), secret: secret, retries: 5), cluster: "web",
                                       client: client(), policy: fast)
        do {
            try await notifier.deliver(event())
            XCTFail("a 400 is the receiver refusing it")
        } catch let error as NotifyError {
            XCTAssertEqual(error.code, .refused)
            XCTAssertEqual(error.message, "webhook http://127.0.0.1:\(receiver.port)/…: answered 400 Bad Request: nope; not tried again")
        }
        XCTAssertEqual(receiver.requests.count, 1)
    }

    func testGivesUpAfterItsRetries() async throws {
        let receiver = try await HTTPReceiver.start(self, statuses: [500])
        do {
            try await WebhookNotifier(target: WebhookTarget(url: receiver.url(), retries: 2), cluster: "web", client: client(), policy: fast).deliver(event())
            XCTFail("three 500s are a failure")
        } catch let error as NotifyError {
            XCTAssertEqual(error.message, "webhook http://127.0.0.1:\(receiver.port)/…: answered 500 Internal Server Error: nope (3 attempts)")
        }
        XCTAssertEqual(receiver.requests.count, 3)
        let port = try await closedPort()
        do {
            // AsyncHTTPClient keeps trying to connect until the attempt's deadline, so keep that short here.
            let short = RetryPolicy(base: .milliseconds(10), cap: .milliseconds(40), attemptTimeout: .milliseconds(300))
            try await WebhookNotifier(target: WebhookTarget(url: "http://127.0.0.1:\(port)/x", retries: 1), cluster: "web", client: client(), policy: short)
                .deliver(event())
            XCTFail("nobody listening")
        } catch let error as NotifyError {
            XCTAssertEqual(error.code, .unreachable)
            XCTAssertTrue(error.message.hasPrefix("webhook http://127.0.0.1:\(port)/…: ") && error.message.hasSuffix(" (2 attempts)"), error.message)
            XCTAssertTrue(error.message.contains("Connection refused"), error.message)
        }
    }

    func testBackoffDoublesUpToItsCapWithJitter() {
        let policy = RetryPolicy(base: .milliseconds(500), cap: .seconds(4))
        XCTAssertEqual((1...6).map { policy.delay(after: $0, unit: 1) }, [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
        XCTAssertEqual(policy.delay(after: 1, unit: 0), .milliseconds(250))
        XCTAssertEqual(policy.delay(after: 3, unit: 0.5), .milliseconds(1500))
        XCTAssertEqual([200, 204, 299].map(RetryPolicy.verdict), [.delivered, .delivered, .delivered])
        XCTAssertEqual([408, 429, 500, 502, 503, 599].map(RetryPolicy.verdict), Array(repeating: .retry, count: 6))
        XCTAssertEqual([301, 400, 401, 403, 404, 410, 422].map(RetryPolicy.verdict), Array(repeating: .refused, count: 7))
    }

    func testRedactedURLKeepsNoToken() {
        XCTAssertEqual(WebhookTarget(url: "https://hooks.example.com/services/T0/B0/xyz").redacted, "https://hooks.example.com/…")
        XCTAssertEqual(WebhookTarget(url: "https://user:pw@[2001:db8::1]:8443/x?token=1").redacted, "https://[2001:db8::1]:8443/…")
        XCTAssertEqual(WebhookTarget(url: "http://h:80").redacted, "http://h:80")
        XCTAssertEqual(WebhookTarget(url: "http://h/").redacted, "http://h/")
    }
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
