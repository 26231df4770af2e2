/// Continuations of one kind of event, so any number of observers each get every event.
public struct Subscribers<Element: Sendable> {
    var next = 0
    var continuations: [Int: AsyncStream<Element>.Continuation] = [:]

    public init() {}

    /// A new stream that first yields `initial`; it stops being fed when the consumer drops it.
    public mutating func subscribe(initial: [Element], onTermination: @escaping @Sendable (Int) -> Void) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream<Element>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        next += 1
        let id = next
        for e in initial { continuation.yield(e) }
        continuation.onTermination = { _ in onTermination(id) }
        continuations[id] = continuation
        return stream
    }

    public func yield(_ e: Element) { for c in continuations.values { c.yield(e) } }

    public mutating func remove(_ id: Int) { continuations[id] = nil }

    public mutating func finish() {
        for c in continuations.values { c.finish() }
        continuations = [:]
    }
}
