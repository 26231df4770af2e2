import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LBClusterView
import LBControllerAPI
import LBControllerConfig
import LBCrypto
import LBDocument
import LBSpec
import LBTestKit
import LBVRRPLab
import XCTest

/// lb-controller, lb-agent and lbctl as separate processes in network namespaces, talking over real
/// sockets: the operator's story from `lbctl apply --wait` to every node confirming, the refusals, the
/// controller's crash and absence. This kernel has no IPVS, so the directors here run VRRP and report
/// that IPVS is unavailable: the success of `--wait` is shown on real servers, its laggard path on the
/// directors, and the qemu lab shows directors converging (lab/agent.sh).
final class ControllerNamespaceTests: XCTestCase {
    let vip = "10.99.0.200"

    override func setUpWithError() throws {
        guard geteuid() == 0 else {
            XCTFail("ControllerNamespaceTests need root to create network namespaces; run `make test` as root (CI does)")
            throw XCTSkip("not root")
        }
        XCTAssertEqual(access(AgentLab.controllerBinary, X_OK), 0, "lb-controller not built at \(AgentLab.controllerBinary)")
    }

    /// Real servers only, no VIP: every node can converge on this kernel.
    func quiet(_ lab: AgentLab, nodes: [String]) -> ClusterSpec {
        var spec = lab.spec(realServers: nodes, directors: [("d1", 100)])
        spec.vips = []
        spec.nodes.removeAll { $0.name == "d1" }
        return spec
    }

