import Foundation
import Hummingbird
import LBClusterView
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
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: StatusPageRendering.page(status, events))))
        }
        router.get("events") { _, _ -> Response in
            let events = try await state.events(after: nil)
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: .init { writer in
                try await APIServer.stream(events, to: &writer, after: 0, shutdown: shutdown) { _ in nil }
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

/// Where the status page's HTML comes from (the LBStatusPage renderer once it is wired in).
enum StatusPageRendering {
    static func page(_ status: ClusterStatus, _ events: [ClusterEvent]) -> String {
        let rows = status.nodes.map { "<tr data-node=\"\($0.name)\"><td>\($0.name)</td><td>\($0.member)</td></tr>" }.joined()
        return "<!doctype html><title>lb \(status.cluster)</title><table>\(rows)</table>"
    }
}
