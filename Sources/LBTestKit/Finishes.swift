import Foundation

/// Holds a value produced on another thread.
final class ResultBox<T>: @unchecked Sendable {
    let lock = NSLock()
    let done = DispatchSemaphore(value: 0)
    var value: T?
}

/// Runs `body` on its own thread and waits at most `seconds`; nil when it did not finish in time, so a
/// hang fails the test instead of stalling the suite.
public func finishes<T>(within seconds: Double, _ body: @escaping @Sendable () -> T) -> T? {
    let box = ResultBox<T>()
    Thread.detachNewThread {
        let v = body()
        box.lock.lock(); box.value = v; box.lock.unlock()
        box.done.signal()
    }
    guard box.done.wait(timeout: .now() + seconds) == .success else { return nil }
    box.lock.lock(); defer { box.lock.unlock() }
    return box.value
}
