import Foundation
import LBClusterView
import LBProcess
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import LBTestKit
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Debian's python3 with aiosmtpd (`python3` on PATH may be a pyenv shim without it).
let python = "/usr/bin/python3"
let openssl = "/usr/bin/openssl"

/// Fails the test, rather than skipping it, when a program the Makefile installs is missing.
func requireProgram(_ path: String, check: [String] = [], file: StaticString = #filePath, line: UInt = #line) async throws {
    var missing = access(path, X_OK) != 0
    if !missing && !check.isEmpty {
        let run = try await ChildProcess.run(path, arguments: check, budget: .seconds(20), outputLimit: 4096)
        missing = run.termination != .exited(0)
    }
    if missing {
        let what = check.isEmpty ? path : "\(path) \(check.joined(separator: " "))"
        XCTFail("\(what) is not usable here; run `make deps` (it installs python3-aiosmtpd and openssl)", file: file, line: line)
        throw XCTSkip("missing \(what)")
    }
}

/// A fresh directory removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lb-notify-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}

func event(_ kind: ClusterEvent.Kind = .vrrp, id: Int64 = 42, node: String? = "lb1", version: UInt64? = 7,
           message: String = "lb1: vip-ws BACKUP -> MASTER") -> ClusterEvent {
    ClusterEvent(id: id, at: Date(timeIntervalSince1970: 1_764_670_500), kind: kind, node: node, version: version, message: message)
}

let quietLogger: Logger = {
    var logger = Logger(label: "lb.notify.test")
    logger.logLevel = .critical
    return logger
}()

/// Waits until `condition` holds, checking every 20 ms, for at most `seconds`.
func eventually(within seconds: Double = 10, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// Whether `pid` names a process that still runs (a zombie does not: it has ended and waits to be reaped,
/// by init when it was reparented).
func isRunning(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).prefix(1)
    return state != "Z" && state != "X"
}

/// A program running in the background for one test, in its own process group, stopped (the group
/// killed, the program reaped) at the test's end whatever happens.
final class BackgroundProgram: Sendable {
    private let task: Task<ChildProcess.Outcome?, Never>

    init(_ executable: String, _ arguments: [String], test: XCTestCase) {
        task = Task { try? await ChildProcess.run(executable, arguments: arguments, budget: .seconds(120), outputLimit: 64 * 1024) }
        test.addTeardownBlock { [task] in
            task.cancel()
            _ = await task.value
        }
    }

    /// Stops it now and returns what it wrote.
    func stop() async -> String {
        task.cancel()
        return (await task.value).map { String(decoding: $0.output, as: UTF8.self) } ?? "(could not start)"
    }
}

/// aiosmtpd on 127.0.0.1, on a port of its own choosing, writing each message it takes as JSON
/// (envelope, content, whether the session was under TLS) into its directory.
struct SMTPSink {
    let port: Int
    let directory: URL
    let program: BackgroundProgram

    static let script = NotificationSinks.smtp

    /// One message the sink took.
    struct Message: Decodable {
        var mail_from: String
        var rcpt_tos: [String]
        var mail_options: [String]
        var content: String
        var tls: Bool
        var helo: String

        /// The header block's fields, names lowercased, continuation lines unfolded.
        var headers: [String: String] {
            var fields: [String: String] = [:]
            var last: String?
            for line in content.components(separatedBy: "\r\n") {
                if line.isEmpty { break }
                if line.hasPrefix(" "), let name = last {
                    fields[name, default: ""] += line
                } else if let colon = line.firstIndex(of: ":") {
                    let name = line[..<colon].lowercased()
                    fields[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    last = name
                }
            }
            return fields
        }

        var body: String {
            content.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        }
    }

    /// Starts a sink; `refusing`: recipients answered 550; `tls`: a directory with cert.pem and key.pem,
    /// which makes the sink offer and require STARTTLS.
    static func start(_ test: XCTestCase, refusing: [String] = [], tls: URL? = nil) async throws -> SMTPSink {
        try await requireProgram(python, check: ["-c", "import aiosmtpd"])
        let dir = try temporaryDirectory(test)
        let script = dir.appendingPathComponent("sink.py")
        try script_text().write(to: script, atomically: true, encoding: .utf8)
        let program = BackgroundProgram(python, [script.path, dir.path, refusing.joined(separator: ","), tls?.path ?? ""], test: test)
        let portFile = dir.appendingPathComponent("port")
        guard await eventually(within: 10, { FileManager.default.fileExists(atPath: portFile.path) }),
              let port = Int(try String(contentsOf: portFile, encoding: .utf8)) else {
            let output = await program.stop()
            XCTFail("aiosmtpd did not start:\n\(output)")
            throw XCTSkip("no SMTP sink")
        }
        return SMTPSink(port: port, directory: dir, program: program)
    }

    private static func script_text() -> String { script }

