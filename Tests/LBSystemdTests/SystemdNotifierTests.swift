import Foundation
import LBSystemd
import LBTestKit
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class SystemdNotifierTests: XCTestCase {
    func testOneDatagramPerNotificationToAPathAndToAnAbstractName() throws {
        for abstract in [false, true] {
            let systemd = try NotifySocket(abstract: abstract)
            let notifier = try SystemdNotifier(socket: systemd.name)
            try notifier.send([.ready, .status("v3 applied")])
            try notifier.send(.watchdog)
            XCTAssertEqual(systemd.receive(), "READY=1\nSTATUS=v3 applied\n", systemd.name)
            XCTAssertEqual(systemd.receive(), "WATCHDOG=1\n", systemd.name)
        }
    }

    func testStatusStaysOneLine() {
        XCTAssertEqual(SystemdState.status("refused:\nforged").assignment, "STATUS=refused: forged")
    }

    func testSocketNamesSystemdWouldNotGiveAreRefusedClearly() {
        XCTAssertThrowsError(try SystemdNotifier(socket: "vsock:2:1234")) { error in
            XCTAssertEqual("\(error)", "NOTIFY_SOCKET 'vsock:2:1234' is neither an absolute socket path nor an abstract name starting with '@'")
        }
        XCTAssertThrowsError(try SystemdNotifier(socket: "/" + String(repeating: "x", count: 200))) { error in
            XCTAssertTrue("\(error)".contains("is longer than the 107 bytes a socket path may have"), "\(error)")
        }
    }

    func testANotifierWithNobodyListeningSaysWhere() throws {
        let notifier = try SystemdNotifier(socket: NSTemporaryDirectory() + "lb-notify-nobody-\(getpid())")
        XCTAssertThrowsError(try notifier.send(.ready)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot notify systemd at \(notifier.socketName): "), "\(error)")
        }
    }

    func testEnvironment() {
        func env(_ values: [String: String], pid: Int32 = 42) -> SystemdEnvironment { SystemdEnvironment(lookup: { values[$0] }, pid: pid) }
        XCTAssertEqual(env([:]), SystemdEnvironment())
        XCTAssertEqual(env(["NOTIFY_SOCKET": ""]).notifySocket, nil)
        let watched = env(["NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"])
        XCTAssertEqual(watched, SystemdEnvironment(notifySocket: "/run/systemd/notify", watchdogTimeout: .seconds(30)))
        XCTAssertEqual(watched.watchdogInterval, .seconds(15))
        XCTAssertEqual(env(["WATCHDOG_USEC": "30000000"]).watchdogTimeout, .seconds(30), "no WATCHDOG_PID: the watchdog is ours")
        XCTAssertNil(env(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"]).watchdogTimeout, "another process's watchdog")
        XCTAssertNil(env(["WATCHDOG_USEC": "soon"]).watchdogTimeout)
        XCTAssertNil(env(["WATCHDOG_USEC": "0"]).watchdogTimeout)
    }

    func testServiceSaysReadyFeedsTheWatchdogUpdatesStatusAndSaysStopping() async throws {
        let systemd = try NotifySocket(abstract: false)
        let logger = Logger(label: "test")
        let ready = AsyncStream.makeStream(of: Void.self)
        let status = StatusBox("restored v1")
        let service = SystemdNotifyService(environment: SystemdEnvironment(notifySocket: systemd.name, watchdogTimeout: .milliseconds(200)),
                                           ready: { for await _ in ready.stream { return } }, status: { status.value },
                                           stopping: "stopping: bye", logger: logger)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                // Nothing before the daemon is ready: a watchdog ping then would already claim it is.
                try await Task.sleep(for: .milliseconds(300))
                ready.continuation.yield()
                XCTAssertEqual(systemd.receive(), "READY=1\nSTATUS=restored v1\n")
                XCTAssertEqual(systemd.receive(), "WATCHDOG=1\n")
                status.value = "v2 applied"
                XCTAssertEqual(systemd.receive(), "WATCHDOG=1\nSTATUS=v2 applied\n")
                XCTAssertEqual(systemd.receive(), "WATCHDOG=1\n")
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        // Pings already in flight may come before it; STOPPING is the last word.
        var last: String?
        while let next = systemd.receive() {
            last = next
            if next.hasPrefix("STOPPING") { break }
        }
        XCTAssertEqual(last, "STOPPING=1\nSTATUS=stopping: bye\n")
    }

    func testOutsideSystemdTheServiceOnlyWaitsForShutdown() async throws {
        let service = SystemdNotifyService(environment: SystemdEnvironment(), status: { "unused" }, logger: Logger(label: "test"))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }
}

/// A status the test changes while the service reads it.
final class StatusBox: @unchecked Sendable {
    private let lock = NSLock()
    private var text: String
    init(_ text: String) { self.text = text }
    var value: String {
        get { lock.withLock { text } }
        set { lock.withLock { text = newValue } }
    }
}
