import Foundation
import Hummingbird
import LBClusterView
import LBStatusPage
import LBTestKit
import Logging
import ServiceLifecycle

/// `lb-bench status-page [--nodes N]`: the controller's status page for a generated cluster of N nodes
/// (4 directors holding 2 VIPs and checking 50 real servers, 200 events), rendered in Swift (median of
/// 10 after a warm-up), served once on loopback and loaded in headless Chromium. Prints the page size,
/// the Swift render and fragment times, Chromium's navigation-start-to-laid-out time as the page's own
/// script measures it (`data-load-ms`), and Chromium's wall time against an empty page's.
enum StatusPageBench {
    static func run(nodes: Int) async throws -> String {
        let (status, events) = SampleStatus.cluster(nodes: nodes)
        let now = status.generatedAt
        var page = StatusPage.render(status: status, events: events, now: now)
        var renders: [Double] = []
        var fragments: [Double] = []
        for _ in 0..<10 {
            let t0 = Bench.now()
            page = StatusPage.render(status: status, events: events, now: now)
            let t1 = Bench.now()
            _ = StatusPage.sseMessage(fragment: StatusPage.fragment(status: status, events: events, now: now))
            renders.append(t1 - t0)
            fragments.append(Bench.now() - t1)
        }

        let (port, stop) = try await serve(page: page)
        let t0 = Bench.now()
        let dom: String
        do {
            dom = try await Chromium.dumpDOM(url: "http://127.0.0.1:\(port)/", timeout: .seconds(60))
        } catch {
            await stop()
            throw error
        }
        let wall = Bench.now() - t0
        await stop()
        let t1 = Bench.now()
        _ = try await Chromium.dumpDOM(url: "about:blank", timeout: .seconds(60))
        let blank = Bench.now() - t1
        guard let load = dom.components(separatedBy: "data-load-ms=\"").dropFirst().first.flatMap({ Int($0.prefix { $0.isNumber }) }) else {
            throw BenchError("the page's script did not run in Chromium (no data-load-ms)")
        }
        let rows = dom.components(separatedBy: "<tr data-node=").count - 1
        return """
        {"nodes": \(nodes), "vips": \(status.vips.count), "real_servers": 50, "events": \(events.count), "page_bytes": \(page.utf8.count), \
        "swift_render_ms": \(fixed(median(renders))), "swift_fragment_sse_ms": \(fixed(median(fragments))), \
        "chromium_load_ms": \(load), "chromium_wall_ms": \(Int(wall)), "chromium_blank_wall_ms": \(Int(blank)), "dom_node_rows": \(rows)}
        """
    }

    /// `GET /` answers the page once; `GET /events` 204, which tells EventSource not to reconnect.
    static func serve(page: String) async throws -> (port: Int, stop: @Sendable () async -> Void) {
        let router = Router()
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: StatusPage.htmlContentType], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        router.get("events") { _, _ in Response(status: .noContent) }
        var logger = Logger(label: "lb-bench")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "lb-bench"),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let running = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw BenchError("the page server did not start") }
        return (port, {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
        })
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func fixed(_ ms: Double) -> String {
        String(format: "%.2f", ms)
    }
}