    /// The messages taken so far, in order.
    func messages() throws -> [Message] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("message-") && $0.hasSuffix(".json") }
            .sorted { Int($0.dropFirst(8).dropLast(5))! < Int($1.dropFirst(8).dropLast(5))! }
        return try names.map { try JSONDecoder().decode(Message.self, from: Data(contentsOf: directory.appendingPathComponent($0))) }
    }

    /// Waits for the `count`th message.
    func waitForMessages(_ count: Int, within seconds: Double = 10) async throws -> [Message] {
        _ = await eventually(within: seconds) { ((try? messages().count) ?? 0) >= count }
        return try messages()
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost (cert.pem, key.pem) made by openssl in `dir`.
func makeCertificate(in dir: URL) async throws {
    try await requireProgram(openssl, check: ["version"])
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let run = try await ChildProcess.run(openssl, arguments: [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout", dir.appendingPathComponent("key.pem").path, "-out", dir.appendingPathComponent("cert.pem").path,
    ], budget: .seconds(30), outputLimit: 16 * 1024)
    XCTAssertEqual(run.termination, .exited(0), String(decoding: run.output, as: UTF8.self))
}

/// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
func closedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress!.port!
    try await channel.close()
    return port
}

/// A socket on 127.0.0.1 that listens and never accepts: the kernel completes the connection and then
/// nothing is ever said, like a server that hangs before its greeting.
final class SilentListener: Sendable {
    let fd: Int32
    let port: Int

    init(_ test: XCTestCase) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(fd, 16), 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        test.addTeardownBlock { close(fd) }
    }
}

/// An HTTP receiver in this process on 127.0.0.1: answers each request with the next status of its
/// script (the last one once the script runs out) and keeps every request.
final class HTTPReceiver: Sendable {
    struct Request: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    private struct State {
        var statuses: [Int]
        var requests: [Request] = []
    }

    private let channel: any Channel
    private let state: NIOLockedValueBox<State>
    let port: Int

    private init(channel: any Channel, state: NIOLockedValueBox<State>) {
        self.channel = channel
        self.state = state
        port = channel.localAddress!.port!
    }

    static func start(_ test: XCTestCase, statuses: [Int] = [200]) async throws -> HTTPReceiver {
        let state = NIOLockedValueBox(State(statuses: statuses))
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ReceiverHandler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = HTTPReceiver(channel: channel, state: state)
        test.addTeardownBlock { try? await channel.close() }
        return receiver
    }

    func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }

    var requests: [Request] { state.withLockedValue { $0.requests } }

    func waitForRequests(_ count: Int, within seconds: Double = 10) async -> [Request] {
        _ = await eventually(within: seconds) { self.requests.count >= count }
        return requests
    }

    private final class ReceiverHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let state: NIOLockedValueBox<State>
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(state: NIOLockedValueBox<State>) {
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let chunk):
                body += chunk.readableBytesView
            case .end:
                guard let head else { return }
                let status = state.withLockedValue { s -> Int in
                    s.requests.append(Request(method: head.method, uri: head.uri, headers: head.headers, body: body))
                    return s.statuses.count > 1 ? s.statuses.removeFirst() : (s.statuses.first ?? 200)
                }
                let text = status < 300 ? "" : "nope"
                var headers = HTTPHeaders([("Content-Length", "\(text.utf8.count)"), ("Connection", "close")])
                headers.add(name: "Content-Type", value: "text/plain")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .init(statusCode: status), headers: headers))), promise: nil)
                if !text.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil) }
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}

/// An SMTP server in this process that says `greeting` on connecting, then answers each line it reads with
/// the next of `answers`, and closes the connection when they run out: for what aiosmtpd never does.
final class ScriptedSMTPServer: Sendable {
    private let channel: any Channel
    let port: Int

    init(_ test: XCTestCase, greeting: String, answers: [String]) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder()))
                    try channel.pipeline.syncOperations.addHandler(Handler(greeting: greeting, answers: answers))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
        let channel = self.channel
        test.addTeardownBlock { try? await channel.close() }
    }

    private struct LineDecoder: ByteToMessageDecoder {
        typealias InboundOut = ByteBuffer

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            guard let end = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")),
                  let line = buffer.readSlice(length: end - buffer.readerIndex + 1) else { return .needMoreData }
            context.fireChannelRead(wrapInboundOut(line))
            return .continue
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let greeting: String
        private var answers: [String]
        private var inMessage = false

        init(greeting: String, answers: [String]) {
            self.greeting = greeting
            self.answers = answers
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: greeting)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // After a 354 the lines are the message, up to the lone dot: one answer for all of them.
            if inMessage {
                guard String(buffer: unwrapInboundIn(data)) == ".\r\n" else { return }
                inMessage = false
            }
            guard !answers.isEmpty else {
                context.close(promise: nil)
                return
            }
            let answer = answers.removeFirst()
            inMessage = answer.hasPrefix("354")
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        }
    }
}
