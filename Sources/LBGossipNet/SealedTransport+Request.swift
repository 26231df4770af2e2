import NIOCore

/// Requests: one short-lived connection each, bounded by the caller's timeout and cancellation.
extension SealedTransport {
    /// One connection per request, so a slow answer never delays another; throws `TransportError`.
    public func request(_ bytes: [UInt8], to address: String, timeout: Duration) async throws -> [UInt8] {
        guard let target = PeerAddress.parse(address) else {
            core.count(\.sendFailed)
            throw TransportError.invalidAddress(address)
        }
        guard !core.isShutDown else {
            core.count(\.sendFailed)
            throw TransportError.shutDown
        }
        let sealedReply: ByteBuffer
        do {
            sealedReply = try await exchange(bytes, with: target, timeout: timeout)
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as TransportError {
            core.count(\.sendFailed)
            throw error
        } catch {
            core.count(\.sendFailed)
            throw TransportError.connectionFailed("\(error)")
        }
        guard let plaintext = core.openFrame(Array(sealedReply.readableBytesView)) else {
            throw TransportError.badReply
        }
        guard plaintext.first == Wire.Kind.response.rawValue else {
            core.count(\.malformed)
            throw TransportError.badReply
        }
        return Array(plaintext.dropFirst())
    }

    /// Connects, writes the sealed request and waits for one frame, all bounded by `timeout`.
    private func exchange(_ bytes: [UInt8], with target: SocketAddress, timeout: Duration) async throws -> ByteBuffer {
        let frame = ByteBuffer(bytes: core.sealFrame(.request, bytes))
        let loop = group.next()
        let reply = loop.makePromise(of: ByteBuffer.self)
        let timer = loop.scheduleTask(in: TimeAmount(timeout)) { reply.fail(TransportError.timedOut) }
        reply.futureResult.whenComplete { _ in timer.cancel() }
        let maxFrameBytes = core.limits.maxFrameBytes

        connect(to: target, on: loop, extraHandlers: {
            [ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)), ResponseHandler(promise: reply)]
        }).whenComplete { result in
            switch result {
            case .failure(let error):
                reply.fail(error as? TransportError ?? TransportError.connectionFailed("\(error)"))
            case .success(let channel):
                // Whatever ends the exchange (reply, timeout, cancellation) also ends the connection.
                reply.futureResult.whenComplete { _ in channel.close(promise: nil) }
                channel.writeAndFlush(frame).whenFailure { reply.fail(TransportError.connectionFailed("\($0)")) }
            }
        }
        return try await withTaskCancellationHandler {
            try await reply.futureResult.get()
        } onCancel: {
            reply.fail(CancellationError())
        }
    }
}