    func testApplyWaitsForEveryNodeAndRefusalsChangeNothing() throws {
        let lab = try AgentLab(hosts: ["ctl", "rs1", "rs2", "d1", "d2"])
        defer { lab.destroy() }
        try lab.startController("ctl", seeds: [])
        for n in ["rs1", "rs2"] { try lab.start(n, seeds: ["ctl"]) }

        // v1: the two real servers, nothing to hold yet. --wait returns when both have confirmed.
        let v1 = try lab.specFile(quiet(lab, nodes: ["rs1", "rs2"]), "v1")
        let applied = lab.lbctl("ctl", ["apply", v1, "--yes", "--wait", "--timeout", "30s"])
        XCTAssertEqual(applied.status, 0, applied.output + lab.controllerLog("ctl"))
        XCTAssertTrue(applied.output.contains("v1 converged on all 2 nodes"), applied.output)
        let again = lab.lbctl("ctl", ["apply", v1, "--yes"])
        XCTAssertEqual(again.status, 0)
        XCTAssertTrue(again.output.contains("no changes"), again.output)

        // v2: a VIP with directors d1 and d2, which this kernel cannot give IPVS: the real servers take the
        // VIP on lo and confirm, the directors elect a master but never converge, and --wait names them.
        for n in ["d1", "d2"] { try lab.start(n, seeds: ["ctl", "rs1"]) }
        let full = lab.spec(realServers: ["rs1", "rs2"], directors: [("d1", 100), ("d2", 90)])
        let v2 = try lab.specFile(full, "v2")
        let plan = lab.lbctl("ctl", ["apply", v2, "--yes", "--wait", "--timeout", "8s"])
        XCTAssertEqual(plan.status, 4, plan.output)
        XCTAssertTrue(plan.output.contains("+ address \(vip)/32 on lo"), "the plan diff shows what each node gets:\n\(plan.output)")
        XCTAssertTrue(plan.output.contains("d1 (applied, not converged: this node is a director, but IPVS is not available"), plan.output)
        XCTAssertTrue(plan.output.contains("d2 (applied, not converged: this node is a director, but IPVS is not available"), plan.output)
        XCTAssertFalse(plan.output.contains("rs1 ("), "rs1 confirmed:\n\(plan.output)")
        XCTAssertTrue(lab.holds("rs1", "\(vip)/32", on: "lo"))

        let elected = lab.wait(20) { (try? lab.clusterStatus("ctl"))?.vips.first?.master == "d1" }
        XCTAssertNotNil(elected, "status shows d1 as master of the VIP\n\(lab.controllerLog("ctl"))")
        let status = try lab.clusterStatus("ctl")
        XCTAssertEqual(Set(status.nodes.map(\.name)), ["ctl", "rs1", "rs2", "d1", "d2"])
        XCTAssertTrue(status.nodes.filter { $0.expected }.allSatisfy { $0.member == "alive" && $0.version == 2 }, "\(status.nodes)")
        // The status page, in a real browser: every node, the VIP's master, the health matrix, the timeline.
        let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/artifacts").path
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let dom = try lab.browse("ctl", screenshot: artifacts + "/controller-status-page.png")
        for node in ["rs1", "rs2", "d1", "d2"] { XCTAssertTrue(dom.contains("data-node=\"\(node)\""), "the page lists \(node)") }
        XCTAssertTrue(dom.contains("data-master=\"d1\""), "the page shows d1 as master")
        XCTAssertTrue(dom.contains("<svg id=\"timeline\""), "the page draws the timeline")
        XCTAssertTrue(dom.contains("data-kind=\"version-accepted\""), "the timeline has the applies")
        // `lbctl status --watch` prints the status again when something happens.
        let watch = try lab.lab.start("watch", on: "ctl", [AgentLab.lbctl, "status", "--watch", "--controller", "http://127.0.0.1:\(AgentLab.apiPort)",
                                                           "--key", lab.operatorKeyPath])
        XCTAssertNotNil(lab.wait(10) { watch.output.components(separatedBy: "cluster lab (controller ctl)").count == 2 }, watch.output)
        lab.exec("rs1", ["ip", "addr", "del", "\(vip)/32", "dev", "lo"])
        XCTAssertNotNil(lab.wait(10) { watch.output.components(separatedBy: "cluster lab (controller ctl)").count >= 3 },
                        "the repair's events make --watch print again:\n\(watch.output)")
        watch.stop()
        let table = lab.lbctl("ctl", ["status"])
        XCTAssertTrue(table.output.contains("vip1") && table.output.contains("d1"), table.output)

        // Two operators at once: A reads the plan against v2 and stops at the question (on a terminal, which
        // `script` gives it); B applies v3 meanwhile; A says yes and is refused with who applied what (exit 3).
        var a = full, b = full
        a.vips[0].services[0].realServers[0].weight = 2
        b.vips[0].services[0].realServers[0].weight = 3
        let (fa, fb) = (try lab.specFile(a, "v3a"), try lab.specFile(b, "v3b"))
        let operatorA = Process()
        operatorA.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        let command = [AgentLab.lbctl, "apply", fa, "--controller", "http://127.0.0.1:\(AgentLab.apiPort)", "--key", lab.operatorKeyPath].joined(separator: " ")
        operatorA.arguments = ["netns", "exec", lab.namespace("ctl"), "/usr/bin/script", "-qefc", command, "/dev/null"]
        let (answer, screen) = (Pipe(), Pipe())
        operatorA.standardInput = answer
        operatorA.standardOutput = screen
        operatorA.standardError = screen
        try operatorA.run()
        defer { if operatorA.isRunning { operatorA.terminate() } }
        let seen = Screen(screen.fileHandleForReading)
        XCTAssertNotNil(lab.wait(15) { seen.text.contains("Apply v3?") }, "A is asked to confirm v3:\n\(seen.text)")
        let operatorB = lab.lbctl("ctl", ["apply", fb, "--yes"])
        XCTAssertEqual(operatorB.status, 0, operatorB.output)
        answer.fileHandleForWriting.write(Data("yes\n".utf8))
        operatorA.waitUntilExit()
        XCTAssertEqual(operatorA.terminationStatus, 3, seen.text)
        XCTAssertTrue(seen.text.contains("does not extend the head: v3 was applied"), seen.text)
        XCTAssertTrue(lab.lbctl("ctl", ["get"]).output.contains("weight: 3"), "B's version is the head")

        // Refused at the API and stored nowhere: unsigned, a stranger's document, the same request replayed.
        let head = try XCTUnwrap(lab.lbctl("ctl", ["history", "-o", "json"]).output.data(using: .utf8))
        let before = try APIJSON.decoder().decode(HistoryPage.self, from: head).versions.count
        let forged = try DesiredStateDocument(spec: full, version: 4, issuedAt: Date()).signed(by: [lab.stranger]).jsonEncoded()
        let unsigned = try lab.request("ctl", port: AgentLab.apiPort, "POST", APIRoute.documents, headers: [], body: forged)
        XCTAssertEqual(unsigned.status, 401)
        let signedHeaders = RequestSigning.headers(method: "POST", path: APIRoute.documents, body: forged, key: lab.signer)
        let strangers = try lab.request("ctl", port: AgentLab.apiPort, "POST", APIRoute.documents, headers: signedHeaders, body: forged)
        XCTAssertEqual(strangers.status, 401, String(decoding: strangers.body, as: UTF8.self))
        XCTAssertTrue(String(decoding: strangers.body, as: UTF8.self).contains("document_refused"))
        let replay = try lab.request("ctl", port: AgentLab.apiPort, "POST", APIRoute.documents, headers: signedHeaders, body: forged)
        XCTAssertTrue(String(decoding: replay.body, as: UTF8.self).contains("replayed"), String(decoding: replay.body, as: UTF8.self))
        let after = try APIJSON.decoder().decode(HistoryPage.self, from: Data(lab.lbctl("ctl", ["history", "-o", "json"]).output.utf8)).versions
        XCTAssertEqual(after.count, before)
        XCTAssertNotNil(lab.wait(20) { ["rs1", "rs2", "d1", "d2"].allSatisfy { lab.status($0)?.version == 3 } }, "no agent took the forged document")

        // A drain arrives at every agent as a new version; a rollback to v1 takes the VIP off the real servers.
        let drained = lab.lbctl("ctl", ["drain", "rs1", "--yes"])
        XCTAssertEqual(drained.status, 0, drained.output)
        XCTAssertTrue(drained.output.contains("(rs1): drain none → yes"), drained.output)
        XCTAssertNotNil(lab.wait(20) { ["rs1", "rs2", "d1", "d2"].allSatisfy { lab.status($0)?.version == 4 } }, lab.logs)
        XCTAssertTrue(lab.lbctl("ctl", ["get"]).output.contains("drain: true"))
        let back = lab.lbctl("ctl", ["rollback", "--to", "1", "--yes"])
        XCTAssertEqual(back.status, 0, back.output)
        XCTAssertTrue(back.output.contains("- address \(vip)/32 on lo"), back.output)
        XCTAssertNotNil(lab.wait(20) { !lab.holds("rs1", "\(vip)/32", on: "lo") && lab.status("rs2")?.version == 5 }, lab.logs)
        let diff = lab.lbctl("ctl", ["diff", "1", "2"])
        XCTAssertTrue(diff.output.contains("+ address \(vip)/32 on lo"), diff.output)
        let listed = lab.lbctl("ctl", ["history"]).output
        for v in 1...5 { XCTAssertTrue(listed.contains("v\(v) "), listed) }
    }

