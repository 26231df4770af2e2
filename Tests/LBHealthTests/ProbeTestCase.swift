import LBHealth
import LBSpec
import NIOPosix
import XCTest

/// A probe on a one-thread group of its own and servers on another, both shut down after each test, which
/// also closes every listener and connection a test left open, whether it passed or not.
class ProbeTestCase: XCTestCase {
    var probeGroup: MultiThreadedEventLoopGroup!
    var serverGroup: MultiThreadedEventLoopGroup!
    var probe: NIOHealthProbe!

    override func setUp() {
        super.setUp()
        probeGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        probe = NIOHealthProbe(group: probeGroup)
    }

    override func tearDown() async throws {
        try await probeGroup.shutdownGracefully()
        try await serverGroup.shutdownGracefully()
        try await super.tearDown()
    }

    /// A check of `kind` with a short timeout, so the failing cases stay quick.
    func check(_ kind: HealthCheck.Kind, timeoutMilliseconds: Int = 1000, path: String = "/",
               expectStatus: Int? = nil, host: String? = nil, command: String? = nil, port: Int? = nil) -> HealthCheck {
        HealthCheck(kind: kind, port: port, path: path, expectStatus: expectStatus, host: host, command: command,
                    connectTimeoutMilliseconds: timeoutMilliseconds)
    }

    func scripted(host: String = "127.0.0.1", _ script: @escaping @Sendable (String) -> [ScriptedServer.Step])
        async throws -> ScriptedServer {
        try await ScriptedServer.start(on: serverGroup, host: host, script: script)
    }
}
