import CoreMetrics
import NIOConcurrencyHelpers
import Prometheus

/// The controller's metrics through swift-metrics with a registry of its own (several controllers in one
/// test process keep theirs apart), served as `/metrics` on the status listener.
public final class ControllerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let counters = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])
    private let gauges = NIOLockedValueBox<[String: CoreMetrics.Meter]>([:])

    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
        let key = label + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        return counters.withLockedValue { c in
            if let existing = c[key] { return existing }
            let made = CoreMetrics.Counter(label: label, dimensions: dimensions, handler: factory.makeCounter(label: label, dimensions: dimensions), factory: factory)
            c[key] = made
            return made
        }
    }

    func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Meter {
        let key = label + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        return gauges.withLockedValue { g in
            if let existing = g[key] { return existing }
            let made = CoreMetrics.Meter(label: label, dimensions: dimensions, handler: factory.makeMeter(label: label, dimensions: dimensions), factory: factory)
            g[key] = made
            return made
        }
    }

    func request(path: String, status: Int) {
        counter("lb_controller_api_requests_total", [("path", path), ("code", "\(status)")]).increment()
    }

    func event(kind: String) { counter("lb_controller_events_total", [("kind", kind)]).increment() }

    func report(decoded: Bool) { counter("lb_controller_reports_total", [("result", decoded ? "ok" : "undecodable")]).increment() }

    func members(_ byStatus: [String: Int]) {
        for status in ["alive", "suspect", "dead", "left"] { gauge("lb_controller_members", [("status", status)]).set(byStatus[status] ?? 0) }
    }

    func head(_ version: UInt64) { gauge("lb_controller_head_version").set(Int64(clamping: version)) }

    func alarms(_ open: Int) { gauge("lb_controller_alarms_open").set(open) }
}
