// libFuzzer driver for what LBGossipNet reads off the network: a TCP byte stream split into frames by
// FrameDecoder (in an EmbeddedChannel, fed in arbitrary chunks), every frame and every datagram opened
// with a fixed keyring, and what opens decoded as gossip. Hostile bytes must be a thrown, counted error,
// never a crash. Build and run with scripts/fuzz.sh gossipnet.
//
// Input layout: byte 0 chooses how the rest is cut into reads (see Chunks); bytes 1... are both the TCP
// stream and a datagram, so a seed of either shape reaches the path it was made for.
#if FUZZ
import LBCrypto
import LBFuzzSupport
import LBGossip
import LBGossipNet
import NIOCore
import NIOEmbedded

enum Inputs {
    /// Small next to the 64 MiB default, so prefixes just over and at the limit are easy to reach.
    static let maxFrameBytes = 64 << 10
    /// The transport's default; the UDP handler drops longer datagrams before opening them.
    static let maxDatagramBytes = SealedTransport.Limits().maxDatagramBytes

    /// The fuzzer's cluster keys: fixed secrets, so seeds written once keep opening in every run.
    static let primaryKey = try! ClusterKey(secret: SecretBytes(copying: (0..<32).map { UInt8($0) }))
    static let secondKey = try! ClusterKey(secret: SecretBytes(copying: (0..<32).map { UInt8(0xA0 &+ $0) }))
    static let keyring = try! Keyring(keys: [primaryKey, secondKey])
    /// What Keyring.open documents it throws; TransportCore.open counts the first two as openFailed, the rest as malformed.
    static let openErrors: Set<CryptoError.Code> = [.unknownKey, .authenticationFailed, .sealedTooShort, .unsupportedFormat]

    static func run(_ bytes: [UInt8]) {
        guard let control = bytes.first else { return }
        let payload = Array(bytes.dropFirst())
        stream(payload, control: control)
        datagram(payload)
    }

    // MARK: TCP

    /// How a byte stream ends, as the listener's decoder must report it.
    enum End: Equatable {
        case clean
        case oversized(UInt32)
        case truncated
    }

