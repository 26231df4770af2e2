import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The TLS contexts of the https checks, one per verification setting, made once and shared by every
/// probe: a context is costly to make (and reads `ca_file`), a handshake with one is not.
///
/// keepalived's SSL_GET accepts any certificate (check_ssl.c sets no verify mode), so without
/// `verify_certificate` neither does lb. A context is made on NIO's thread pool, never on an event loop,
/// since loading a CA file is blocking file I/O; one that could not be made is tried again at the next
/// probe, so a CA file put in place later is picked up. A CA file is read once: changing it takes a
/// restart of the agent or another path.
final class TLSContexts: Sendable {
    private struct Key: Hashable {
        var verify: Bool
        var caFile: String?
    }

    private let made = NIOLockedValueBox<[Key: NIOSSLContext]>([:])

    func context(verify: Bool, caFile: String?, on loop: any EventLoop) -> EventLoopFuture<NIOSSLContext> {
        let key = Key(verify: verify, caFile: verify ? caFile : nil)
        if let context = made.withLockedValue({ $0[key] }) { return loop.makeSucceededFuture(context) }
        return NIOThreadPool.singleton.runIfActive(eventLoop: loop) { [made] in
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = verify ? .fullVerification : .none
            if let caFile = key.caFile { configuration.trustRoots = .file(caFile) }
            let context = try NIOSSLContext(configuration: configuration)
            made.withLockedValue { $0[key] = context }
            return context
        }
    }
}
