@testable import LBHealth
import LBSpec
import NIOHTTP1
import XCTest

/// The request and the judging as values, without sockets.
final class HTTPExchangeTests: XCTestCase {
    private let v4 = IPAddress("192.0.2.10")!
    private let v6 = IPAddress("2001:db8::10")!

    func testHostHeader() {
        let plain = HealthCheck(kind: .http)
        XCTAssertEqual(HTTPExchange.hostHeader(plain, address: v4, port: 80), "192.0.2.10")
        XCTAssertEqual(HTTPExchange.hostHeader(plain, address: v4, port: 8080), "192.0.2.10:8080")
        XCTAssertEqual(HTTPExchange.hostHeader(plain, address: v6, port: 80), "[2001:db8::10]")
        XCTAssertEqual(HTTPExchange.hostHeader(plain, address: v6, port: 8443), "[2001:db8::10]:8443")
        XCTAssertEqual(HTTPExchange.hostHeader(HealthCheck(kind: .http, host: "app.example"), address: v4, port: 8080),
                       "app.example")
    }

    /// The example handshake of RFC 6455 §1.3.
    func testAcceptOfTheRFCExample() {
        let exchange = HTTPExchange.upgrade(HealthCheck(kind: .websocket), address: v4, port: 80, key: "dGhlIHNhbXBsZSBub25jZQ==")
        var head = HTTPResponseHead(version: .http1_1, status: .switchingProtocols)
        head.headers.add(name: "Upgrade", value: "WebSocket")
        head.headers.add(name: "Connection", value: "keep-alive, Upgrade")
        head.headers.add(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        XCTAssertEqual(exchange.judge(head), .success)

        head.headers.replaceOrAdd(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo")
        XCTAssertEqual(exchange.judge(head), .failure("Sec-WebSocket-Accept does not match the key"))
        head.headers.replaceOrAdd(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        head.headers.add(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        XCTAssertEqual(exchange.judge(head), .failure("Sec-WebSocket-Accept does not match the key"), "two accepts")

        head.headers.remove(name: "Connection")
        XCTAssertEqual(exchange.judge(head), .failure("no Connection: Upgrade header"))
    }

    func testExpectedStatusOfAWebSocketCheck() {
        let exchange = HTTPExchange.upgrade(HealthCheck(kind: .websocket, expectStatus: 200), address: v4, port: 80, key: "k")
        XCTAssertEqual(exchange.judge(HTTPResponseHead(version: .http1_1, status: .switchingProtocols)),
                       .failure("answered 101 instead of 200"))
    }

    func testDurations() {
        XCTAssertEqual(FailureText.duration(.seconds(3)), "3s")
        XCTAssertEqual(FailureText.duration(.milliseconds(1500)), "1.5s")
        XCTAssertEqual(FailureText.duration(.milliseconds(2250)), "2.25s")
        XCTAssertEqual(FailureText.duration(.milliseconds(1005)), "1.005s")
        XCTAssertEqual(FailureText.duration(.milliseconds(250)), "250ms")
        XCTAssertEqual(FailureText.duration(.seconds(90)), "90s")
        XCTAssertEqual(FailureText.timedOut(after: .seconds(3)), "timed out after 3s")
    }
}
