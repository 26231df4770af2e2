import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on a thread of its own that has entered the named network namespace (`ip netns`), so the
/// sockets it opens belong to that namespace for good; the test process itself stays where it is.
public func inNamespace<T>(_ namespace: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        defer { done.signal() }
        let fd = open("/run/netns/\(namespace)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { box.result = .failure(LabError("open /run/netns/\(namespace): \(String(cString: strerror(errno)))")); return }
        defer { close(fd) }
        guard let setns, setns(fd, 0x4000_0000 /* CLONE_NEWNET */) == 0 else {
            box.result = .failure(LabError("setns \(namespace): \(String(cString: strerror(errno)))"))
            return
        }
        box.result = Result { try body() }
    }
    thread.start()
    done.wait()
    return try box.result!.get()
}

/// setns(2), which Swift's Glibc module leaves out (it is a _GNU_SOURCE declaration).
private let setns: (@convention(c) (Int32, Int32) -> Int32)? = dlsym(nil, "setns").map { unsafeBitCast($0, to: (@convention(c) (Int32, Int32) -> Int32).self) }

/// A result handed from a thread of `inNamespace` (or any other) back to its caller after a join.
public final class ResultBox<T>: @unchecked Sendable {
    public var result: Result<T, any Error>?
    public init() {}
}
