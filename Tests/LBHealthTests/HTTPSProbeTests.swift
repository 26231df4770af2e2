import Foundation
import LBHealth
import LBProcess
import LBSpec
import XCTest

/// keepalived's SSL_GET: the http check over TLS, against Python's own TLS stack (http.server wrapped in
/// ssl) with a certificate openssl makes for the test. Certificates are accepted unchecked by default, as
/// keepalived does; `verify_certificate` checks the chain against `ca_file` and the name.
final class HTTPSProbeTests: ProbeTestCase {
    /// `GET /NNN` answers NNN, anything else 200 "ok"; every handshake's server name (empty without SNI)
    /// is appended as a line to DIR/sni. The bound port is written to DIR/port.
    static let serverScript = #"""
import http.server, os, ssl, sys
cert, key, out = sys.argv[1], sys.argv[2], sys.argv[3]

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        code = int(self.path[1:]) if self.path[1:].isdigit() else 200
        body = b"ok"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

def seen(sock, name, context):
    with open(os.path.join(out, "sni"), "a") as f:
        f.write((name or "") + "\n")

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
context.sni_callback = seen
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(os.path.join(out, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
server.serve_forever()
"""#

    private var directory: URL!
    /// The server runs as a child in a process group of its own, killed whole when the task is cancelled.
    private var server: Task<ChildProcess.Outcome?, Never>?
    private var port = 0

    override func setUp() async throws {
        try await super.setUp()
        for program in ["/usr/bin/python3", "/usr/bin/openssl"] where !FileManager.default.isExecutableFile(atPath: program) {
            XCTFail("\(program) is missing; run `make deps` (it installs python3 and openssl)")
            throw XCTSkip("missing \(program)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lb-https-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                     "-days", "2", "-subj", "/CN=www.example.test",
                                     "-addext", "subjectAltName=DNS:www.example.test",
                                     "-keyout", path("key.pem"), "-out", path("cert.pem")])
        try await run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                     "-days", "2", "-subj", "/CN=other", "-keyout", path("other-key.pem"), "-out", path("other.pem")])
        try Self.serverScript.write(toFile: path("server.py"), atomically: true, encoding: .utf8)
        let arguments = [path("server.py"), path("cert.pem"), path("key.pem"), directory.path]
        server = Task { try? await ChildProcess.run("/usr/bin/python3", arguments: arguments, budget: .seconds(300), outputLimit: 64 * 1024) }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !FileManager.default.fileExists(atPath: path("port")) { try await Task.sleep(for: .milliseconds(20)) }
        guard let text = try? String(contentsOfFile: path("port"), encoding: .utf8), let p = Int(text) else {
            server?.cancel()
            let output = (await server?.value).map { String(decoding: $0.output, as: UTF8.self) } ?? ""
            XCTFail("the Python TLS server did not start:\n\(output)")
            throw XCTSkip("no TLS server")
        }
        port = p
    }

    override func tearDown() async throws {
        server?.cancel()
        _ = await server?.value
        if let directory { try? FileManager.default.removeItem(at: directory) }
        try await super.tearDown()
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func run(_ program: String, _ arguments: [String]) async throws {
        let run = try await ChildProcess.run(program, arguments: arguments, budget: .seconds(30), outputLimit: 16 * 1024)
        XCTAssertEqual(run.termination, .exited(0), "\(program) \(arguments.joined(separator: " ")): \(String(decoding: run.output, as: UTF8.self))")
    }

    private var target: Endpoint { Endpoint(address: IPAddress("127.0.0.1")!, port: port) }

    private func https(_ path: String = "/", status: [ClosedRange<Int>] = [200...200], host: String? = nil, sni: Bool = false,
                       verify: Bool = false, caFile: String? = nil) -> HealthCheck {
        HealthCheck(kind: .https, host: host, connectTimeoutMilliseconds: 3000, urls: [HTTPURLCheck(path: path, status: status)],
                    sni: sni, verifyCertificate: verify, caFile: caFile)
    }

    private var serverNames: [String] {
        ((try? String(contentsOfFile: path("sni"), encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }

    func testRightStatusPassesWithAnUncheckedSelfSignedCertificate() async throws {
        let outcome1 = await probe.probe(https(), target: target).outcome
        XCTAssertEqual(outcome1, .success)
        XCTAssertEqual(serverNames, [""], "no server name is sent without sni")
    }

    func testWrongStatusFails() async throws {
        XCTAssertFailure(await probe.probe(https("/503"), target: target), "HTTP 503 (expected 200)")
    }

    func testTheShortFormAndSeveralURLs() async throws {
        let short = HealthCheck(kind: .https, path: "/204", expectStatus: 204, connectTimeoutMilliseconds: 3000)
        let outcome2 = await probe.probe(short, target: target).outcome
        XCTAssertEqual(outcome2, .success)
        var several = https()
        several.urls = [HTTPURLCheck(path: "/"), HTTPURLCheck(path: "/500", status: [200...299])]
        XCTAssertFailure(await probe.probe(several, target: target), "GET /500: HTTP 500 (expected 200-299)")
    }

    func testSNISendsTheHostName() async throws {
        let outcome3 = await probe.probe(https(host: "www.example.test", sni: true), target: target).outcome
        XCTAssertEqual(outcome3, .success)
        let outcome4 = await probe.probe(https(host: "www.example.test"), target: target).outcome
        XCTAssertEqual(outcome4, .success)
        XCTAssertEqual(serverNames, ["www.example.test", ""])
    }

    func testVerificationRefusesAnUntrustedCertificate() async throws {
        XCTAssertFailure(await probe.probe(https(verify: true), target: target), "TLS handshake failed: certificate not trusted")
        XCTAssertFailure(await probe.probe(https(verify: true, caFile: path("other.pem")), target: target),
                         "TLS handshake failed: certificate not trusted")
    }

    func testVerificationPassesWithTheRightAuthorityAndName() async throws {
        let byName = await probe.probe(https(host: "www.example.test", sni: true, verify: true, caFile: path("cert.pem")), target: target)
        XCTAssertEqual(byName.outcome, .success)
        let wrongName = await probe.probe(https(host: "api.example.test", sni: true, verify: true, caFile: path("cert.pem")), target: target)
        XCTAssertFailure(wrongName, "TLS certificate does not name the host")
        // Without a server name the certificate must name the address, and this one names www.example.test only.
        let byAddress = await probe.probe(https(verify: true, caFile: path("cert.pem")), target: target)
        XCTAssertFailure(byAddress, "TLS certificate does not name the host")
    }

    func testAMissingCAFileIsAFailureNotACrash() async throws {
        XCTAssertFailure(await probe.probe(https(verify: true, caFile: path("missing.pem")), target: target), containing: "TLS not set up")
    }

    /// A plain HTTP server waits for a request head that never comes (the ClientHello is none): the
    /// deadline ends the handshake.
    func testPlainHTTPServerFailsTheHandshake() async throws {
        let plain = try await scripted { _ in [.send(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)), .close] }
        var check = https()
        check.connectTimeoutMilliseconds = 500
        XCTAssertFailure(await probe.probe(check, target: plain.endpoint), containing: "timed out after 500ms")
    }
}
