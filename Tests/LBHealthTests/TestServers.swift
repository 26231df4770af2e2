import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import XCTest
@testable import LBHealth
import LBProcess
import LBSpec

/// A listener on loopback whose every connection reads the request head, records it, and then plays the
/// script made from it: the misbehaving real server of a test.
final class ScriptedServer: Sendable {
    /// One thing the server does after the request head.
    enum Step: Sendable {
        case send([UInt8])
        case pause(TimeAmount)
        /// One byte per interval, until done or the client hangs up: a slowloris.
        case drip([UInt8], every: TimeAmount)
        /// Chunks as fast as the socket takes them, up to `total` bytes, or until the client hangs up.
        case flood(chunk: [UInt8], total: Int)
        case close
    }

    let port: Int
    let address: IPAddress
    private let requests: NIOLockedValueBox<[String]>
    private let channel: any Channel

    private init(channel: any Channel, address: IPAddress, requests: NIOLockedValueBox<[String]>) {
        self.channel = channel
        self.address = address
        self.requests = requests
        self.port = channel.localAddress!.port!
    }

    static func start(on group: any EventLoopGroup, host: String = "127.0.0.1",
                      script: @escaping @Sendable (String) -> [Step]) async throws -> ScriptedServer {
        let requests = NIOLockedValueBox<[String]>([])
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ScriptHandler(script: script, requests: requests))
                }
            }
            .bind(host: host, port: 0).get()
        return ScriptedServer(channel: channel, address: IPAddress(host)!, requests: requests)
    }

    /// The request heads read so far, in arrival order, as text.
    var seen: [String] { requests.withLockedValue { $0 } }

    var endpoint: Endpoint { Endpoint(address: address, port: port) }

    func stop() async {
        try? await channel.close()
    }
}

private final class ScriptHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let script: @Sendable (String) -> [ScriptedServer.Step]
    private let requests: NIOLockedValueBox<[String]>
    private var received = ""
    private var started = false
    private var open = true

    init(script: @escaping @Sendable (String) -> [ScriptedServer.Step], requests: NIOLockedValueBox<[String]>) {
        self.script = script
        self.requests = requests
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !started else { return }
        var buffer = unwrapInboundIn(data)
        received += buffer.readString(length: buffer.readableBytes) ?? ""
        guard let end = received.range(of: "\r\n\r\n") else { return }
        started = true
        let head = String(received[..<end.lowerBound])
        requests.withLockedValue { $0.append(head) }
        play(script(head)[...], context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        open = false
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        open = false
        context.close(promise: nil)
    }

    private func play(_ steps: ArraySlice<ScriptedServer.Step>, context: ChannelHandlerContext) {
        guard open, let step = steps.first else { return }
        let rest = steps.dropFirst()
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        switch step {
        case .send(let bytes):
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            play(rest, context: context)
        case .pause(let time):
            context.eventLoop.scheduleTask(in: time) { handler.value.play(rest, context: loopContext.value) }
        case .drip(let bytes, let interval):
            guard let first = bytes.first else { return play(rest, context: context) }
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: [first])), promise: nil)
            let more = [ScriptedServer.Step.drip(Array(bytes.dropFirst()), every: interval)] + rest
            context.eventLoop.scheduleTask(in: interval) { handler.value.play(more[...], context: loopContext.value) }
        case .flood(let chunk, let total):
            guard total > 0 else { return play(rest, context: context) }
            let more = [ScriptedServer.Step.flood(chunk: chunk, total: total - chunk.count)] + rest
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: chunk))).whenSuccess {
                handler.value.play(more[...], context: loopContext.value)
            }
        case .close:
            context.close(promise: nil)
        }
    }
}

/// A WebSocket server as a real one would be: NIO's own server upgrader answers the handshake. It records
/// each upgrade's key and Host header and the close codes the client sends afterwards.
final class WebSocketServer: Sendable {
    let port: Int
    private let keys: NIOLockedValueBox<[String]>
    private let hosts: NIOLockedValueBox<[String]>
    private let closeCodes: NIOLockedValueBox<[UInt16]>
    private let channel: any Channel

