import Foundation
import Hummingbird
import LBStatusPage
import Logging
import ServiceLifecycle

/// The two routes the controller serves, on 127.0.0.1 for Chromium: `GET /` answers the page given at
/// start, `GET /events` an SSE stream that sends nothing until `publish`, then the message, and ends (so
/// that Chromium's virtual time runs on; see `Chromium`).
final class PageServer: Sendable {
    let feed: LiveFeed
    let port: Int
    private let group: ServiceGroup
    private let running: Task<Void, Error>

    var url: String { "http://127.0.0.1:\(port)/" }

    private init(feed: LiveFeed, port: Int, group: ServiceGroup, running: Task<Void, Error>) {
        self.feed = feed
        self.port = port
        self.group = group
        self.running = running
    }

    static func start(page: String) async throws -> PageServer {
        let feed = LiveFeed()
        let router = Router()
        router.get("/") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: StatusPage.htmlContentType], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        router.get("events") { _, _ -> Response in
            await feed.connected()
            return Response(status: .ok, headers: [.contentType: StatusPage.sseContentType, .cacheControl: "no-cache"],
                            body: ResponseBody { writer in
                                try await writer.write(ByteBuffer(string: await feed.next()))
                                try await writer.finish(nil)
                            })
        }
        var logger = Logger(label: "status-page-test")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "lb-status-test"),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let running = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw Failure(description: "the test server did not start") }
        return PageServer(feed: feed, port: port, group: group, running: running)
    }

    func stop() async {
        await feed.publish(": closing\n\n")
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }
}

/// What `/events` sends: held until published, then the same message to every connection.
actor LiveFeed {
    private var message: String?
    private(set) var connections = 0

    func connected() {
        connections += 1
    }

    func publish(_ message: String) {
        if self.message == nil { self.message = message }
    }

    func next() async -> String {
        while message == nil, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return message ?? ""
    }

    /// Until the page has opened its stream, at most `timeout`.
    func waitForConnection(timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while connections == 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return connections > 0
    }
}