    func testTheControllerCrashingMidApplyLosesNothingAndTheClusterGoesOnWithoutIt() throws {
        let lab = try AgentLab(hosts: ["ctl", "ctl2", "rs1", "rs2", "rs3", "x"])
        defer { lab.destroy() }
        let controller = try lab.startController("ctl", seeds: [])
        for n in ["rs1", "rs2"] { try lab.start(n, seeds: ["ctl"]) }
        // A second controller: it stores every version it sees on gossip.
        let second = try lab.startController("ctl2", seeds: ["ctl"])
        let full = lab.spec(realServers: ["rs1", "rs2", "rs3"], directors: [("d1", 100)])
        XCTAssertEqual(lab.lbctl("ctl", ["apply", try lab.specFile(full, "v1"), "--yes"]).status, 0)
        XCTAssertNotNil(lab.wait(20) { lab.lbctl("ctl2", ["history"]).output.contains("v1 ") }, "ctl2 stores v1 from gossip\n\(lab.controllerLog("ctl2"))")

        // Garbage at both of the controller's ports changes and crashes nothing.
        var rng = SplitMix64(seed: UInt64(Date().timeIntervalSince1970 * 1000))
        print("controller-netns garbage: seed \(rng.seed)")
        func noise(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let ns = lab.namespace("ctl")
        for port in [AgentLab.apiPort, AgentLab.pagePort] {
            for _ in 0..<30 { _ = try? Netns.exchange(ns, "127.0.0.1", port, noise(Int.random(in: 1...4096, using: &rng)), timeout: 0.5) }
            _ = try? Netns.exchange(ns, "127.0.0.1", port, Array("GET /v1/status HTTP/1.1\r\nX-Long: \(String(repeating: "a", count: 1 << 20))\r\n\r\n".utf8), timeout: 1)
            _ = try? Netns.exchange(ns, "127.0.0.1", port, Array("POST /v1/documents HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nshort".utf8), timeout: 1)
        }
        for _ in 0..<30 {
            let body = noise(Int.random(in: 0...2048, using: &rng))
            let headers = RequestSigning.headers(method: "POST", path: APIRoute.documents, body: body, key: lab.signer)
            let r = try lab.request("ctl", port: AgentLab.apiPort, "POST", APIRoute.documents, headers: headers, body: body)
            XCTAssertEqual(r.status, 400, "random bytes as a document are a bad request: \(String(decoding: r.body, as: UTF8.self))")
        }
        XCTAssertFalse(controller.hasExited, lab.controllerLog("ctl"))

        // Versions applied one after another while the controller is killed -9 in the middle of them.
        var acknowledged: [UInt64] = []
        let killer = Thread { usleep(300_000); controller.crash() }
        killer.start()
        for w in 2...12 {
            var s = full
            s.vips[0].services[0].realServers[0].weight = w
            let r = lab.lbctl("ctl", ["apply", try lab.specFile(s, "w\(w)"), "--yes"])
            if r.status == 0, let v = r.output.split(separator: "\n").first(where: { $0.hasPrefix("applied v") })?.dropFirst(9).split(separator: " ").first {
                acknowledged.append(UInt64(v)!)
            }
            if r.status != 0 { break }
        }
        XCTAssertTrue(controller.waitForExit(timeout: 5))
        XCTAssertLessThan(acknowledged.count, 11, "the kill came in the middle of the applies")
        let restarted = try lab.startController("ctl", seeds: ["rs1"])
        let page = try APIJSON.decoder().decode(HistoryPage.self, from: Data(lab.lbctl("ctl", ["history", "-o", "json"]).output.utf8))
        let stored = Set(page.versions.map(\.version))
        for v in [1] + acknowledged { XCTAssertTrue(stored.contains(v), "v\(v) was acknowledged, so it must survive kill -9: \(stored.sorted())") }
        XCTAssertEqual(page.versions.map(\.version), Array((1...(page.versions.first?.version ?? 1)).reversed()), "no gap, no corruption")
        let next = try XCTUnwrap(page.versions.first?.version) + 1
        var s = full
        s.vips[0].services[0].realServers[1].weight = 7
        let resumed = lab.lbctl("ctl", ["apply", try lab.specFile(s, "resumed"), "--yes"])
        XCTAssertEqual(resumed.status, 0, resumed.output + lab.controllerLog("ctl"))
        XCTAssertTrue(resumed.output.contains("applied v\(next)"), resumed.output)
        XCTAssertNotNil(lab.wait(20) { ["rs1", "rs2"].allSatisfy { lab.status($0)?.version == next } }, lab.logs)
        XCTAssertNotNil(lab.wait(20) { lab.lbctl("ctl2", ["get"]).output.contains("v\(next) ") }, "ctl2 follows the head")

        // The controller gone: agents keep their state and repair drift, and a new agent gets the document from them.
        restarted.crash()
        XCTAssertTrue(restarted.waitForExit(timeout: 5))
        // The other controller takes the next apply; lbctl, given a dead controller first, uses the one that answers.
        var t = s
        t.vips[0].services[0].realServers[2].weight = 9
        let failover = lab.lbctl("ctl2", ["apply", try lab.specFile(t, "via-ctl2"), "--yes", "--controller", "http://127.0.0.1:1"])
        XCTAssertEqual(failover.status, 0, failover.output + lab.controllerLog("ctl2"))
        XCTAssertTrue(failover.output.contains("applied v\(next + 1)"), failover.output)
        XCTAssertNotNil(lab.wait(20) { ["rs1", "rs2"].allSatisfy { lab.status($0)?.version == next + 1 } }, lab.logs)
        second.crash()
        XCTAssertTrue(second.waitForExit(timeout: 5))

        // No controller at all: agents keep their state and repair drift, and a new agent gets the document from them.
        lab.exec("rs2", ["ip", "addr", "del", "\(vip)/32", "dev", "lo"])
        XCTAssertNotNil(lab.wait(5) { lab.holds("rs2", "\(vip)/32", on: "lo") }, "rs2 repairs its VIP without a controller\n\(lab.log("rs2"))")
        try lab.start("rs3", seeds: ["rs1"])
        XCTAssertNotNil(lab.wait(20) { lab.status("rs3").map { $0.version == next + 1 && $0.converged } ?? false },
                        "rs3 gets v\(next + 1) from its peers\n\(lab.log("rs3"))")
        XCTAssertTrue(lab.holds("rs3", "\(vip)/32", on: "lo"))
    }

    func testTheAPIOverTLSIsReachedByLbctlTrustingTheControllersCertificate() throws {
        let lab = try AgentLab(hosts: ["ctl"])
        defer { lab.destroy() }
        let dir = lab.lab.directory
        let made = shell(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                          "-subj", "/CN=lb-controller", "-addext", "subjectAltName=IP:127.0.0.1",
                          "-keyout", "\(dir)/api.key", "-out", "\(dir)/api.crt"])
        XCTAssertEqual(made.status, 0, "openssl (make deps installs it): \(made.output)")
        chmod("\(dir)/api.key", 0o600)
        try lab.startController("ctl", seeds: [], tls: .init(certificate: "\(dir)/api.crt", key: "\(dir)/api.key"))
        XCTAssertTrue(lab.controllerLog("ctl").contains("(TLS)"), lab.controllerLog("ctl"))
        func status(_ extra: [String]) -> (status: Int32, output: String) {
            lab.exec("ctl", [AgentLab.lbctl, "status", "--key", lab.operatorKeyPath] + extra)
        }
        let trusted = status(["--controller", "https://127.0.0.1:\(AgentLab.apiPort)", "--ca", "\(dir)/api.crt"])
        XCTAssertEqual(trusted.status, 0, trusted.output)
        XCTAssertTrue(trusted.output.contains("cluster lab (controller ctl)"), trusted.output)
        let untrusted = status(["--controller", "https://127.0.0.1:\(AgentLab.apiPort)"])
        XCTAssertNotEqual(untrusted.status, 0, "a certificate nobody vouches for is refused: \(untrusted.output)")
        XCTAssertTrue(untrusted.output.contains("does not verify: pass the CA"), untrusted.output)
        let plain = status(["--controller", "http://127.0.0.1:\(AgentLab.apiPort)"])
        XCTAssertNotEqual(plain.status, 0, "plain HTTP to the TLS listener gets nowhere: \(plain.output)")
        XCTAssertTrue(plain.output.contains("closed the connection without answering"), plain.output)
    }