    private init(channel: any Channel, keys: NIOLockedValueBox<[String]>, hosts: NIOLockedValueBox<[String]>,
                 closeCodes: NIOLockedValueBox<[UInt16]>) {
        self.channel = channel
        self.port = channel.localAddress!.port!
        self.keys = keys
        self.hosts = hosts
        self.closeCodes = closeCodes
    }

    static func start(on group: any EventLoopGroup) async throws -> WebSocketServer {
        let keys = NIOLockedValueBox<[String]>([])
        let hosts = NIOLockedValueBox<[String]>([])
        let closeCodes = NIOLockedValueBox<[UInt16]>([])
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    shouldUpgrade: { channel, head in
                        keys.withLockedValue { $0.append(head.headers["Sec-WebSocket-Key"].first ?? "") }
                        hosts.withLockedValue { $0.append(head.headers["Host"].first ?? "") }
                        return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                    },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(CloseRecorder(codes: closeCodes))
                        }
                    }
                )
                return channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                )
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return WebSocketServer(channel: channel, keys: keys, hosts: hosts, closeCodes: closeCodes)
    }

    var seenKeys: [String] { keys.withLockedValue { $0 } }
    var seenHosts: [String] { hosts.withLockedValue { $0 } }
    /// Status codes of the close frames clients sent after upgrading.
    var seenCloseCodes: [UInt16] { closeCodes.withLockedValue { $0 } }

    var endpoint: Endpoint { Endpoint(address: IPAddress("127.0.0.1")!, port: port) }

    func stop() async {
        try? await channel.close()
    }
}

private final class CloseRecorder: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    private let codes: NIOLockedValueBox<[UInt16]>

    init(codes: NIOLockedValueBox<[UInt16]>) { self.codes = codes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.opcode == .connectionClose else { return }
        var payload = frame.unmaskedData
        codes.withLockedValue { $0.append(payload.readInteger(as: UInt16.self) ?? 0) }
        context.close(promise: nil)
    }
}

/// A listening socket that never accepts, with its one-place queue already taken: the kernel drops every
/// further SYN, so a connect to it hangs as one to a black-holed address would, all on 127.0.0.1.
final class BlackHoleListener: Sendable {
    let port: Int
    private let fd: Int32
    private let filler: any Channel

    init(group: any EventLoopGroup) async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        // Backlog 0: Linux keeps one connection in the accept queue, and drops SYNs while it is full.
        guard bound == 0, listen(fd, 0) == 0 else { close(fd); throw POSIXError(.init(rawValue: errno)!) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        do {
            filler = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        } catch {
            close(fd)
            throw error
        }
        self.fd = fd
        self.port = port
    }

    var endpoint: Endpoint { Endpoint(address: IPAddress("127.0.0.1")!, port: port) }

    /// Accepts the connection that fills the queue, so the next retransmitted SYN (about 1 s after the
    /// first) gets in: a connect that the kernel answers long after it returned EINPROGRESS.
    func makeRoom() {
        let accepted = accept(fd, nil, nil)
        if accepted >= 0 { close(accepted) }
    }

    /// Stops listening while the filler stays: a SYN retransmitted after this is answered with a reset.
    func stopListening() {
        close(fd)
    }

    func stop() async {
        try? await filler.close()
        close(fd)
    }
}

/// A port on 127.0.0.1 that nothing listens on: bound by a listener that is then closed.
func closedPort(group: any EventLoopGroup) async throws -> Int {
    let channel = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress!.port!
    try await channel.close()
    return port
}

