import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The local status and metrics listener (loopback by default): `GET /status` is what `lb-agent status`
/// prints (AgentStatus as JSON), `GET /metrics` the Prometheus exposition, `GET /healthz` answers `ok`
/// once the agent runs. Read-only: nothing here changes the host.
public enum StatusServer {
    /// The listener as a Service of the agent's group. `onRunning` gets the bound port (for port 0).
    public static func make(host: String, port: Int, publisher: ReportPublisher, metrics: AgentMetrics, logger: Logger,
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some Service {
        let router = Router()
        router.get("status") { _, _ -> Response in
            let status = await publisher.status()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try AgentStatus.encoder.encode(status))))
        }
        router.get("metrics") { _, _ -> Response in
            await publisher.refreshIPVSMetrics()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.get("healthz") { _, _ in "ok\n" }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "lb-agent"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }
}

extension AgentStatus {
    /// The one JSON form of the status: sorted keys, ISO 8601 times.
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
