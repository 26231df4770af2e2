import Foundation
import LBClusterView
import LBCrypto
import LBNotify
import LBSpec
import MetricsTestKit
import ServiceLifecycle
import ServiceLifecycleTestKit
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class NotificationServiceTests: XCTestCase {
    let fast = NotificationService.Settings(queueLength: 16, grace: .milliseconds(300),
                                            retry: RetryPolicy(base: .milliseconds(10), cap: .milliseconds(20), attemptTimeout: .seconds(5)))

    /// Runs `service` in a task for the body, then shuts it down gracefully and waits for `run()` to return.
    func running<T>(_ service: NotificationService, _ body: () async throws -> T) async throws -> T {
        try await testGracefulShutdown { trigger in
            let task = Task { try await service.run() }
            do {
                let value = try await body()
                trigger.triggerGracefulShutdown()
                try await task.value
                return value
            } catch {
                task.cancel()
                throw error
            }
        }
    }

    func script(_ body: String) throws -> (path: String, dir: URL) {
        let dir = try temporaryDirectory(self)
        let path = dir.appendingPathComponent("notify.sh").path
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return (path, dir)
    }

    func testASlowFailingChannelDelaysNoOther() async throws {
        let silent = try SilentListener(self)
        let receiver = try await HTTPReceiver.start(self)
        let (path, dir) = try script(#"echo "$1" >> "$(dirname "$0")/ran""#)
        let metrics = TestMetrics()
        let email = EmailNotification(to: ["ops@example.com"], from: "lb@example.com", smtpServer: "127.0.0.1", smtpPort: silent.port, timeoutSeconds: 1)
        let service = NotificationService(cluster: "web", email: email, webhook: WebhookTarget(url: receiver.url(), retries: 0), script: path,
                                          logger: quietLogger, settings: fast, metrics: metrics)
        let start = ContinuousClock.now
        try await running(service) {
            service.notify(event(id: 1))
            service.notify(event(.serverDown, id: 2))
            let requests = await receiver.waitForRequests(2)
            XCTAssertEqual(requests.map { $0.headers["X-LB-Delivery"].first }, ["1", "2"], "in order")
            XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(800), "the webhook does not wait for the SMTP server that never answers")
            let bothFailed = await eventually(within: 5) { service.counts()[.email]?.failed == 2 }
            XCTAssertTrue(bothFailed, "\(service.counts())")
        }
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("ran"), encoding: .utf8), "vrrp-transition\nreal-server-down\n")
        XCTAssertEqual(service.counts(), [
            .email: .init(delivered: 0, failed: 2), .webhook: .init(delivered: 2), .specWebhook: .init(), .script: .init(delivered: 2),
        ])
        func total(_ channel: String, _ result: String) -> Int64 {
            metrics.counterTotal(label: "lb_notifications_total", dimensions: [("channel", channel), ("result", result)])
        }
        XCTAssertEqual(total("email", "failed"), 2)
        XCTAssertEqual(total("webhook", "delivered"), 2)
        XCTAssertEqual(total("script", "delivered"), 2)
        XCTAssertEqual(total("webhook", "failed"), 0)
    }

    func testDropsAreCountedWhenAQueueIsFull() async throws {
        let receiver = try await HTTPReceiver.start(self)
        let metrics = TestMetrics()
        var settings = fast
        settings.queueLength = 2
        let service = NotificationService(cluster: "web", email: nil, webhook: WebhookTarget(url: receiver.url(), retries: 0), script: nil,
                                          logger: quietLogger, settings: settings, metrics: metrics)
        // Before run() nothing is delivered, so the third event on finds the queue full.
        for id in 1...5 { service.notify(event(id: Int64(id))) }
        XCTAssertEqual(service.counts()[.webhook], .init(dropped: 3))
        try await running(service) {
            let requests = await receiver.waitForRequests(2)
            XCTAssertEqual(requests.map { $0.headers["X-LB-Delivery"].first }, ["1", "2"], "the oldest are kept")
            _ = await eventually { service.counts()[.webhook]?.delivered == 2 }
        }
        XCTAssertEqual(service.counts()[.webhook], .init(delivered: 2, dropped: 3))
        XCTAssertEqual(metrics.counterTotal(label: "lb_notifications_total", dimensions: [("channel", "webhook"), ("result", "dropped")]), 3)
        XCTAssertNil(service.counts()[.script], "an unconfigured channel has no queue")
    }

    func testEmailFollowsTheSpecAndSkipsProgress() async throws {
        let sink = try await SMTPSink.start(self)
        let service = NotificationService(cluster: "web", email: nil, webhook: nil, script: nil, logger: quietLogger, settings: fast)
        try await running(service) {
            service.notify(event(.applied, id: 1, node: nil))
            service.update(spec: Notifications(email: EmailNotification(to: ["ops@example.com"], from: "lb@example.com", smtpServer: "127.0.0.1",
                                                                        smtpPort: sink.port, timeoutSeconds: 5)))
            service.notify(event(.nodeProgress, id: 2))
            service.notify(event(.nodeLost, id: 3))
            let messages = try await sink.waitForMessages(1)
            XCTAssertEqual(messages.map { $0.headers["subject"] }, ["[lb web] node-lost lb1"])
            _ = await eventually { service.counts()[.email]?.delivered == 1 }
        }
        XCTAssertEqual(try sink.messages().count, 1, "no mail before the spec had e-mail settings, none for node-progress")
        XCTAssertFalse(NotificationService.delivers("node-progress", to: .email))
        XCTAssertFalse(NotificationService.delivers("node-progress", to: .script))
        XCTAssertTrue(NotificationService.delivers("node-progress", to: .webhook))
        for kind in ClusterEvent.Kind.allCases where kind != .nodeProgress {
            XCTAssertTrue(NotificationService.Channel.allCases.allSatisfy { NotificationService.delivers(kind.rawValue, to: $0) }, kind.rawValue)
        }
        XCTAssertTrue(NotificationService.delivers("some-future-kind", to: .email))
    }

    /// A VRRP group with `email: false` (keepalived's smtp_alert off in its instance): its transitions
    /// reach the other channels but no mailbox; other groups' and other kinds of event are mailed.
    func testAGroupLeftOutOfEmailIsNotMailedButScripted() async throws {
        let sink = try await SMTPSink.start(self)
        let (path, dir) = try script(#"echo "$LB_EVENT_KIND" >> "$(dirname "$0")/ran""#)
        let service = NotificationService(cluster: "web", email: nil, webhook: nil, script: path, logger: quietLogger, settings: fast)
        var spec = ClusterSpec(cluster: "web", nodes: [], vips: [
            VIP(name: "quiet", address: CIDR("10.0.0.1/24")!, vrrp: VRRPGroup(routerID: 51, email: false)),
            VIP(name: "loud", address: CIDR("10.0.0.2/24")!, vrrp: VRRPGroup(routerID: 52)),
        ])
        spec.notifications.email = EmailNotification(to: ["ops@example.com"], from: "lb@example.com", smtpServer: "127.0.0.1", smtpPort: sink.port, timeoutSeconds: 5)
        try await running(service) {
            service.update(spec: spec)
            func transition(_ id: Int64, router: Int) -> ClusterEvent {
                var e = event(.vrrp, id: id, message: "lb1 VI_\(router) (router id \(router)): BACKUP → MASTER, priority 100")
                e.routerID = router
                return e
            }
            service.notify(transition(1, router: 51))
            service.notify(transition(2, router: 52))
            service.notify(event(.nodeLost, id: 3))
            let messages = try await sink.waitForMessages(2)
            XCTAssertEqual(messages.map { $0.headers["subject"] }, ["[lb web] vrrp-transition lb1", "[lb web] node-lost lb1"])
            _ = await eventually { (try? String(contentsOf: dir.appendingPathComponent("ran"), encoding: .utf8))?.split(separator: "\n").count == 3 }
        }
        XCTAssertEqual(try sink.messages().count, 2)
        XCTAssertTrue(try sink.messages()[0].body.contains("router id 52"), "the loud group's transition was mailed")
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("ran"), encoding: .utf8), "vrrp-transition\nvrrp-transition\nnode-lost\n", "the script hears every event")
    }

    func testSpecWebhookIsSignedWithTheControllersSecret() async throws {
        let main = try await HTTPReceiver.start(self)
        let spec = try await HTTPReceiver.start(self)
        let secret = SecretBytes(copying: Array("k".utf8))
        let service = NotificationService(cluster: "web", email: nil, webhook: WebhookTarget(url: main.url(), secret: secret, retries: 0), script: nil,
                                          logger: quietLogger, settings: fast)
        try await running(service) {
            service.update(specWebhook: main.url())
            service.notify(event(id: 1))
            service.update(specWebhook: spec.url("/from-spec"))
            service.notify(event(id: 2))
            let fromSpec = await spec.waitForRequests(1)
            let request = try XCTUnwrap(fromSpec.first)
            XCTAssertEqual(request.uri, "/from-spec")
            XCTAssertEqual(request.headers["X-LB-Signature"].first, "sha256=" + Hex.encode(HMACSHA256.authenticationCode(for: request.body, key: secret)))
            _ = await main.waitForRequests(2)
        }
        XCTAssertEqual(main.requests.count, 2, "the spec naming the controller's own URL does not send it twice")
        XCTAssertEqual(spec.requests.map { $0.headers["X-LB-Delivery"].first }, ["2"])
    }

    func testShutdownFinishesTheDeliveryInFlightAndDropsTheQueue() async throws {
        let (path, dir) = try script(#"sleep 0.3; echo "$LB_EVENT_KIND" >> "$(dirname "$0")/done""#)
        let service = NotificationService(cluster: "web", email: nil, webhook: nil, script: path, logger: quietLogger,
                                          settings: .init(grace: .seconds(5)))
        try await testGracefulShutdown { trigger in
            let task = Task { try await service.run() }
            for id in 1...3 { service.notify(event(.serverDown, id: Int64(id))) }
            try await Task.sleep(for: .milliseconds(100))
            trigger.triggerGracefulShutdown()
            try await task.value
        }
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("done"), encoding: .utf8), "real-server-down\n")
        XCTAssertEqual(service.counts()[.script], .init(delivered: 1, dropped: 2))
        service.notify(event())
        XCTAssertEqual(service.counts()[.script], .init(delivered: 1, dropped: 2), "nothing is taken after shutdown")
    }

    func testGraceCutsALongDelivery() async throws {
        let (path, dir) = try script(#"echo $$ > "$(dirname "$0")/pid"; exec sleep 1000"#)
        let service = NotificationService(cluster: "web", email: nil, webhook: nil, script: path, logger: quietLogger,
                                          settings: .init(grace: .milliseconds(300), scriptTimeout: .seconds(60)))
        let pidFile = dir.appendingPathComponent("pid")
        let start = ContinuousClock.now
        try await testGracefulShutdown { trigger in
            let task = Task { try await service.run() }
            service.notify(event())
            _ = await eventually { FileManager.default.fileExists(atPath: pidFile.path) }
            trigger.triggerGracefulShutdown()
            try await task.value
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3), "shutdown waits the grace, not the script")
        XCTAssertEqual(service.counts()[.script], .init(failed: 1))
        let pid = try XCTUnwrap(Int32(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(kill(pid, 0), -1, "the script was killed and reaped")
    }
}
