import LBCrypto
import LBGossip
@testable import LBGossipNet
import XCTest

final class SealedTransportTests: XCTestCase {
    private var transports: [SealedTransport] = []

    override func tearDown() async throws {
        for transport in transports { await transport.shutdown() }
        transports = []
        try await super.tearDown()
    }

    /// A transport on an ephemeral loopback port, shut down in tearDown, with its inbound collected.
    private func start(_ keyring: Keyring, limits: SealedTransport.Limits = .init(), collect: Bool = true) async throws -> (SealedTransport, Inbox) {
        let transport = try await SealedTransport.start(host: "127.0.0.1", port: 0, keyring: keyring, limits: limits)
        transports.append(transport)
        let inbox = Inbox()
        if collect { inbox.collect(transport.inbound) }
        return (transport, inbox)
    }

    // MARK: 1. Round trips under one keyring

    func testDatagramRoundTrip() async throws {
        let ring = makeKeyring(.generate())
        let (a, _) = try await start(ring)
        let (b, inboxB) = try await start(ring)
        XCTAssertTrue(a.localAddress.hasPrefix("127.0.0.1:"))
        XCTAssertNotEqual(port(of: a), 0)

        a.send([1, 2, 3], to: b.localAddress, reliable: false)
        let got = await waitForMessages(inboxB, count: 1)
        XCTAssertEqual(got.map(\.bytes), [[1, 2, 3]])
        XCTAssertEqual(got.first?.reliable, false)
        XCTAssertEqual(got.first?.from, a.localAddress, "a datagram comes from the sender's shared port")
        // The sender counts in its write's completion, which may run after the receiver already has it.
        let sent = await eventually { a.counters.datagramsSent == 1 }
        XCTAssertTrue(sent)
        XCTAssertEqual(b.counters.datagramsReceived, 1)
    }

