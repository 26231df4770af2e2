import Foundation
import LBClusterView
import LBControllerAPI
import LBCrypto
import LBDocument
import LBGossipService
import LBHistory
import LBReport
import LBSpec
import Logging

/// A refusal with the HTTP status it is answered with.
public struct APIRefusal: Error, Sendable {
    /// The HTTP status code.
    public var code: Int
    public var body: APIError

    public init(_ code: Int, _ error: String, _ message: String, head: VersionSummary? = nil) {
        self.code = code
        body = APIError(error: error, message: message, head: head)
    }
}

/// The controller's one owner of what it knows: the history (versions, events), the cluster view fed
/// by gossip, and the subscribers to its event stream. Documents enter here, from the API or from
/// gossip; every event the view produces is stored, streamed and handed to the notifier.
public actor ControllerState {
    let history: HistoryStore
    var view: ClusterView
    let policy: TrustPolicy
    var spec: ClusterSpec?
    var subscribers = Subscribers<ClusterEvent>()
    let notify: @Sendable (ClusterEvent) -> Void
    let onVersion: @Sendable (ClusterSpec) -> Void
    let logger: Logger
    let clock: @Sendable () -> Date
    /// Where accepted documents are spread (nil in tests of the API alone).
    var gossip: GossipService?

    /// `policy` checks submitted documents (keys, threshold, cluster); chaining is the history's rule.
    public init(history: HistoryStore, cluster: String, controller: String, policy: TrustPolicy, logger: Logger,
                convergeTimeout: Duration = .seconds(120), clock: @escaping @Sendable () -> Date = { Date() },
                notify: @escaping @Sendable (ClusterEvent) -> Void = { _ in }, onVersion: @escaping @Sendable (ClusterSpec) -> Void = { _ in }) {
        self.history = history
        view = ClusterView(cluster: cluster, controller: controller, convergeTimeout: convergeTimeout)
        self.policy = policy
        self.logger = logger
        self.clock = clock
        self.notify = notify
        self.onVersion = onVersion
    }

    /// Loads the head from the history (it converges from the reports, it is not announced again) and
    /// returns its envelope, for gossip to hold.
    public func start(gossip: GossipService?) async throws -> [UInt8]? {
        self.gossip = gossip
        guard let head = try await history.head() else { return nil }
        let envelope = [UInt8](head.envelope)
        if let verified = try? DesiredStateDocument.verify(json: envelope, policy: policy) {
            spec = verified.document.spec
            onVersion(verified.document.spec)
            _ = view.version(Self.summary(head), spec: verified.document.spec, now: clock(), fresh: false)
        } else {
            logger.warning("the history's head v\(head.version) does not verify under the current trust list; it is kept but not followed")
        }
        return envelope
    }

    // MARK: Documents

    /// An operator's submission: verified, chained to the head, durable, then spread.
    public func submit(_ body: [UInt8]) async throws(APIRefusal) -> SubmitResult {
        let verified: VerifiedDocument
        do {
            verified = try DesiredStateDocument.verify(json: body, policy: policy, now: clock())
        } catch {
            switch error {
            case .badSignature, .unknownKey, .belowThreshold: throw APIRefusal(401, "document_refused", "document refused: \(error)")
            case .malformed, .wrongPayloadType: throw APIRefusal(400, "bad_request", "\(error)")
            default: throw APIRefusal(422, "document_refused", "document refused: \(error)")
            }
        }
        let doc = verified.document
        let errors = SpecValidator.validate(doc.spec).filter { $0.severity == .error }
        guard errors.isEmpty else {
            throw APIRefusal(422, "invalid_spec", "the document's spec does not validate: " + errors.prefix(5).map(\.description).joined(separator: "; "))
        }
        let stored = stored(verified, envelope: body, source: "api", previousSpec: spec)
        do {
            try await history.appendExtendingHead(stored)
        } catch let error as HistoryError {
            if case .notTheNextVersion(_, _, let head) = error {
                if let head, head.digest == stored.digest {
                    throw APIRefusal(409, "not_the_next_version", "v\(doc.version) \(stored.digest) is already the head: it was applied before, nothing changes", head: Self.summary(head))
                }
                if let head, let old = try? await history.version(Int64(doc.version)), old.digest == stored.digest {
                    throw APIRefusal(409, "not_the_next_version", "v\(doc.version) was applied before and has been superseded by v\(head.version): a replay of it is refused; roll back with `lbctl rollback --to \(doc.version)`", head: Self.summary(head))
                }
                let message = head.map {
                    "v\(doc.version) does not extend the head: v\($0.version) was applied at \(Self.time($0.acceptedAt)) by \($0.signers.joined(separator: ", ")) (\($0.summary)); run `lbctl apply` again to see the plan against it"
                } ?? error.description
                throw APIRefusal(409, "not_the_next_version", message, head: head.map(Self.summary))
            }
            throw APIRefusal(500, "internal", "\(error)")
        } catch {
            throw APIRefusal(500, "internal", "cannot store v\(doc.version): \(error)")
        }
        logger.info("accepted v\(doc.version) \(stored.digest) from \(stored.signers.joined(separator: ", ")): \(stored.summary)")
        await adopt(verified, stored: stored)
        if let gossip {
            do { try await gossip.publish(envelopeJSON: body) } catch { logger.error("v\(doc.version) is stored but gossip refused it: \(error)") }
        }
        return SubmitResult(version: doc.version, digest: stored.digest, acceptedAt: stored.acceptedAt)
    }

    /// A document another member holds (another controller accepted it, or `lbctl push`): stored as seen,
    /// whatever the head, so the histories of several controllers converge.
    public func seen(_ held: HeldDocument) async {
        let stored = stored(held.verified, envelope: held.envelopeJSON, source: "gossip", previousSpec: spec)
        do {
            guard try await history.appendSeen(stored) else { return }
        } catch {
            logger.error("v\(held.head.version) from gossip not stored: \(error)")
            await emit([ClusterEvent(at: clock(), kind: .refused, node: view.controller, version: held.verified.document.version, message: "\(error)")])
            return
        }
        logger.info("stored v\(stored.version) seen on gossip")
        await adopt(held.verified, stored: stored)
    }

    func adopt(_ verified: VerifiedDocument, stored: StoredVersion) async {
        guard verified.document.version > view.headVersion ?? 0 else { return }
        spec = verified.document.spec
        onVersion(verified.document.spec)
        await emit(view.version(Self.summary(stored), spec: verified.document.spec, now: clock()))
    }

    func stored(_ verified: VerifiedDocument, envelope: [UInt8], source: String, previousSpec: ClusterSpec?) -> StoredVersion {
        let doc = verified.document
        let summary = PlanDiff.summary(PlanDiff.diff(from: previousSpec, to: doc.spec), first: previousSpec == nil)
        return StoredVersion(version: Int64(doc.version), digest: verified.digest.description, previous: doc.previousDigest?.description,
                             envelope: Data(envelope), signers: verified.signers.map(\.keyID), summary: summary, acceptedAt: clock(), source: source)
    }

    static func summary(_ v: StoredVersion) -> VersionSummary {
        VersionSummary(version: UInt64(v.version), digest: v.digest, previous: v.previous, acceptedAt: v.acceptedAt, signers: v.signers, summary: v.summary)
    }

    static func time(_ d: Date) -> String { RFC3339.format(Int64(d.timeIntervalSince1970)) }

    // MARK: Gossip

    public func member(_ m: ClusterView.MemberInfo) async { await emit(view.member(m, now: clock())) }

    public func removed(_ name: String) { view.removed(name) }

    /// A gossiped report; reports that do not decode (another format, garbage) are counted and dropped.
    public func report(_ bytes: [UInt8]) async -> Bool {
        guard let r = AgentReport.decode(bytes) else { return false }
        await emit(view.report(r, now: clock()))
        return true
    }

    public func tick() async { await emit(view.tick(now: clock())) }

    // MARK: Events

    func emit(_ events: [ClusterEvent]) async {
        for var e in events {
            do {
                let stored = try await history.record(StoredEvent(at: e.at, kind: e.kind, node: e.node, version: e.version.map { Int64($0) }, message: e.message))
                e.id = stored.id ?? 0
            } catch {
                logger.error("event not stored: \(error)")
            }
            if e.kind != ClusterEvent.Kind.nodeProgress.rawValue { logger.info("\(e.kind): \(e.message)") }
            subscribers.yield(e)
            notify(e)
        }
    }

    /// Every event after `after` from the history, then each new one.
    public func events(after: Int64?) async throws -> AsyncStream<ClusterEvent> {
        // Subscribed before the history is read, so nothing falls between; the reader drops repeats by id.
        var replay: [ClusterEvent] = []
        if let after {
            replay = try await history.events(after: after, limit: 10_000).map(Self.event)
        }
        return subscribers.subscribe(initial: replay) { [weak self] id in Task { await self?.unsubscribe(id) } }
    }

    func unsubscribe(_ id: Int) { subscribers.remove(id) }

    static func event(_ e: StoredEvent) -> ClusterEvent {
        var c = ClusterEvent(at: e.at, kind: .applied, node: e.node, version: e.version.map { UInt64($0) }, message: e.message)
        c.kind = e.kind
        c.id = e.id ?? 0
        return c
    }

    /// The most recent events, oldest first.
    public func recentEvents(limit: Int = 200) async -> [ClusterEvent] {
        (try? await history.recentEvents(limit: limit).map(Self.event)) ?? []
    }

    /// Ends every event stream (shutdown).
    public func finish() { subscribers.finish() }

    // MARK: Reads

    public func status() -> ClusterStatus { view.status(now: clock()) }

    /// The newest accepted version, without building the whole status.
    public var headVersion: UInt64? { view.headVersion }

    public func head() async throws -> StoredVersion? { try await history.head() }

    public func versions(limit: Int) async throws -> [VersionSummary] { try await history.versions(limit: limit).map(Self.summary) }

    public func version(_ n: UInt64) async throws -> StoredVersion? { try await history.version(Int64(clamping: n)) }
}
