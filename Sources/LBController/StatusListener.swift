import Foundation
import Hummingbird
import LBClusterView
import LBStatusPage
import Logging
import NIOCore
import ServiceLifecycle

/// The read-only listener (loopback by default, no key): the status page at `/` with its live updates at
/// `/events`, `/status.json`, Prometheus `/metrics`, and `/healthz`. Nothing here changes anything, so it
/// needs no signature; exposing it beyond loopback is the operator's choice (docs/controller.md).
public enum StatusListener {
    public static func make(host: String, port: Int, state: ControllerState, metrics: ControllerMetrics, shutdown: ShutdownSignal,
                            logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some Service {
        let router = Router()
        router.get("/") { _, _ -> Response in
            let status = await state.status()
            let events = await state.recentEvents()
            return Response(status: .ok, headers: [.contentType: StatusPage.htmlContentType, .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: StatusPage.render(status: status, events: events, now: Date()))))
        }
        router.get("events") { _, _ -> Response in
            let events = try await state.events(after: nil)
            return Response(status: .ok, headers: [.contentType: StatusPage.sseContentType, .cacheControl: "no-cache"], body: .init { writer in
                try await pageUpdates(events, state: state, to: &writer, shutdown: shutdown)
            })
        }
        router.get("status.json") { _, _ -> Response in
            APIServer.json(await state.status(), status: .ok)
        }
        router.get("metrics") { _, _ -> Response in
            let status = await state.status()
            metrics.alarms(status.alarms.count)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.get("healthz") { _, _ in "ok\n" }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "lb-controller"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }
}

extension StatusListener {
    /// At most one page update a second: a 1,000-node fragment is half a megabyte, and a burst of
    /// reports would otherwise send one per report.
    static let updateInterval: Duration = .seconds(1)

    /// The page's live stream: the current fragment at once (a reconnecting browser catches up), then a
    /// new one after each burst of events, and a keep-alive comment when idle, until shutdown.
    static func pageUpdates(_ events: AsyncStream<ClusterEvent>, state: ControllerState, to writer: inout any ResponseBodyWriter,
                            shutdown: ShutdownSignal) async throws {
        let (ticks, tick) = AsyncStream<Bool>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let changes = Task {
            for await _ in events { tick.yield(true) }
            tick.finish()
        }
        let beat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: APIServer.heartbeat)
                tick.yield(false)
            }
        }
        let stop = Task {
            await shutdown.wait()
            tick.finish()
        }
        defer { changes.cancel(); beat.cancel(); stop.cancel() }
        func send() async throws {
            let fragment = StatusPage.fragment(status: await state.status(), events: await state.recentEvents(), now: Date())
            try await writer.write(ByteBuffer(string: StatusPage.sseMessage(fragment: fragment)))
        }
        try await send()
        for await changed in ticks {
            if changed {
                try await Task.sleep(for: updateInterval)
                try await send()
            } else {
                try await writer.write(ByteBuffer(string: StatusPage.sseKeepAlive))
            }
        }
        try await writer.finish(nil)
    }
}
