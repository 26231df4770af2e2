import NIOCore
import NIOPosix

/// A thread of its own for a `LinuxHost`'s kernel calls. Netlink round trips and /proc reads block
/// (an IPVS observation of 10,000 services takes ~0.36 s under the lab's emulation); on the cooperative
/// pool (two threads here) that would stall the gossip member and turn late probe answers into false
/// suspicions. The actor runs on this thread instead: a one-thread NIO event loop that does nothing else,
/// so blocking it delays no I/O but the host's own.
public final class HostThread: Sendable {
    let group: MultiThreadedEventLoopGroup
    let loop: any EventLoop

    public init() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
    }

    /// The thread every `LinuxHost` uses unless given its own. The agent gives VRRP speakers another,
    /// so a takeover never queues behind an IPVS observation.
    public static let shared = HostThread()

    var executor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }
}