    func testSystemdHearsReadyOnlyOnceTheAPIListens() throws {
        let lab = try AgentLab(hosts: ["ctl"])
        defer { lab.destroy() }
        mkdir(lab.controllerDirectory("ctl"), 0o755)
        let path = lab.controllerDirectory("ctl") + "/controller.yaml"
        try Lab.write(path, ControllerConfigWriter.yaml(lab.controllerConfig("ctl", seeds: [])))
        let systemd = try NotifySocket(abstract: false)
        let daemon = try lab.lab.start("controller-ctl", on: "ctl", ["env", "NOTIFY_SOCKET=\(systemd.name)",
                                                                    AgentLab.controllerBinary, "run", "--config", path])
        XCTAssertEqual(systemd.receive(), "READY=1\nSTATUS=no version yet; API on 127.0.0.1:\(AgentLab.apiPort)\n", daemon.output)
        // No retry: at READY the API is bound, so the first request is answered (401: it is not signed).
        let answer = try lab.request("ctl", port: AgentLab.apiPort, "GET", "/v1/status", headers: [], body: [])
        XCTAssertEqual(answer.status, 401)
        daemon.signal(SIGTERM)
        var last: String?
        while let next = systemd.receive() {
            last = next
            if next.hasPrefix("STOPPING") { break }
        }
        XCTAssertEqual(last, "STOPPING=1\nSTATUS=stopping\n")
        XCTAssertTrue(daemon.waitForExit(timeout: 10))
        XCTAssertEqual(daemon.exitCode, 0, daemon.output)
    }

