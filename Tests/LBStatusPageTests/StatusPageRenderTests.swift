import Foundation
import LBClusterView
@testable import LBStatusPage
import XCTest

/// The page as a string: escaping, the sections and the attributes Chromium tests and the controller's
/// tests look for, split brain, laggards, the health matrix, the timeline and the SSE framing.
final class StatusPageRenderTests: XCTestCase {
    let now = Fixtures.now

    func page(_ status: ClusterStatus = Fixtures.status(), events: [ClusterEvent] = Fixtures.events) -> String {
        StatusPage.render(status: status, events: events, now: now)
    }

    func testEscapeCoversTheCharactersThatEndTextOrAttributes() {
        XCTAssertEqual(StatusPage.escape(#"<a href='x' title="y">&amp;</a>"#),
                       "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;amp;&lt;/a&gt;")
        XCTAssertEqual(StatusPage.escape("plain ünïcödé ✓"), "plain ünïcödé ✓")
        // A combining mark after `<` makes one Character of both: the `<` must still be escaped.
        XCTAssertEqual(StatusPage.escape("<\u{301}b>"), "&lt;\u{301}b&gt;")
        XCTAssertEqual(StatusPage.escape(""), "")
    }

    func testAScriptInANodeErrorIsRenderedInert() {
        let html = page()
        XCTAssertTrue(html.contains("&lt;script&gt;document.body.setAttribute(&#39;data-pwned&#39;,&#39;1&#39;)&lt;/script&gt;"), html)
        XCTAssertTrue(html.contains("&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;"))
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 1, "only the page's own script")
        XCTAssertFalse(html.contains("<img"))
    }

