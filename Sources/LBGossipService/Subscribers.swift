/// Continuations of one kind of event, so any number of observers each get every event.
struct Subscribers<Element: Sendable> {
    var next = 0
    var continuations: [Int: AsyncStream<Element>.Continuation] = [:]

    /// A new stream that first yields `initial`; it stops being fed when the consumer drops it.
    mutating func subscribe(initial: [Element], onTermination: @escaping @Sendable (Int) -> Void) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream<Element>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        next += 1
        let id = next
        for e in initial { continuation.yield(e) }
        continuation.onTermination = { _ in onTermination(id) }
        continuations[id] = continuation
        return stream
    }

    func yield(_ e: Element) { for c in continuations.values { c.yield(e) } }

    mutating func remove(_ id: Int) { continuations[id] = nil }

    mutating func finish() {
        for c in continuations.values { c.finish() }
        continuations = [:]
    }
}