    func testTwoMastersForOneRouterIDRaiseTheSplitBrainAlarmUntilOneYields() throws {
        let hosts = ["ctl", "d1", "d2"]
        let lab = try AgentLab(hosts: hosts)
        defer { lab.destroy() }
        // Notifications go to a real SMTP server (aiosmtpd) and a webhook receiver on the controller's loopback.
        let sinks = try lab.startNotificationSinks(on: "ctl", smtpPort: 2525, webhookPort: 8099)
        let secret = "\(lab.lab.directory)/webhook.secret"
        try Lab.write(secret, "s3cret-for-the-lab\n")
        chmod(secret, 0o600)
        try lab.startController("ctl", seeds: [], webhook: .init(url: "http://127.0.0.1:8099/hook", secretFile: secret, retries: 2))
        for n in ["d1", "d2"] { try lab.start(n, seeds: ["ctl"]) }
        var spec = lab.spec(realServers: ["rs1"], directors: [("d1", 100), ("d2", 90)])
        spec.vips[0].services = []
        spec.nodes.removeAll { $0.name == "rs1" }
        spec.notifications.email = EmailNotification(to: ["ops@example.com"], from: "lb@example.com", smtpServer: "127.0.0.1", smtpPort: 2525)
        XCTAssertEqual(lab.lbctl("ctl", ["apply", try lab.specFile(spec, "v1"), "--yes"]).status, 0)
        XCTAssertNotNil(lab.wait(20) { (try? lab.clusterStatus("ctl"))?.vips.first?.masters == ["d1"] }, lab.controllerLog("ctl"))

        // The bridge stops flooding multicast to d2's port: d2 no longer hears d1's adverts and becomes master
        // too, while gossip (unicast) still carries both reports to the controller.
        let bridge = "\(lab.lab.prefix)-sw", port = "p\(hosts.firstIndex(of: "d2")!)"
        XCTAssertEqual(shell(["ip", "netns", "exec", bridge, "bridge", "link", "set", "dev", port, "mcast_flood", "off"]).status, 0)
        let raised = lab.wait(20) { (try? lab.clusterStatus("ctl"))?.alarms.map(\.id) == ["split-brain/51"] }
        XCTAssertNotNil(raised, "two masters raise the alarm\n\(lab.controllerLog("ctl"))")
        let status = try lab.clusterStatus("ctl")
        XCTAssertEqual(status.vips.first?.masters, ["d1", "d2"])
        XCTAssertTrue(status.alarms.first?.message.contains("d1 and d2 are all MASTER of vip1") ?? false, "\(status.alarms)")
        XCTAssertTrue(lab.lbctl("ctl", ["status"]).output.contains("SPLIT BRAIN: d1+d2"))
        let dom = try lab.browse("ctl")
        XCTAssertTrue(dom.contains("data-split-brain"), "the page shows the split brain")

        XCTAssertEqual(shell(["ip", "netns", "exec", bridge, "bridge", "link", "set", "dev", port, "mcast_flood", "on"]).status, 0)
        let cleared = lab.wait(20) { (try? lab.clusterStatus("ctl")).map { $0.alarms.isEmpty && $0.vips.first?.masters == ["d1"] } ?? false }
        XCTAssertNotNil(cleared, "d2 hears d1 again, yields, and the alarm clears\n\(lab.controllerLog("ctl"))")
        XCTAssertTrue(lab.controllerLog("ctl").contains("split-brain-cleared"))

        // Both the alarm and its end reached the SMTP server and the webhook, the webhook signed.
        func mails(_ kind: String) -> [[String: Any]] { lab.received(sinks.mail).filter { ($0["content"] as? String)?.contains(kind) ?? false } }
        func hooks(_ kind: String) -> [[String: Any]] {
            lab.received(sinks.hooks).filter { (($0["headers"] as? [String: String])?["x-lb-event"]) == kind }
        }
        XCTAssertNotNil(lab.wait(15) { !mails("split-brain-cleared").isEmpty && !hooks("split-brain-cleared").isEmpty },
                        "mail: \(lab.received(sinks.mail).count), hooks: \(lab.received(sinks.hooks).count)\n\(lab.controllerLog("ctl"))")
        let mail = try XCTUnwrap(mails("split-brain").first)
        XCTAssertEqual(mail["rcpt_tos"] as? [String], ["ops@example.com"])
        XCTAssertTrue((mail["content"] as? String)?.contains("d1 and d2 are all MASTER") ?? false, "\(mail)")
        let hook = try XCTUnwrap(hooks("split-brain").first)
        let body = try XCTUnwrap(Data(base64Encoded: hook["body"] as? String ?? ""))
        let signature = (hook["headers"] as? [String: String])?["x-lb-signature"]
        XCTAssertEqual(signature, "sha256=" + Hex.encode(HMACSHA256.authenticationCode(for: Array(body), key: SecretBytes(copying: Array("s3cret-for-the-lab".utf8)))))
        XCTAssertTrue(String(decoding: body, as: UTF8.self).contains(#""kind":"split-brain""#))
    }
}

/// Everything a process writes to a pipe, collected as it comes.
final class Screen: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes = Data()

    init(_ handle: FileHandle) {
        handle.readabilityHandler = { [weak self] h in
            let chunk = h.availableData
            guard let self else { return }
            if chunk.isEmpty { h.readabilityHandler = nil; return }
            self.lock.lock(); self.bytes.append(chunk); self.lock.unlock()
        }
    }

    var text: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
