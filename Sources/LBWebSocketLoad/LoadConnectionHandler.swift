import NIOCore
import NIOWebSocket

/// One load connection after the upgrade: sends on its schedule, feeds echoes to its tracker, and at the end
/// sends a last message, waits for the echoes, and closes with a close handshake. Reports once, when the
/// channel is gone.
final class LoadConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Phase { case running, finishing, closing, done }

    private var tracker: EchoTracker
    private let schedule: SendSchedule
    private let finalWait: TimeAmount
    private let report: EventLoopPromise<ConnectionReport>
    private var phase = Phase.running
    private var timer: RepeatedTask?
    private var closedEarly: CloseReason?
    private var errorReason: CloseReason?
    private var closedCleanly = false

    init(tracker: EchoTracker, schedule: SendSchedule, finalWait: TimeAmount, report: EventLoopPromise<ConnectionReport>) {
        self.tracker = tracker
        self.schedule = schedule
        self.finalWait = finalWait
        self.report = report
    }

    private static var now: UInt64 { NIODeadline.now().uptimeNanoseconds }

    func handlerAdded(context: ChannelHandlerContext) {
        // Added by the upgrader, so the channel is already open: the first message goes now.
        send(context: context)
        let interval = TimeAmount(schedule.interval)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = bound.value
            if handler.phase == .running { handler.send(context: context) }
        }
    }

    private func send(context: ChannelHandlerContext) {
        let text = tracker.send(at: Self.now)
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: context.channel.allocator.buffer(string: text))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func sendClose(context: ChannelHandlerContext, code: WebSocketErrorCode) {
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            tracker.receive(String(buffer: frame.unmaskedData), at: Self.now)
            if phase == .finishing, tracker.outstandingCount == 0 { startClose(context: context) }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            if phase == .closing {
                closedCleanly = true
            } else {
                // The server ended it first: answer as RFC 6455 §5.5.1 asks, and count it as closed early.
                closedEarly = .remoteClose
                var payload = frame.unmaskedData
                let code = payload.readInteger(as: UInt16.self).map { WebSocketErrorCode(codeNumber: Int($0)) } ?? .normalClosure
                sendClose(context: context, code: code)
            }
            context.close(promise: nil)
        default:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is FinishRun else { return context.fireUserInboundEventTriggered(event) }
        guard phase == .running else { return }
        phase = .finishing
        timer?.cancel()
        send(context: context)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: finalWait) {
            let (handler, context) = bound.value
            handler.startClose(context: context)
        }
    }

    /// After the last echo (or when waiting for it ran out): our close frame, then the server's answer.
    private func startClose(context: ChannelHandlerContext) {
        guard phase == .finishing else { return }
        phase = .closing
        sendClose(context: context, code: .normalClosure)
        context.eventLoop.scheduleTask(in: finalWait) { [channel = context.channel] in channel.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if errorReason == nil { errorReason = CloseReason.of(error) }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if phase == .running || phase == .finishing, closedEarly == nil { closedEarly = errorReason ?? .eof }
        phase = .done
        tracker.finish(at: Self.now)
        report.succeed(ConnectionReport(kind: schedule.kind, opened: true, closedEarly: closedEarly, closedCleanly: closedCleanly, tracker: tracker))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Never leave the promise dangling, even if the pipeline is torn down another way.
        timer?.cancel()
        if phase != .done {
            tracker.finish(at: Self.now)
            report.succeed(ConnectionReport(kind: schedule.kind, opened: true, closedEarly: closedEarly ?? errorReason ?? .eof,
                                            closedCleanly: closedCleanly, tracker: tracker))
        }
    }
}