    func testReliableMessageRoundTrip() async throws {
        let ring = makeKeyring(.generate())
        let (a, _) = try await start(ring)
        let (b, inboxB) = try await start(ring)

        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }  // larger than any datagram
        a.send(payload, to: b.localAddress, reliable: true)
        let got = await waitForMessages(inboxB, count: 1)
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got.first?.bytes, payload)
        XCTAssertEqual(got.first?.reliable, true)
        XCTAssertTrue(got.first?.from.hasPrefix("127.0.0.1:") ?? false)
        let sent = await eventually { a.counters.streamsSent == 1 }
        XCTAssertTrue(sent)
        XCTAssertEqual(b.counters.streamsReceived, 1)
    }

    func testRequestResponseWithOneMebibytePayload() async throws {
        let ring = makeKeyring(.generate())
        let (a, _) = try await start(ring)
        let (b, inboxB) = try await start(ring)
        b.serveRequests { request in request.reversed() + [0xEE] }

        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 8)) }
        let reply = try await a.request(payload, to: b.localAddress, timeout: .seconds(10))
        XCTAssertEqual(reply.count, payload.count + 1)
        XCTAssertEqual(reply, payload.reversed() + [0xEE])
        await assertEventually { b.counters.requestsServed == 1 }
        let delivered = await inboxB.messages
        XCTAssertTrue(delivered.isEmpty, "a request goes to the handler, not to inbound")
    }

    func testRequestWithoutAnswerThrows() async throws {
        let ring = makeKeyring(.generate())
        let (a, _) = try await start(ring)
        let (b, _) = try await start(ring)
        // No handler yet: the stream closes without a reply.
        await XCTAssertThrowsErrorAsync(try await a.request([1], to: b.localAddress, timeout: .seconds(5))) {
            XCTAssertEqual($0 as? TransportError, .closedWithoutReply)
        }
        b.serveRequests { _ in nil }
        await XCTAssertThrowsErrorAsync(try await a.request([1], to: b.localAddress, timeout: .seconds(5))) {
            XCTAssertEqual($0 as? TransportError, .closedWithoutReply)
        }
        b.serveRequests { _ in try? await Task.sleep(for: .seconds(3)); return [1] }
        let clock = ContinuousClock()
        let started = clock.now
        await XCTAssertThrowsErrorAsync(try await a.request([1], to: b.localAddress, timeout: .milliseconds(200))) {
            XCTAssertEqual($0 as? TransportError, .timedOut)
        }
        XCTAssertLessThan(clock.now - started, .seconds(2), "the timeout, not the slow handler, ends the request")
        XCTAssertEqual(a.counters.sendFailed, 3)
    }

    // MARK: 2. A peer with another key is refused

    func testWrongKeyIsDroppedAndCounted() async throws {
        let (a, _) = try await start(makeKeyring(.generate()))
        let (b, inboxB) = try await start(makeKeyring(.generate()))
        b.serveRequests { $0 }

        a.send([1], to: b.localAddress, reliable: false)
        a.send([2], to: b.localAddress, reliable: true)
        await assertEventually("got \(b.counters)") { b.counters.openFailed == 2 }
        try await Task.sleep(for: .milliseconds(300))
        let delivered = await inboxB.messages
        XCTAssertTrue(delivered.isEmpty)

        await XCTAssertThrowsErrorAsync(try await a.request([3], to: b.localAddress, timeout: .seconds(5)))
        await assertEventually { b.counters.openFailed == 3 }
        XCTAssertEqual(b.counters.requestsServed, 0)
        XCTAssertEqual(b.counters.datagramsReceived + b.counters.streamsReceived, 0)
    }

    // MARK: 3. Garbage, tampering, oversized and broken frames

    func testGarbageAndTamperedDatagramsAreCountedNotDelivered() async throws {
        let ring = makeKeyring(.generate())
        let (b, inboxB) = try await start(ring)
        let p = port(of: b)

        rawDatagram(Array("hello, is this gossip?".utf8), toPort: p)                  // shorter than a seal: malformed
        rawDatagram([1] + [UInt8](repeating: 0xAB, count: 80), toPort: p)              // unknown key id: openFailed
        var tampered = ring.seal([9, 9, 9], associatedData: Array("lb-gossip/udp/1".utf8))
        tampered[tampered.count - 1] ^= 1                                              // bad tag: openFailed
        rawDatagram(tampered, toPort: p)
        rawDatagram(ring.seal([7], associatedData: Array("lb-gossip/tcp/1".utf8)), toPort: p)  // frame AAD on UDP: openFailed
        await assertEventually("got \(b.counters)") { b.counters.malformed == 1 && b.counters.openFailed == 3 }

        // The same raw path delivers a correctly sealed datagram, so the drops above are the checks at work.
        rawDatagram(ring.seal([4, 2], associatedData: Array("lb-gossip/udp/1".utf8)), toPort: p)
        let got = await waitForMessages(inboxB, count: 1)
        XCTAssertEqual(got.map(\.bytes), [[4, 2]])
    }

    func testOversizedDatagramIsDropped() async throws {
        let ring = makeKeyring(.generate())
        let (a, _) = try await start(ring)
        let (b, inboxB) = try await start(ring, limits: SealedTransport.Limits(maxDatagramBytes: 1000))
        a.send([UInt8](repeating: 5, count: 2000), to: b.localAddress, reliable: false)
        await assertEventually("got \(b.counters)") { b.counters.oversized == 1 }
        // A sender with the same limit refuses to send what the receiver would drop.
        b.send([UInt8](repeating: 5, count: 2000), to: a.localAddress, reliable: false)
        XCTAssertEqual(b.counters.sendFailed, 1)
        let delivered = await inboxB.messages
        XCTAssertTrue(delivered.isEmpty)
    }

    func testOversizedLengthPrefixClosesConnection() async throws {
        let (b, _) = try await start(makeKeyring(.generate()))
        let connection = try RawConnection(port: port(of: b))
        connection.write([0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertTrue(connection.closedByPeer(), "the listener must hang up instead of waiting for 4 GiB")
        XCTAssertEqual(b.counters.oversized, 1)
    }

    func testTruncatedAndUnknownKindFramesAreMalformed() async throws {
        let ring = makeKeyring(.generate())
        let (b, inboxB) = try await start(ring)

        let unknownKind = ring.seal([7, 1, 2], associatedData: Array("lb-gossip/tcp/1".utf8))
        let first = try RawConnection(port: port(of: b))
        first.write(lengthPrefixed(unknownKind))
        XCTAssertTrue(first.closedByPeer())
        XCTAssertEqual(b.counters.malformed, 1)

        let second = try RawConnection(port: port(of: b))
        second.write([0, 0, 0, 100] + [UInt8](repeating: 1, count: 10))
        shutdown(second.fd, Int32(SHUT_WR))
        XCTAssertTrue(second.closedByPeer())
        await assertEventually("got \(b.counters)") { b.counters.malformed == 2 }

        // A well-formed kind-0 frame on the same raw path is delivered.
        let good = try RawConnection(port: port(of: b))
        good.write(lengthPrefixed(ring.seal([0, 42], associatedData: Array("lb-gossip/tcp/1".utf8))))
        let got = await waitForMessages(inboxB, count: 1)
        XCTAssertEqual(got.map(\.bytes), [[42]])
    }

    private func lengthPrefixed(_ sealed: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(sealed.count).bigEndian, Array.init) + sealed
    }

    func testIdleConnectionIsClosed() async throws {
        let (b, _) = try await start(makeKeyring(.generate()), limits: SealedTransport.Limits(idleTimeout: .milliseconds(200)))
        let clock = ContinuousClock()
        let started = clock.now
        let connection = try RawConnection(port: port(of: b))
        XCTAssertTrue(connection.closedByPeer(), "a silent peer must not hold the connection")
        XCTAssertLessThan(clock.now - started, .seconds(3))
    }

    func testConnectionLimitRefusesExtras() async throws {
        let ring = makeKeyring(.generate())
        let (b, inboxB) = try await start(ring, limits: SealedTransport.Limits(maxConnections: 1))
        let held = try RawConnection(port: port(of: b), readTimeout: .seconds(1))
        // Accepted connections are set up on any loop of the group; wait until this one is admitted.
        held.write(lengthPrefixed(ring.seal([0, 9], associatedData: Array("lb-gossip/tcp/1".utf8))))
        _ = await waitForMessages(inboxB, count: 1)
        let extra = try RawConnection(port: port(of: b))
        XCTAssertTrue(extra.closedByPeer())
        XCTAssertEqual(b.counters.connectionsRefused, 1)
        XCTAssertFalse(held.closedByPeer(), "the admitted connection stays open")

        // Once the held connection goes away, a new one is admitted again.
        shutdown(held.fd, Int32(SHUT_RDWR))
        let (a, _) = try await start(ring)
        await assertEventually {
            a.send([1], to: b.localAddress, reliable: true)
            return await inboxB.messages.count > 1
        }
    }

    // MARK: 4. Rotation

    func testKeyRotationWithoutDowntime() async throws {
        let k1 = ClusterKey.generate(), k2 = ClusterKey.generate()
        let (a, inboxA) = try await start(makeKeyring(k1))
        let (b, inboxB) = try await start(makeKeyring(k1))

        try a.installKey(k2)
        try b.installKey(k2)
        try a.usePrimary(k2.id)
        XCTAssertEqual(a.keyring.primary.id, k2.id)
        a.send([1], to: b.localAddress, reliable: false)
        a.send([2], to: b.localAddress, reliable: true)
        var got = await waitForMessages(inboxB, count: 2)
        XCTAssertEqual(Set(got.map(\.bytes)), [[1], [2]], "B opens k2 while still sealing with k1")
        b.send([3], to: a.localAddress, reliable: false)
        got = await waitForMessages(inboxA, count: 1)
        XCTAssertEqual(got.map(\.bytes), [[3]], "A still opens k1")

        try b.usePrimary(k2.id)
        try a.removeKey(k1.id)
        try b.removeKey(k1.id)
        XCTAssertEqual(a.keyring.keys.map(\.id), [k2.id])
        a.send([4], to: b.localAddress, reliable: false)
        b.send([5], to: a.localAddress, reliable: true)
        b.serveRequests { $0 + [6] }
        let reply = try await a.request([5], to: b.localAddress, timeout: .seconds(5))
        XCTAssertEqual(reply, [5, 6])
        let lastAtB = await waitForMessages(inboxB, count: 3).last?.bytes
        let lastAtA = await waitForMessages(inboxA, count: 2).last?.bytes
        XCTAssertEqual(lastAtB, [4])
        XCTAssertEqual(lastAtA, [5])
        XCTAssertEqual(a.counters.openFailed + b.counters.openFailed, 0)

        let (c, _) = try await start(makeKeyring(k1))
        c.send([7], to: b.localAddress, reliable: false)
        c.send([8], to: b.localAddress, reliable: true)
        await assertEventually("got \(b.counters)") { b.counters.openFailed == 2 }
        try await Task.sleep(for: .milliseconds(200))
        let stillThree = await inboxB.messages.count
        XCTAssertEqual(stillThree, 3)

        XCTAssertThrowsError(try a.removeKey(k2.id), "the primary cannot be removed")
    }

    // MARK: 5. Bad addresses

    func testUnreachableAndUnparsableAddresses() async throws {
        let (a, _) = try await start(makeKeyring(.generate()))
        // A port nothing listens on: bind a transport, note its port, shut it down.
        let (gone, _) = try await start(makeKeyring(.generate()))
        let deadAddress = gone.localAddress
        await gone.shutdown()

        a.send([1], to: deadAddress, reliable: true)
        await assertEventually("got \(a.counters)") { a.counters.sendFailed == 1 }
        for bad in ["", "nonsense", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000", "::1:80", "[::1:80", "host.invalid:7946", "999.1.1.1:7946"] {
            a.send([1], to: bad, reliable: false)
            a.send([1], to: bad, reliable: true)
        }
        XCTAssertEqual(a.counters.sendFailed, 21)

        await XCTAssertThrowsErrorAsync(try await a.request([1], to: deadAddress, timeout: .seconds(5))) {
            guard case .connectionFailed = $0 as? TransportError else { return XCTFail("got \($0)") }
        }
        await XCTAssertThrowsErrorAsync(try await a.request([1], to: "not an address", timeout: .seconds(5))) {
            XCTAssertEqual($0 as? TransportError, .invalidAddress("not an address"))
        }
        XCTAssertEqual(a.counters.sendFailed, 23)
    }

    func testStartFailsCleanlyWhenTCPPortIsTaken() async throws {
        let other = try RawListener()
        try XCTSkipUnless(udpPortIsFree(other.port), "UDP \(other.port) happens to be in use")
        do {
            let transport = try await SealedTransport.start(host: "127.0.0.1", port: other.port, keyring: makeKeyring(.generate()))
            transports.append(transport)
            XCTFail("bound \(transport.localAddress) although TCP \(other.port) is taken")
        } catch {
            XCTAssertTrue(SealedTransport.isAddressInUse(error), "port 0 would retry on this error: \(error)")
        }
        XCTAssertTrue(udpPortIsFree(other.port), "the UDP socket of the failed start must be closed")
    }

    func testAddressParsing() {
        XCTAssertEqual(PeerAddress.parse("10.1.2.3:7946")?.port, 7946)
        XCTAssertEqual(PeerAddress.parse("[::1]:7946")?.ipAddress, "::1")
        XCTAssertEqual(PeerAddress.parse("[fe80::1:2]:1")?.port, 1)
        XCTAssertEqual(PeerAddress.format(PeerAddress.parse("[::1]:7946")), "[::1]:7946")
        XCTAssertEqual(PeerAddress.format(PeerAddress.parse("10.1.2.3:7946")), "10.1.2.3:7946")
        for bad in ["::1:7946", "[::1]7946", "[::1]:", "10.1.2.3:-1", "localhost:7946", ":7946"] {
            XCTAssertNil(PeerAddress.parse(bad), bad)
        }
    }

    func testIPv6Loopback() async throws {
        let ring = makeKeyring(.generate())
        let a: SealedTransport, b: SealedTransport
        do {
            a = try await SealedTransport.start(host: "::1", port: 0, keyring: ring)
            transports.append(a)
            b = try await SealedTransport.start(host: "::1", port: 0, keyring: ring)
            transports.append(b)
        } catch {
            throw XCTSkip("no IPv6 loopback here: \(error)")
        }
        XCTAssertTrue(b.localAddress.hasPrefix("[::1]:"), b.localAddress)
        let inboxB = Inbox()
        inboxB.collect(b.inbound)
        a.send([6], to: b.localAddress, reliable: false)
        a.send([7], to: b.localAddress, reliable: true)
        let got = await waitForMessages(inboxB, count: 2)
        XCTAssertEqual(Set(got.map(\.bytes)), [[6], [7]])
    }

    // MARK: 6. Shutdown and back-pressure

    func testShutdownFinishesInboundAndIsIdempotent() async throws {
        let ring = makeKeyring(.generate())
        let (a, inboxA) = try await start(ring)
        let (b, _) = try await start(ring)
        let held = try RawConnection(port: port(of: a))
        // A delivered frame proves the listener accepted this connection before shutdown.
        held.write(lengthPrefixed(ring.seal([0, 1], associatedData: Array("lb-gossip/tcp/1".utf8))))
        _ = await waitForMessages(inboxA, count: 1)

        await a.shutdown()
        await assertEventually("inbound must finish on shutdown") { await inboxA.finished }
        XCTAssertTrue(held.closedByPeer(), "open inbound connections are closed too")
        let delivered = await inboxA.messages
        XCTAssertEqual(delivered.map(\.bytes), [[1]])
        await a.shutdown()

        a.send([1], to: b.localAddress, reliable: false)
        XCTAssertEqual(a.counters.sendFailed, 1)
        await XCTAssertThrowsErrorAsync(try await a.request([1], to: b.localAddress, timeout: .seconds(1))) {
            XCTAssertEqual($0 as? TransportError, .shutDown)
        }
        b.send([2], to: a.localAddress, reliable: true)
        await assertEventually("the listener is gone") { b.counters.sendFailed == 1 }
    }

    func testSlowConsumerDropsNewestAndCounts() async throws {
        let ring = makeKeyring(.generate())
        let (a, _) = try await start(ring)
        let (b, _) = try await start(ring, limits: SealedTransport.Limits(inboundBuffer: 2), collect: false)
        for i in 0..<5 { a.send([UInt8(i)], to: b.localAddress, reliable: true) }
        await assertEventually("got \(b.counters)") { b.counters.streamsReceived == 5 }
        XCTAssertEqual(b.counters.inboundOverflow, 3)
        var iterator = b.inbound.makeAsyncIterator()
        let first = await iterator.next()
        let second = await iterator.next()
        XCTAssertEqual([first, second].compactMap { $0?.bytes.count }, [1, 1])
    }
}

/// XCTAssertThrowsError for async expressions.
func XCTAssertThrowsErrorAsync<T>(
    _ expression: @autoclosure () async throws -> T,
    file: StaticString = #filePath, line: UInt = #line,
    _ check: (any Error) -> Void = { _ in }
) async {
    do {
        _ = try await expression()
        XCTFail("expected an error", file: file, line: line)
    } catch {
        check(error)
    }
}