/// A server program (dnsmasq, aiosmtpd) run for one test: started in a process group of its own, killed and
/// reaped at the test's end whatever happens.
enum TestDaemon {
    /// Starts `path` and polls `ready` every 50 ms for up to 10 s; a program that never gets ready fails the
    /// test loudly with what it wrote, never skips it quietly.
    static func start<T: Sendable>(_ test: XCTestCase, _ path: String, _ arguments: [String],
                                   ready: @escaping @Sendable () async -> T?) async throws -> T {
        let task = Task { try? await ChildProcess.run(path, arguments: arguments, budget: .seconds(60), outputLimit: 16 * 1024) }
        test.addTeardownBlock {
            task.cancel()
            _ = await task.value
        }
        for _ in 0..<200 {
            if let value = await ready() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        let output = await task.value.map { String(decoding: $0.output, as: UTF8.self) } ?? "(did not start)"
        XCTFail("\(path) did not get ready:\n\(output)")
        throw XCTSkip("\(path) did not start")
    }
}

/// A named network namespace (`ip netns`) for one test, deleted by `remove()`.
struct NetworkNamespace {
    let name: String

    /// Creates it with only `lo`, left down, so nothing in it reaches any network; `commands` are `ip` argument
    /// lists run inside it (`ip -n NAME ...`).
    static func create(_ commands: [[String]] = []) async throws -> NetworkNamespace {
        let namespace = NetworkNamespace(name: "lbhealth-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try await runIP(["netns", "add", namespace.name])
        do {
            for command in commands { try await runIP(["-n", namespace.name] + command) }
        } catch {
            await namespace.remove()
            throw error
        }
        return namespace
    }

    /// Moves the (single) thread of `loop` into this namespace for good: the sockets it creates are made here.
    func enter(on loop: any EventLoop) async throws {
        let path = "/run/netns/\(name)"
        try await loop.submit {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
            defer { close(fd) }
            guard let setns, setns(fd, 0x4000_0000 /* CLONE_NEWNET */) == 0 else { throw POSIXError(.init(rawValue: errno)!) }
        }.get()
    }

    func remove() async {
        try? await runIP(["netns", "del", name])
    }
}

/// setns(2), which Swift's Glibc module leaves out (it is a _GNU_SOURCE declaration).
private let setns: (@convention(c) (Int32, Int32) -> Int32)? = dlsym(nil, "setns").map {
    unsafeBitCast($0, to: (@convention(c) (Int32, Int32) -> Int32).self)
}

/// Runs `ip` on NIO's blocking-work pool, so the wait for it blocks neither an event loop nor the cooperative pool.
private func runIP(_ arguments: [String]) async throws {
    try await NIOThreadPool.singleton.runIfActive {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/sbin/ip")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw POSIXError(.EIO, userInfo: [NSLocalizedDescriptionKey: "ip \(arguments.joined(separator: " ")) failed"])
        }
    }
}

/// Processes whose parent is this test process and that are zombies (state Z), from /proc.
func zombieChildren() -> [Int32] {
    processes().filter { $0.parent == getpid() && $0.state == "Z" }.map(\.pid)
}

/// Every process in /proc with its parent, process group and state.
func processes() -> [(pid: Int32, parent: Int32, group: Int32, state: Character)] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry in
        guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": state, ppid, pgrp, ... (proc(5)); comm may itself contain spaces or parentheses.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 3, let state = fields[0].first, let parent = Int32(fields[1]), let group = Int32(fields[2])
        else { return nil }
        return (pid, parent, group, state)
    }
}

/// Waits up to `timeout` for `condition`, polling: for what happens elsewhere (a server reading a close
/// frame, init reaping an orphan).
func eventually(within timeout: Duration = .seconds(2), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

func XCTAssertFailure(_ result: ProbeResult, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(result.outcome, .failure(text), file: file, line: line)
}

func XCTAssertFailure(_ result: ProbeResult, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
    guard case .failure(let reason) = result.outcome else {
        return XCTFail("expected a failure containing \"\(text)\", got success", file: file, line: line)
    }
    XCTAssertTrue(reason.contains(text), "\"\(reason)\" does not contain \"\(text)\"", file: file, line: line)
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
