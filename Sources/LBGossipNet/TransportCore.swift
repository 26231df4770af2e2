import LBCrypto
import LBGossip
import NIOConcurrencyHelpers
import NIOCore

/// The state every channel handler of one transport shares: keyring, counters, the inbound stream, the
/// request handler and the open channels. Handlers hold this instead of the transport so the public
/// object owns the channels and nothing forms a retain cycle through a pipeline.
final class TransportCore: Sendable {
    /// What answers requests; nil until `serveRequests` is called.
    typealias RequestHandler = @Sendable ([UInt8]) async -> [UInt8]?

    let limits: Limits
    let inbound: AsyncStream<GossipInbound>
    private let continuation: AsyncStream<GossipInbound>.Continuation
    private let keys: NIOLockedValueBox<Keyring>
    private let tally = NIOLockedValueBox(Counters())
    private let handler = NIOLockedValueBox<RequestHandler?>(nil)
    private let registry = NIOLockedValueBox(Registry())

    /// The channels to close on shutdown; inbound ones are also what `maxConnections` bounds.
    private struct Registry {
        var isShutDown = false
        var inbound: [ObjectIdentifier: any Channel] = [:]
        var outbound: [ObjectIdentifier: any Channel] = [:]
    }

    init(keyring: Keyring, limits: Limits) {
        self.limits = limits
        keys = NIOLockedValueBox(keyring)
        // bufferingOldest keeps what is already queued and refuses the newest: a slow consumer loses
        // fresh gossip (which SWIM retransmits) rather than reordering or a growing queue.
        (inbound, continuation) = AsyncStream.makeStream(of: GossipInbound.self, bufferingPolicy: .bufferingOldest(max(1, limits.inboundBuffer)))
    }

    // MARK: Keyring and counters

    /// A copy, so sealing and opening never hold the lock while doing crypto.
    var keyring: Keyring { keys.withLockedValue { $0 } }

    /// Applies a rotation step; the next packet sealed or opened sees it.
    func updateKeyring(_ change: (inout Keyring) throws -> Void) rethrows { try keys.withLockedValue { try change(&$0) } }

    var counters: Counters { tally.withLockedValue { $0 } }

    func count(_ counter: WritableKeyPath<Counters, Int>, by amount: Int = 1) {
        tally.withLockedValue { $0[keyPath: counter] += amount }
    }

    // Sealing and opening go through SealedTransport's public wire functions, the ones the fuzzer
    // drives, so what is fuzzed is what the sockets run.

    /// A datagram sealed under the current primary key.
    func sealDatagram(_ plaintext: [UInt8]) -> [UInt8] { SealedTransport.sealDatagram(plaintext, keyring: keyring) }

    /// A frame body of `kind` sealed under the current primary key (without its length prefix).
    func sealFrame(_ kind: Wire.Kind, _ body: [UInt8]) -> [UInt8] {
        SealedTransport.sealFrame(kind: kind.rawValue, body, keyring: keyring)
    }

    /// A datagram's plaintext, or nil after counting why it did not open.
    func openDatagram(_ sealed: [UInt8]) -> [UInt8]? { counted { try SealedTransport.openDatagram(sealed, keyring: $0) } }

    /// A frame's plaintext (kind byte first), or nil after counting why it did not open.
    func openFrame(_ sealed: [UInt8]) -> [UInt8]? { counted { try SealedTransport.openFrame(sealed, keyring: $0) } }

    /// Runs `open` with the current keyring; on failure counts why: an authentication failure or an
    /// unknown key is `openFailed` (a peer with other keys, or an attacker); anything not shaped like a
    /// sealed message is `malformed`.
    private func counted(_ open: (Keyring) throws -> [UInt8]) -> [UInt8]? {
        do {
            return try open(keyring)
        } catch let error as CryptoError where error.code == .unknownKey || error.code == .authenticationFailed {
            count(\.openFailed)
        } catch {
            count(\.malformed)
        }
        return nil
    }

    // MARK: Inbound stream and requests

    /// Offers a message to the consumer, counting it as lost when the buffer is full.
    func deliver(_ message: GossipInbound) {
        if case .dropped = continuation.yield(message) { count(\.inboundOverflow) }
    }

    var requestHandler: RequestHandler? {
        get { handler.withLockedValue { $0 } }
        set { handler.withLockedValue { $0 = newValue } }
    }

    // MARK: Channels

    var isShutDown: Bool { registry.withLockedValue { $0.isShutDown } }

    /// Registers an accepted connection, or counts and refuses it when `maxConnections` are open.
    func admitInbound(_ channel: any Channel) -> Bool {
        let admitted: Bool = registry.withLockedValue {
            guard !$0.isShutDown else { return false }
            guard $0.inbound.count < limits.maxConnections else { return false }
            $0.inbound[ObjectIdentifier(channel)] = channel
            return true
        }
        if !admitted && !isShutDown { count(\.connectionsRefused) }
        if admitted { forgetOnClose(channel) }
        return admitted
    }

    /// Registers an outbound connection so shutdown can close it; false (and nothing kept) after shutdown.
    func trackOutbound(_ channel: any Channel) -> Bool {
        let tracked: Bool = registry.withLockedValue {
            guard !$0.isShutDown else { return false }
            $0.outbound[ObjectIdentifier(channel)] = channel
            return true
        }
        if tracked { forgetOnClose(channel) }
        return tracked
    }

    private func forgetOnClose(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channel.closeFuture.whenComplete { _ in
            self.registry.withLockedValue {
                $0.inbound[id] = nil
                $0.outbound[id] = nil
            }
        }
    }

    /// Marks the transport shut down and hands back the connections to close; nil if it already was.
    func beginShutdown() -> [any Channel]? {
        registry.withLockedValue {
            guard !$0.isShutDown else { return nil }
            $0.isShutDown = true
            return Array($0.inbound.values) + Array($0.outbound.values)
        }
    }

    /// Ends `inbound` for the consumer's `for await`.
    func finishInbound() { continuation.finish() }
}

// The public names are nested in SealedTransport to keep the importing module's namespace clean; the
// handlers use them constantly, so they get short internal names here.
typealias Limits = SealedTransport.Limits
typealias Counters = SealedTransport.Counters