    func testHostileNamesStayInsideTheirAttributes() {
        var status = Fixtures.status()
        status.nodes[1].name = #"x" onmouseover="alert(1)"#
        status.cluster = "</title><script>alert(2)</script>"
        let html = page(status)
        XCTAssertTrue(html.contains(#"data-node="x&quot; onmouseover=&quot;alert(1)""#))
        XCTAssertFalse(html.contains("onmouseover=\"alert"))
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 1)
    }

    func testEveryPartIsPresentAndNothingIsFetched() {
        let html = page(Fixtures.status(splitBrain: true))
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        for id in ["conn", "live", "summary", "cluster", "controller", "head", "generated", "node-counts", "alarms", "vips", "convergence",
                   "health", "health-matrix", "events", "timeline", "event-list", "nodes", "expected-nodes", "other-nodes"] {
            XCTAssertTrue(html.contains("id=\"\(id)\""), "no element with id \(id)")
        }
        XCTAssertTrue(html.contains(#"<dd id="head" data-version="12" data-digest="sha256:0123456789abcdef0123456789abcdef">"#))
        XCTAssertTrue(html.contains("sha256:0123456789ab</code>"), "the short digest")
        XCTAssertTrue(html.contains(#"<code class="signer">ops-alice</code>, <code class="signer">ops-bob</code>"#))
        XCTAssertTrue(html.contains(#"<time id="generated" datetime="2026-05-28T20:26:40Z">"#))
        XCTAssertTrue(html.contains(#"<time datetime="2026-05-28T20:16:40Z" title="2026-05-28T20:16:40Z">10 min ago</time>"#), "accepted")
        // Self-contained: no external script, style sheet, font or image; the only link is the empty icon.
        for external in [" src=\"", "https://", "@import", "url(", "@font-face"] {
            XCTAssertFalse(html.contains(external), "references \(external)")
        }
        XCTAssertFalse(html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"))
        XCTAssertEqual(html.components(separatedBy: "<link").count - 1, 1)
        XCTAssertTrue(html.contains(#"<link rel="icon" href="data:,">"#))
        XCTAssertTrue(html.contains("new EventSource(\"events\")"), "relative URL, so any prefix works")
    }

    func testTheFragmentIsTheContentOfMain() {
        let fragment = StatusPage.fragment(status: Fixtures.status(), events: Fixtures.events, now: now)
        XCTAssertTrue(page().contains("<main id=\"live\">" + fragment + "</main>"))
        XCTAssertFalse(fragment.contains("<main"))
        XCTAssertFalse(fragment.contains("<script"))
    }

    func testSplitBrainIsAnAlarmInRedWithItsMessageAndNodes() {
        let html = page(Fixtures.status(splitBrain: true))
        XCTAssertTrue(html.contains(#"<section id="alarms" data-count="1">"#))
        XCTAssertTrue(html.contains(#"<li class="alarm" data-alarm="split-brain/vip-ws" data-kind="split-brain"><strong>SPLIT BRAIN</strong> <span class="message">vip-ws has 2 masters: d1, d2</span> · nodes: <span data-alarm-node="d1">d1</span>, <span data-alarm-node="d2">d2</span>"#), html)
        XCTAssertTrue(html.contains(".alarm[data-kind=split-brain]{border-color:var(--bad)"), "red")
        XCTAssertTrue(html.contains(#"<tr class="split" data-vip="vip-ws" data-masters="2" data-split-brain="true">"#))
        XCTAssertTrue(html.contains(#"<td class="master bad" data-master="d1 d2">split brain: d1, d2</td>"#))

        let calm = page()
        XCTAssertTrue(calm.contains(#"<section id="alarms" data-count="0"><h2>Alarms</h2><p class="ok">No open alarms.</p>"#))
        XCTAssertTrue(calm.contains(#"<tr data-vip="vip-ws" data-masters="1" data-split-brain="false">"#))
        XCTAssertTrue(calm.contains(#"<td class="master" data-master="d1">d1</td>"#))
    }

    func testAVIPWithoutAMasterSaysNoneInRed() {
        var status = Fixtures.status()
        status.vips[1].master = nil
        status.vips[1].masters = []
        XCTAssertTrue(page(status).contains(#"<td class="master bad" data-master="none">none</td>"#))
    }

    func testVIPsListTheirDirectorsWithTheirStates() {
        let html = page()
        XCTAssertTrue(html.contains(#"<span class="vrrp" data-director="d2" data-state="MASTER">d2 MASTER</span><span class="vrrp" data-director="d1" data-state="BACKUP">d1 BACKUP</span>"#))
    }

    func testNodesOfTheSpecComeFirstAndLaggardsAreMarked() {
        let html = page()
        let order = html.components(separatedBy: "<tr data-node=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        XCTAssertEqual(order, ["d1", "d2", "rs1", "rs2", "rs3", "stranger", "c1"])
        XCTAssertTrue(html.contains(#"<tr data-node="rs3" data-member="alive" data-expected="true" data-version="11" data-converged="true" data-lagging="true">"#))
        XCTAssertTrue(html.contains("<td class=\"version\">v11 · behind by 1 · converged</td>"))
        XCTAssertTrue(html.contains(#"<tr data-node="rs2" data-member="alive" data-expected="true" data-version="12" data-converged="false" data-lagging="false">"#))
        XCTAssertTrue(html.contains("<td class=\"version\">v12 · applying</td>"))
        // Outside the spec an old version is no laggard.
        XCTAssertTrue(html.contains(#"<tr data-node="stranger" data-member="alive" data-expected="false" data-version="10" data-converged="false" data-lagging="false">"#))
        XCTAssertTrue(html.contains(#"<tr data-node="c1" data-member="alive" data-expected="false" data-version="none""#))
        XCTAssertTrue(html.contains(#"data-total="7" data-alive="7" data-suspect="0" data-dead="0" data-left="0" data-unknown="0" data-lagging="1">"#))
        XCTAssertTrue(html.contains("1 behind the head"))
    }

    func testANodeRowHasVRRPConnectionsRepairsAndError() {
        let html = page()
        XCTAssertTrue(html.contains(#"<span class="vrrp" data-vrrp="vip-ws" data-state="MASTER" title="router 51, priority 150">vip-ws MASTER</span>"#))
        XCTAssertTrue(html.contains(#"<td class="num">120 / 30</td><td class="num" data-repairs="3" title="address: 1, route: 2">3</td>"#))
        XCTAssertTrue(html.contains(#"<td class="err" data-error="true">&lt;script&gt;"#))
        XCTAssertTrue(html.contains(#">1 min ago</time>"#), "rs2 reported 90 s ago")
    }

    func testMemberStatesShowAsTextAndAttribute() {
        let html = page(Fixtures.status(rs2: "dead"))
        XCTAssertTrue(html.contains(#"<tr data-node="rs2" data-member="dead""#))
        XCTAssertTrue(html.contains(#"<td class="member">dead</td>"#))
        XCTAssertTrue(html.contains(#"data-alive="6" data-suspect="0" data-dead="1""#))
    }

    func testTheHealthMatrixHasARowPerEndpointAndACellPerDirector() {
        let html = page()
        XCTAssertTrue(html.contains(#"<thead><tr><th>Real server</th><th data-director="d1">d1</th><th data-director="d2">d2</th></tr></thead>"#))
        XCTAssertTrue(html.contains(#"<tbody data-service="tcp 192.168.1.200:443"><tr><th colspan="3">tcp 192.168.1.200:443</th></tr>"#))
        XCTAssertTrue(html.contains(#"<tr data-endpoint="10.0.0.12:443"><td>10.0.0.12:443</td><td data-director="d1" data-health="up" title="weight 50, 0 active">up</td><td data-director="d2" data-health="down" title="weight 50, 0 active">down</td></tr>"#))
        XCTAssertTrue(html.contains(#"<tr data-endpoint="10.0.0.11:80"><td>10.0.0.11:80</td><td data-director="d1" data-health="drain" title="weight 0, 2 active">drain</td><td data-director="d2" data-health="absent" title="not reported by this director">—</td></tr>"#))
        XCTAssertEqual(html.components(separatedBy: "<tr data-endpoint=").count - 1, 3)
    }

    func testConvergenceListsConvergedApplyingAndPendingWithReasons() {
        let html = page()
        XCTAssertTrue(html.contains(#"<div class="conv" data-convergence="12" data-complete="false" data-converged="3" data-applying="1" data-pending="1"><h3>v12 · 3 of 5 converged, 1 applying, 1 pending</h3>"#))
        XCTAssertTrue(html.contains(#"<li data-pending-node="rs3" data-reason="refused: signature by unknown key"><strong>rs3</strong> at v11: refused: signature by unknown key</li>"#))
        XCTAssertTrue(html.contains(#"<div class="conv" data-convergence="11" data-complete="true""#))
        XCTAssertTrue(html.contains("v11 · complete: all 5 converged"))
    }

    func testTheTimelineHasOneTitledMarkPerEventAndTheListTheNewestFirst() {
        let html = page()
        let marks = html.components(separatedBy: "<circle data-kind=\"").dropFirst()
        XCTAssertEqual(marks.count, Fixtures.events.count)
        XCTAssertTrue(marks.allSatisfy { $0.contains("<title>") })
        XCTAssertTrue(html.contains(#"<circle data-kind="real-server-down" cx=""#))
        XCTAssertTrue(html.contains("<title>2026-05-28T20:21:40Z · real-server-down · d2 · 10.0.0.12:443 down</title>"))
        // The axis covers the last hour, ending now, as the events all fall in it.
        XCTAssertTrue(html.contains(#"data-start="2026-05-28T19:26:40Z" data-end="2026-05-28T20:26:40Z" data-marks="7""#))
        let listed = html.components(separatedBy: "<li data-event=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        XCTAssertEqual(listed, ["7", "6", "5", "4", "3", "2", "1"])
        XCTAssertTrue(html.contains(#"<span data-legend="real-server-down">"#))
    }

    func testTheTimelineSpansOlderEventsAndCapsTheList() {
        let events = (0..<120).map { i in ClusterEvent(id: Int64(i), at: now - Double(7200 - i * 60), kind: .nodeProgress, message: "p\(i)") }
        let html = page(events: events)
        XCTAssertTrue(html.contains(#"data-start="2026-05-28T18:26:40Z" data-end="2026-05-28T20:26:40Z" data-marks="120""#))
        XCTAssertEqual(html.components(separatedBy: "<li data-event=\"").count - 1, 50)
        XCTAssertTrue(html.contains("<li data-event=\"119\""))
        XCTAssertFalse(html.contains("<li data-event=\"69\""))
    }

    func testAnEmptyClusterStillRendersEverySection() {
        let html = StatusPage.render(status: ClusterStatus(cluster: "new", controller: "c1", generatedAt: now), events: [], now: now)
        for id in ["alarms", "vips", "convergence", "health", "events", "timeline", "nodes"] { XCTAssertTrue(html.contains("id=\"\(id)\"")) }
        XCTAssertTrue(html.contains(#"<dd id="head" data-version="none" class="mute">no version accepted yet</dd>"#))
        XCTAssertTrue(html.contains("No events in this window."))
    }

    func testAnSSEMessagePrefixesEveryLineAndEndsWithABlankLine() {
        XCTAssertEqual(StatusPage.sseMessage(fragment: "<p>a</p>"), "event: status\ndata: <p>a</p>\n\n")
        XCTAssertEqual(StatusPage.sseMessage(fragment: "a\nb\r\nc\rd\n"), "event: status\ndata: a\ndata: b\ndata: c\ndata: d\ndata: \n\n")
        // What EventSource rebuilds (data lines joined by LF) is the fragment, CRs as LFs.
        let fragment = StatusPage.fragment(status: Fixtures.status(splitBrain: true), events: Fixtures.events, now: now)
        XCTAssertEqual(Self.eventSourceData(StatusPage.sseMessage(fragment: fragment)), fragment)
    }

    /// The data of the one event in `message`, as the SSE parsing rules build it.
    static func eventSourceData(_ message: String) -> String {
        XCTAssertTrue(message.hasSuffix("\n\n"))
        let lines = message.dropLast(2).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "event: status")
        return lines.dropFirst().map { line in
            XCTAssertTrue(line.hasPrefix("data: "), String(line))
            return String(line.dropFirst(6))
        }.joined(separator: "\n")
    }

    /// The CSP allows only the script whose hash it names: the constant must follow the script.
    func testTheScriptHashInThePolicyIsTheScriptsHash() throws {
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["dgst", "-sha256", "-binary"]
        let input = Pipe(), output = Pipe()
        openssl.standardInput = input
        openssl.standardOutput = output
        try openssl.run()
        input.fileHandleForWriting.write(Data(StatusPage.script.literal.utf8))
        try input.fileHandleForWriting.close()
        let digest = output.fileHandleForReading.readDataToEndOfFile()
        openssl.waitUntilExit()
        XCTAssertEqual(digest.count, 32, "openssl is needed: run `make deps`")
        XCTAssertEqual(StatusPage.scriptHash.literal, "sha256-" + digest.base64EncodedString())
    }

    func testAThousandNodesRenderInOneLinearPass() {
        let (status, events) = Fixtures.large(nodes: 1000)
        _ = StatusPage.render(status: status, events: events, now: now)
        let clock = ContinuousClock()
        var html = ""
        let one = clock.measure { html = StatusPage.render(status: status, events: events, now: now) }
        XCTAssertEqual(html.components(separatedBy: "<tr data-node=").count - 1, 1000)
        let (big, bigEvents) = Fixtures.large(nodes: 4000)
        let four = clock.measure { _ = StatusPage.render(status: big, events: bigEvents, now: now) }
        print("render: 1,000 nodes \(one) (\(html.utf8.count) bytes), 4,000 nodes \(four)")
        // Debug build: the release build is several times faster (lb-bench status-page).
        XCTAssertLessThan(one, .milliseconds(500))
        // Four times the nodes in well under sixteen times the time: nothing quadratic.
        XCTAssertLessThan(four, one * 8)
    }
}