    /// The frames and the end a correct decoder produces for `stream` as a whole, independent of chunking,
    /// and where each length prefix starts (the places worth cutting the stream near).
    static func expected(_ stream: [UInt8]) -> (frames: [[UInt8]], end: End, starts: [Int]) {
        var frames: [[UInt8]] = []
        var starts: [Int] = []
        var at = 0
        while true {
            starts.append(at)
            guard stream.count - at >= 4 else { return (frames, at == stream.count ? .clean : .truncated, starts) }
            let length = stream[at..<at + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard Int(length) <= maxFrameBytes else { return (frames, .oversized(length), starts) }
            guard stream.count - at - 4 >= Int(length) else { return (frames, .truncated, starts) }
            frames.append(Array(stream[at + 4..<at + 4 + Int(length)]))
            at += 4 + Int(length)
        }
    }

    /// Feeds `stream` through the listener's decoder in the chosen reads, stopping at the first error as
    /// the stream handler does (it closes), then checks the frames and the end against `expected`.
    static func stream(_ stream: [UInt8], control: UInt8) {
        let want = expected(stream)
        var chunks = Chunks(control, starts: want.starts)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)))
        _ = try? channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7946)).wait()
        var frames: [[UInt8]] = []
        func drain() {
            while let frame = try! channel.readInbound(as: ByteBuffer.self) {
                precondition(frame.readableBytes <= maxFrameBytes, "a decoded frame is over maxFrameBytes")
                frames.append(Array(frame.readableBytesView))
            }
        }
        var failure: (any Error)?
        var at = 0
        while at < stream.count {
            let count = min(chunks.next(at: at), stream.count - at)
            do {
                try channel.writeInbound(ByteBuffer(bytes: stream[at..<at + count]))
            } catch {
                failure = error
            }
            at += count
            drain()
            if failure != nil { break }
        }
        let end: End
        if let failure {
            guard case .oversized(let length)? = failure as? FrameError else { preconditionFailure("a read failed with \(failure), not an oversized frame") }
            end = .oversized(length)
            _ = try? channel.finish()
        } else {
            do {
                _ = try channel.finish()
                end = .clean
            } catch FrameError.truncated {
                end = .truncated
            } catch {
                preconditionFailure("closing the stream failed with \(error)")
            }
        }
        drain()
        precondition(end == want.end, "stream ended \(end), expected \(want.end)")
        precondition(frames == want.frames, "decoded frames differ from the stream's frames (chunking changed the result)")
        for frame in frames { open(frame: frame) }
    }

    /// One frame through what the stream handler does: open under the stream AAD, then act on the kind.
    static func open(frame sealed: [UInt8]) {
        let plaintext: [UInt8]
        do {
            plaintext = try SealedTransport.openFrame(sealed, keyring: keyring)
        } catch {
            checkOpenError(error)
            return
        }
        // The AAD binds a frame to TCP: the same bytes must not open as a datagram.
        precondition((try? SealedTransport.openDatagram(sealed, keyring: keyring)) == nil, "a frame also opened as a datagram")
        guard let kind = plaintext.first else { return }  // counted as malformed by the stream handler
        let body = Array(plaintext.dropFirst())
        switch kind {
        case 0: decode(body)  // a reliable gossip message
        case 1:  // a request: a document fetch
            if let head = try? GossipCodec.decodeFetch(body) {
                precondition((try? GossipCodec.decodeFetch(GossipCodec.encodeFetch(head))) == head, "fetch request round trip changed")
            }
            decode(body)
        case 2: decode(body)  // a response reaches only a requester, but must be as harmless
        default: return  // unknown kind: counted as malformed and the connection closed
        }
    }

    // MARK: UDP

    /// One datagram through what the UDP handler does: size check, open under the datagram AAD, decode.
    static func datagram(_ sealed: [UInt8]) {
        guard sealed.count <= maxDatagramBytes else { return }
        let plaintext: [UInt8]
        do {
            plaintext = try SealedTransport.openDatagram(sealed, keyring: keyring)
        } catch {
            checkOpenError(error)
            return
        }
        precondition((try? SealedTransport.openFrame(sealed, keyring: keyring)) == nil, "a datagram also opened as a frame")
        decode(plaintext)
    }

    // MARK: Shared

    /// Garbage must fail as one of the errors TransportCore.open counts, never anything else.
    static func checkOpenError(_ error: any Error) {
        guard let error = error as? CryptoError, openErrors.contains(error.code) else {
            preconditionFailure("opening threw \(error), which the transport does not count")
        }
    }

    /// The engine's first step with authenticated plaintext: decode, and a decoded packet must round-trip.
    static func decode(_ plaintext: [UInt8]) {
        guard let packet = try? GossipCodec.decode(plaintext) else { return }
        precondition(GossipCodec.size(of: packet) == plaintext.count, "size(of:) disagrees with the decoded length")
        precondition((try? GossipCodec.decode(GossipCodec.encode(packet))) == packet, "gossip codec round trip changed a packet")
    }

    /// The reads one input's stream arrives in, chosen by its first byte: 0xFF is the whole stream in one
    /// read; otherwise the low 3 bits cap a short read at 1...128 bytes and the rest seed a generator that
    /// mixes short reads with reads ending near the next length prefix (2 bytes before it to 5 bytes into
    /// it), where a decoder goes wrong. At most `maxReads` reads: each costs ~0.1 ms in the fuzz build
    /// (NIO unoptimised and instrumented), so reading 4 KiB byte by byte would make the fuzzer crawl.
    struct Chunks {
        static let maxReads = 24
        var state: UInt64
        /// The longest short read; nil for the whole stream at once.
        let cap: UInt64?
        let starts: [Int]
        var reads = 0

        init(_ control: UInt8, starts: [Int]) {
            state = (UInt64(control) &+ 1) &* 0x9E37_79B9_7F4A_7C15
            cap = control == 0xFF ? nil : 1 << UInt64(control & 7)
            self.starts = starts
        }

        /// The length of the read that begins at offset `at`.
        mutating func next(at: Int) -> Int {
            reads += 1
            guard let cap, reads < Self.maxReads else { return Int.max }
            // xorshift64*
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            let random = state &* 0x2545_F491_4F6C_DD1D
            if random & 1 == 0, let start = starts.first(where: { $0 + 4 > at }) {
                let end = start + Int((random >> 1) % 8) - 2
                if end > at { return end - at }
            }
            return Int(1 + (random >> 4) % cap)
        }
    }

    // MARK: Seeds

    /// Sealed datagrams and frames of every kind that open under `keyring`, with real gossip inside.
    static func seeds() -> [(String, [UInt8])] {
        let node = GossipNode(name: "fuzz-0", address: "10.0.0.1:7946")
        let peer = GossipNode(name: "fuzz-1", address: "10.0.0.2:7946")
        let meta = MemberMetadata(roles: ["director"], agentVersion: "0.1.0", documentVersion: 7, documentDigest: Array(repeating: 0xAB, count: 32))
        let updates = [MemberUpdate(node: peer, incarnation: 3, status: .alive, metadata: meta, origin: "fuzz-1")]
        let head = DocumentHead(version: 4, digest: Array(repeating: 0xCD, count: 32))
        let reports = [NodeReport(node: "fuzz-1", version: 2, bytes: Array("healthy".utf8))]
        func packet(_ body: GossipBody) -> [UInt8] {
            GossipCodec.encode(GossipPacket(sender: peer, head: head, body: body, updates: updates, reports: reports))
        }
        func framed(_ kind: UInt8, _ body: [UInt8], keyring: Keyring = keyring) -> [UInt8] {
            let sealed = SealedTransport.sealFrame(kind: kind, body, keyring: keyring)
            return withUnsafeBytes(of: UInt32(sealed.count).bigEndian) { Array($0) } + sealed
        }
        let secondPrimary = try! Keyring(keys: [secondKey, primaryKey])
        let message = framed(0, packet(.sync(reply: true)))
        let request = framed(1, GossipCodec.encodeFetch(head))
        let response = framed(2, Array(#"{"payloadType":"application/vnd.lb.document+json","payload":"e30=","signatures":[]}"#.utf8))
        return [
            ("datagram-ping.bin", [0xFF] + SealedTransport.sealDatagram(packet(.ping(sequence: 1, target: node.name)), keyring: keyring)),
            ("datagram-ping-request.bin", [0xFF] + SealedTransport.sealDatagram(packet(.pingRequest(sequence: 2, target: node, timeoutMillis: 500)), keyring: keyring)),
            ("datagram-ack.bin", [0xFF] + SealedTransport.sealDatagram(packet(.ack(sequence: 1)), keyring: keyring)),
            ("datagram-gossip.bin", [0xFF] + SealedTransport.sealDatagram(packet(.gossip), keyring: keyring)),
            // Sealed with the second installed key, as during a key rotation.
            ("datagram-second-key.bin", [0xFF] + SealedTransport.sealDatagram(packet(.join), keyring: secondPrimary)),
            ("frame-message.bin", [0xFF] + message),
            ("frame-request.bin", [0xFF] + request),
            ("frame-response.bin", [0xFF] + response),
            ("frame-message-second-key.bin", [0xFF] + framed(0, packet(.gossip), keyring: secondPrimary)),
            // Several frames on one connection, in 1-byte reads and in uneven reads around the prefixes.
            ("frames-short-reads.bin", [0x00] + message + request),
            ("frames-chunked.bin", [0x35] + message + message + response),
            ("frame-empty.bin", [0x02, 0, 0, 0, 0]),
            ("frame-truncated.bin", [0x03] + message.dropLast(7)),
            ("frame-at-limit-prefix.bin", [0xFF] + withUnsafeBytes(of: UInt32(maxFrameBytes).bigEndian) { Array($0) } + [1, 2, 3]),
            ("frame-over-limit-prefix.bin", [0xFF] + withUnsafeBytes(of: UInt32(maxFrameBytes + 1).bigEndian) { Array($0) }),
        ]
    }
}

FuzzDriver.main(seeds: Inputs.seeds, body: Inputs.run)
#else
print("GossipNetFuzz must be built with -sanitize=fuzzer -DFUZZ; run scripts/fuzz.sh gossipnet")
#endif
