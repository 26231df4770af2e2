import CoreMetrics
import LBHealth
import LBHost
import LBNetlink
import LBSpec
import LBVRRP
import NIOConcurrencyHelpers
import Prometheus

/// The agent's metrics, through swift-metrics with a Prometheus registry of the agent's own (not the
/// process-wide bootstrap, so several agents in one test process keep theirs apart), served as
/// `/metrics`. IPVS series are named after node_exporter's IPVS collector with the `lb_` prefix; the
/// VRRP state follows keepalived exporters (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT).
public final class AgentMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let counters = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])
    private let meters = NIOLockedValueBox<[String: CoreMetrics.Meter]>([:])
    /// The IPVS series set by the last statistics pass, so vanished services and destinations are dropped.
    private let ipvsSeries = NIOLockedValueBox<Set<String>>([])

    private let latency: CoreMetrics.Timer
    private var checksSucceeded: CoreMetrics.Counter { checkCounters.0 }
    private var checksFailed: CoreMetrics.Counter { checkCounters.1 }
    private let checkCounters: (CoreMetrics.Counter, CoreMetrics.Counter)

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Probes on a LAN answer in well under a millisecond; a timeout is seconds.
        factory.defaultDurationHistogramBuckets = [.microseconds(250), .milliseconds(1), .milliseconds(5), .milliseconds(25),
                                                   .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(3), .seconds(10)]
        self.factory = factory
        latency = CoreMetrics.Timer(label: "lb_health_check_latency_seconds", dimensions: [],
                                    handler: factory.makeTimer(label: "lb_health_check_latency_seconds", dimensions: []))
        func checks(_ result: String) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: "lb_health_checks_total", dimensions: [("result", result)],
                                handler: factory.makeCounter(label: "lb_health_checks_total", dimensions: [("result", result)]), factory: factory)
        }
        checkCounters = (checks("success"), checks("failure"))
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    // MARK: what the parts record

    /// After every reconcile pass: repairs by kind, convergence, the version in force.
    func recordPass(engine: ReconcileEngine, events: [ReconcileEngine.Event]) {
        counter("lb_reconcile_passes_total").increment()
        // Counted per kind first: one pass may repair 50,000 things (ipvsadm -C of a large table).
        var repaired: [DriftKind: Int] = [:]
        var failed = 0
        for event in events {
            switch event {
            case .repaired(let r): repaired[r.kind, default: 0] += 1
            case .failed: failed += 1
            default: break
            }
        }
        for (kind, n) in repaired { counter("lb_drift_repairs_total", [("kind", kind.rawValue)]).increment(by: Int64(n)) }
        if failed > 0 { counter("lb_reconcile_action_failures_total").increment(by: Int64(failed)) }
        meter("lb_converged").set(engine.isConverged ? 1 : 0)
        if let version = engine.target?.version { meter("lb_document_version").set(Double(version)) }
    }

    /// The duration of the last full pass: what the periodic IPVS check costs on this table.
    func recordFullPass(_ d: Duration) {
        let (seconds, attoseconds) = d.components
        meter("lb_reconcile_full_pass_seconds").set(Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// A VRRP address repair the speaker made (counted with the reconciler's repairs, by kind).
    public func recordRepair(_ kind: DriftKind) {
        counter("lb_drift_repairs_total", [("kind", kind.rawValue)]).increment()
    }

    /// A document this agent refused, by the trust policy's reason (or the spec's: `invalid_spec`).
    public func recordRefusal(reason: String) {
        counter("lb_documents_refused_total", [("reason", reason)]).increment()
    }

    /// The state of one VRRP instance.
    public func recordVRRP(name: String, interface: String, routerID: Int, state: VRRPState, priority: Int) {
        let labels = [("iname", name), ("intf", interface), ("vrid", "\(routerID)")]
        let value: Double = switch state {
        case .initialize: 0
        case .backup: 1
        case .master: 2
        case .fault: 3
        }
        meter("lb_vrrp_state", labels).set(value)
        meter("lb_vrrp_priority", labels).set(Double(priority))
    }

    /// One health check's result: counted by outcome, its latency into a histogram.
    func recordCheck(_ result: ProbeResult) {
        // Looked up once: this runs for every probe, thousands a second.
        (result.outcome == .success ? checksSucceeded : checksFailed).increment()
        latency.recordNanoseconds(result.latency.components.seconds * 1_000_000_000 + result.latency.components.attoseconds / 1_000_000_000)
    }

    /// A destination's health changed (`counted`: a change, not a first result).
    func recordTransition(service: String, destination: String, to: DestinationHealth, counted: Bool) {
        if counted { counter("lb_health_transitions_total", [("to", to.rawValue)]).increment() }
        meter("lb_health_destination_up", [("service", service), ("destination", destination)]).set(to == .up ? 1 : 0)
    }

    /// Counters of every IPVS service and destination lb manages, from a statistics observation.
    public func recordIPVS(_ table: IPVSTable, managed: Set<IPVSServiceKey>) {
        var seen = Set<String>()
        func set(_ name: String, _ labels: [(String, String)], _ value: Double) {
            seen.insert(Self.key(name, labels))
            meter(name, labels).set(value)
        }
        for entry in table.services where managed.contains(entry.service.key) {
            let s = entry.service
            let local = [("local_address", "\(s.key.address)"), ("local_port", "\(s.key.port)"), ("proto", s.key.protocol.rawValue.uppercased())]
            if let st = s.stats {
                set("lb_ipvs_connections_total", local, Double(st.connections))
                set("lb_ipvs_incoming_packets_total", local, Double(st.inPackets))
                set("lb_ipvs_outgoing_packets_total", local, Double(st.outPackets))
                set("lb_ipvs_incoming_bytes_total", local, Double(st.inBytes))
                set("lb_ipvs_outgoing_bytes_total", local, Double(st.outBytes))
            }
            for d in entry.destinations {
                let labels = local + [("remote_address", "\(d.address)"), ("remote_port", "\(d.port)")]
                set("lb_ipvs_backend_connections_active", labels, Double(d.activeConnections))
                set("lb_ipvs_backend_connections_inactive", labels, Double(d.inactiveConnections))
                set("lb_ipvs_backend_weight", labels, Double(d.weight))
            }
        }
        let gone = ipvsSeries.withLockedValue { old -> Set<String> in
            defer { old = seen }
            return old.subtracting(seen)
        }
        for key in gone {
            if let m = meters.withLockedValue({ $0.removeValue(forKey: key) }) { m.destroy() }
        }
    }

    // MARK: -

    func counter(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Counter {
        let key = Self.key(name, labels)
        return counters.withLockedValue { all in
            if let c = all[key] { return c }
            let c = CoreMetrics.Counter(label: name, dimensions: labels, handler: factory.makeCounter(label: name, dimensions: labels), factory: factory)
            all[key] = c
            return c
        }
    }

    func meter(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Meter {
        let key = Self.key(name, labels)
        return meters.withLockedValue { all in
            if let m = all[key] { return m }
            let m = CoreMetrics.Meter(label: name, dimensions: labels, handler: factory.makeMeter(label: name, dimensions: labels), factory: factory)
            all[key] = m
            return m
        }
    }

    static func key(_ name: String, _ labels: [(String, String)]) -> String {
        name + "{" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }
}
