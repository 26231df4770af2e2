import Foundation
import LBSpec
import LBVRRP
import LBVRRPLab
import XCTest

/// lb-agent and real keepalived (the Debian package) as VRRP peers in network namespaces on one bridge:
/// each test builds its own lab and removes it, with every process, even when it fails. Both directions
/// (lb master with keepalived backup and the reverse), v2 with a password and v3 with 0.1 s adverts,
/// takeover after SIGKILL and after SIGTERM, preemption by a returning higher priority and none with
/// nopreempt, a wrong password ignored, unicast peers, and exactly one holder of the VIP in every steady
/// state. Timing bounds here are loose (a shared 2-core machine); the benchmark measures speed.
final class KeepalivedInteropTests: XCTestCase {
    static var agent: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lb-agent").path
    }

    let vip = CIDR("10.99.0.200/24")!

    override func setUpWithError() throws {
        // CI runs as root with keepalived installed (make test installs it); a silent skip would hide that
        // interoperability was never checked.
        guard geteuid() == 0 else {
            XCTFail("KeepalivedInteropTests need root to create network namespaces; run `make test` as root (CI does)")
            throw XCTSkip("not root")
        }
        guard access(keepalivedPath, X_OK) == 0 else {
            XCTFail("keepalived is not installed at \(keepalivedPath); the interop tests need it: apt-get install keepalived (make test installs it)")
            throw XCTSkip("no keepalived")
        }
        XCTAssertEqual(access(Self.agent, X_OK), 0, "lb-agent not built at \(Self.agent)")
    }

    func makeLab(client: Bool = false) throws -> Lab {
        let lab = try Lab(hosts: ["a", "b"], client: client ? "c" : nil)
        addTeardownBlock { lab.destroy() }
        return lab
    }

    func logs(_ speakers: [Speaker]) -> String {
        speakers.map { "--- \($0.implementation.rawValue) on \($0.host):\n\($0.daemon.output)" }.joined(separator: "\n")
    }

    /// Waits until `host` alone holds the VIP; fails with every log when it does not within `timeout`.
    @discardableResult
    func expectHolder(_ lab: Lab, _ host: String, within timeout: Double, _ speakers: [Speaker], _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard let t = lab.wait(timeout: timeout, until: { lab.holders(of: vip.address) == [host] }) else {
            XCTFail("\(what): \(host) did not become the only holder of \(vip) within \(timeout) s (holders: \(lab.holders(of: vip.address).sorted()))\n\(logs(speakers))",
                    file: file, line: line)
            return .infinity
        }
        return t
    }

    /// Samples the VIP's holders for `seconds`: exactly `host`, every time (never two masters, never none).
    func expectSteady(_ lab: Lab, _ host: String, for seconds: Double, _ speakers: [Speaker], file: StaticString = #filePath, line: UInt = #line) {
        let end = Lab.now() + seconds
        while Lab.now() < end {
            let holders = lab.holders(of: vip.address)
            if holders != [host] {
                XCTFail("steady state broken: holders \(holders.sorted()), expected [\(host)]\n\(logs(speakers))", file: file, line: line)
                return
            }
            usleep(50_000)
        }
    }

    func settings(_ priority: Int, _ version: VRRPVersion, preempt: Bool = true, password: String? = nil, peers: [IPAddress] = []) -> PeerSettings {
        PeerSettings(priority: priority, version: version, intervalCentiseconds: version == .v2 ? 100 : 10,
                     password: version == .v2 ? (password ?? "s3cret") : nil, preempt: preempt, unicastPeers: peers)
    }

    // MARK: v2, 1 s adverts, simple password

    func testV2LBMasterWithKeepalivedBackup() throws {
        let lab = try makeLab(client: true)
        var lb = try lab.startAgent(Self.agent, on: "a", settings(150, .v2))
        let ka = try lab.startKeepalived(on: "b", settings(100, .v2))
        expectHolder(lab, "a", within: 6, [lb, ka], "first election")
        expectSteady(lab, "a", for: 1.2, [lb, ka])

        lb.crash()
        lab.removeAddress(vip, from: "a")  // a crashed speaker leaves its VIP behind
        let afterKill = expectHolder(lab, "b", within: 5, [lb, ka], "keepalived takes over after SIGKILL")
        XCTAssertLessThan(afterKill, 4.5)

        // The returning higher priority preempts; its gratuitous ARP moves the client's neighbour entry.
        let client = lab.host("c")
        shell(["ip", "-n", client.namespace, "neigh", "replace", vip.address.description, "lladdr", lab.host("b").macText, "dev", "eth0", "nud", "stale"])
        lb = try lab.startAgent(Self.agent, on: "a", settings(150, .v2), tag: "-2")
        expectHolder(lab, "a", within: 6, [lb, ka], "lb-agent preempts keepalived")
        XCTAssertNotNil(lab.wait(timeout: 1) {
            shell(["ip", "-n", client.namespace, "neigh", "show", vip.address.description]).output.contains(lab.host("a").macText)
        }, "the client's neighbour entry for the VIP did not move to lb-agent's MAC (gratuitous ARP)")
        expectSteady(lab, "a", for: 1.0, [lb, ka])
        XCTAssertTrue(ka.daemon.output.contains("higher priority 150"), ka.daemon.output)

        lb.terminate()
        let afterTerm = expectHolder(lab, "b", within: 2, [lb, ka], "keepalived takes over after SIGTERM (priority 0)")
        XCTAssertLessThan(afterTerm, 1.5, "Skew_Time (0.61 s), not Master_Down_Interval")
        XCTAssertTrue(lb.daemon.waitForExit(timeout: 2))
        XCTAssertEqual(lb.daemon.exitCode, 0)
        XCTAssertTrue(lb.daemon.output.contains("MASTER -> INIT: shut down"), lb.daemon.output)
        XCTAssertTrue(ka.daemon.output.contains("Backup received priority 0 advertisement"), ka.daemon.output)
    }

    // MARK: v3 over IPv6

    /// VRRPv3 over IPv6 both ways: keepalived stays backup behind lb's adverts (it parses them, checksum
    /// over the IPv6 pseudo-header included), takes over on lb's priority-0 resign, and yields to lb
    /// returning with the higher priority.
    func testV3IPv6BetweenLBAndKeepalived() throws {
        let lab = try makeLab()
        let v6 = CIDR("2001:db8:99::200/64")!
        func ipv6(_ priority: Int) -> PeerSettings {
            var s = settings(priority, .v3)
            s.vip = v6
            return s
        }
        func expect(_ host: String, within timeout: Double, _ speakers: [Speaker], _ what: String) -> Double? {
            let t = lab.wait(timeout: timeout) { lab.holders(of: v6.address) == [host] }
            if t == nil { XCTFail("\(what): holders \(lab.holders(of: v6.address).sorted())\n\(logs(speakers))") }
            return t
        }
        // Each link-local address must be through its own DAD before it can send.
        _ = lab.wait(timeout: 5) {
            ["a", "b"].allSatisfy { !shell(["ip", "-n", lab.host($0).namespace, "-6", "addr", "show", "dev", "eth0"]).output.contains("tentative") }
        }
        var lb = try lab.startAgent(Self.agent, on: "a", ipv6(150))
        let ka = try lab.startKeepalived(on: "b", ipv6(100))
        _ = expect("a", within: 6, [lb, ka], "first election")
        let end = Lab.now() + 1.2
        while Lab.now() < end {
            XCTAssertEqual(lab.holders(of: v6.address), ["a"], "keepalived must stay backup\n\(logs([lb, ka]))")
            usleep(100_000)
        }
        lb.terminate()
        let afterTerm = expect("b", within: 3, [lb, ka], "keepalived takes over after lb's resign")
        XCTAssertLessThan(afterTerm ?? 99, 1.5)
        XCTAssertTrue(lb.daemon.waitForExit(timeout: 2))
        XCTAssertTrue(ka.daemon.output.contains("Backup received priority 0 advertisement"), ka.daemon.output)
        lb = try lab.startAgent(Self.agent, on: "a", ipv6(150), tag: "-2")
        _ = expect("a", within: 6, [lb, ka], "lb-agent preempts keepalived")
        XCTAssertTrue(ka.daemon.output.contains("higher priority 150"), ka.daemon.output)
    }

    func testV2KeepalivedMasterWithLBBackup() throws {
        let lab = try makeLab()
        var ka = try lab.startKeepalived(on: "a", settings(150, .v2))
        let lb = try lab.startAgent(Self.agent, on: "b", settings(100, .v2))
        expectHolder(lab, "a", within: 6, [ka, lb], "first election")
        expectSteady(lab, "a", for: 1.2, [ka, lb])

        ka.crash()
        lab.removeAddress(vip, from: "a")
        let afterKill = expectHolder(lab, "b", within: 5, [ka, lb], "lb-agent takes over after SIGKILL")
        XCTAssertLessThan(afterKill, 4.5)
        XCTAssertTrue(lb.daemon.output.contains("BACKUP -> MASTER: no advertisement from 10.99.0.1"), lb.daemon.output)

        ka = try lab.startKeepalived(on: "a", settings(150, .v2), tag: "-2")
        expectHolder(lab, "a", within: 6, [ka, lb], "keepalived preempts lb-agent")
        expectSteady(lab, "a", for: 1.0, [ka, lb])
        XCTAssertTrue(lb.daemon.output.contains("MASTER -> BACKUP: advertisement from 10.99.0.1 with priority 150 wins"), lb.daemon.output)

        ka.terminate()
        let afterTerm = expectHolder(lab, "b", within: 2, [ka, lb], "lb-agent takes over after SIGTERM (priority 0)")
        XCTAssertLessThan(afterTerm, 1.5)
        XCTAssertTrue(lb.daemon.output.contains("master 10.99.0.1 resigned (priority 0)"), lb.daemon.output)
        XCTAssertEqual(lb.daemon.output.components(separatedBy: "discarded").count - 1, 0, "no advert of keepalived's was discarded:\n\(lb.daemon.output)")
    }

    // MARK: v3, 0.1 s adverts

    func testV3LBMasterWithKeepalivedBackup() throws {
        let lab = try makeLab()
        var lb = try lab.startAgent(Self.agent, on: "a", settings(150, .v3))
        let ka = try lab.startKeepalived(on: "b", settings(100, .v3))
        expectHolder(lab, "a", within: 3, [lb, ka], "first election")
        expectSteady(lab, "a", for: 0.6, [lb, ka])

        lb.crash()
        lab.removeAddress(vip, from: "a")
        XCTAssertLessThan(expectHolder(lab, "b", within: 2, [lb, ka], "keepalived takes over after SIGKILL"), 1.0)

        lb = try lab.startAgent(Self.agent, on: "a", settings(150, .v3), tag: "-2")
        expectHolder(lab, "a", within: 3, [lb, ka], "lb-agent preempts")
        expectSteady(lab, "a", for: 0.5, [lb, ka])

        lb.terminate()
        XCTAssertLessThan(expectHolder(lab, "b", within: 2, [lb, ka], "keepalived takes over after SIGTERM"), 0.5)
        XCTAssertTrue(lb.daemon.waitForExit(timeout: 2))
        XCTAssertEqual(lb.daemon.exitCode, 0)

        // Returning with nopreempt: keepalived stays master.
        lb = try lab.startAgent(Self.agent, on: "a", settings(150, .v3, preempt: false), tag: "-3")
        expectSteady(lab, "b", for: 1.2, [lb, ka])
        XCTAssertTrue(lb.daemon.output.contains("INIT -> BACKUP"), lb.daemon.output)
        XCTAssertFalse(lb.daemon.output.contains("-> MASTER"), lb.daemon.output)
    }

    func testV3KeepalivedMasterWithLBBackup() throws {
        let lab = try makeLab()
        var ka = try lab.startKeepalived(on: "a", settings(150, .v3))
        let lb = try lab.startAgent(Self.agent, on: "b", settings(100, .v3))
        expectHolder(lab, "a", within: 3, [ka, lb], "first election")
        expectSteady(lab, "a", for: 0.6, [ka, lb])

        ka.crash()
        lab.removeAddress(vip, from: "a")
        XCTAssertLessThan(expectHolder(lab, "b", within: 2, [ka, lb], "lb-agent takes over after SIGKILL"), 1.0)

        ka = try lab.startKeepalived(on: "a", settings(150, .v3), tag: "-2")
        expectHolder(lab, "a", within: 3, [ka, lb], "keepalived preempts")
        expectSteady(lab, "a", for: 0.5, [ka, lb])

        ka.terminate()
        XCTAssertLessThan(expectHolder(lab, "b", within: 2, [ka, lb], "lb-agent takes over after SIGTERM"), 0.5)
        XCTAssertTrue(ka.daemon.waitForExit(timeout: 3))

        ka = try lab.startKeepalived(on: "a", settings(150, .v3, preempt: false), tag: "-3")
        expectSteady(lab, "b", for: 1.2, [ka, lb])
        XCTAssertTrue(ka.daemon.output.contains("Entering BACKUP STATE"), ka.daemon.output)
        XCTAssertFalse(ka.daemon.output.contains("Entering MASTER STATE"), ka.daemon.output)
    }

    /// Every keepalived.conf these tests write passes keepalived's own checker (`keepalived -t`) silently,
    /// so the comparison runs keepalived as configured, not as it guessed.
    func testGeneratedKeepalivedConfigurationsPassKeepalivedsChecker() throws {
        let directory = NSTemporaryDirectory() + "lbvrrp-conf-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        let variants = [settings(150, .v2), settings(100, .v3), settings(150, .v3, preempt: false),
                        settings(100, .v3, peers: [IPAddress("10.99.0.1")!]), settings(100, .v2, password: "12345678")]
        for (i, variant) in variants.enumerated() {
            let path = "\(directory)/\(i).conf"
            try Lab.write(path, variant.keepalivedConfiguration(routerID: "check", source: IPAddress("10.99.0.2")!))
            let (status, output) = shell([keepalivedPath, "-t", "-f", path])
            XCTAssertEqual(status, 0, "\(variant.keepalivedConfiguration(routerID: "check", source: IPAddress("10.99.0.2")!))\n\(output)")
            XCTAssertEqual(output, "", output)
        }
    }

    // MARK: misconfiguration and alternatives

    /// keepalived with a higher priority but the wrong password: lb-agent discards its adverts (counted and
    /// logged, once) and stays master; keepalived likewise ignores lb-agent's. Both masters is what a
    /// password mismatch means; what matters is that a stranger cannot take the VIP.
    func testWrongPasswordIsIgnored() throws {
        let lab = try makeLab()
        let lb = try lab.startAgent(Self.agent, on: "a", settings(100, .v2, password: "s3cret"))
        let ka = try lab.startKeepalived(on: "b", settings(200, .v2, password: "guess"))
        XCTAssertNotNil(lab.wait(timeout: 6) { lab.holders(of: vip.address) == ["a", "b"] }, logs([lb, ka]))
        usleep(1_500_000)
        XCTAssertEqual(lab.holders(of: vip.address), ["a", "b"])
        XCTAssertTrue(lb.daemon.output.contains("discarded advertisement from 10.99.0.2: wrong password [authentication]"), lb.daemon.output)
        XCTAssertFalse(lb.daemon.output.contains("MASTER -> BACKUP"), lb.daemon.output)
        XCTAssertEqual(lb.daemon.output.components(separatedBy: "wrong password").count - 1, 1, "logged once, not once per advert")
        XCTAssertTrue(ka.daemon.output.contains("invalid passwd"), ka.daemon.output)
    }

    func testUnicastPeers() throws {
        let lab = try makeLab()
        let a = lab.host("a").address, b = lab.host("b").address
        let lb = try lab.startAgent(Self.agent, on: "a", settings(150, .v3, peers: [b]))
        let ka = try lab.startKeepalived(on: "b", settings(100, .v3, peers: [a]))
        expectHolder(lab, "a", within: 3, [lb, ka], "first election over unicast")
        expectSteady(lab, "a", for: 0.6, [lb, ka])
        lb.terminate()
        XCTAssertLessThan(expectHolder(lab, "b", within: 2, [lb, ka], "keepalived takes over after SIGTERM over unicast"), 0.5)
        XCTAssertTrue(ka.daemon.output.contains("Backup received priority 0 advertisement"), ka.daemon.output)
    }

    /// The notify script gets keepalived's arguments; the command line refuses what cannot run.
    func testNotifyScriptAndCommandLine() throws {
        let lab = try makeLab()
        let script = lab.directory + "/notify.sh"
        try Lab.write(script, "#!/bin/sh\necho \"$@\" >> \(lab.directory)/notified\n")
        chmod(script, 0o755)
        var args = settings(100, .v3).agentArguments(agent: Self.agent)
        args += ["--notify", script]
        let d = try lab.start("lb-notify", on: "a", args)
        XCTAssertNotNil(lab.wait(timeout: 3) { lab.holders(of: vip.address) == ["a"] }, d.output)
        d.signal(SIGINT)
        XCTAssertTrue(d.waitForExit(timeout: 2), d.output)
        XCTAssertEqual(d.exitCode, 0)
        XCTAssertNotNil(lab.wait(timeout: 2) { (Lab.read(lab.directory + "/notified") ?? "").split(separator: "\n").count == 3 })
        XCTAssertEqual(Lab.read(lab.directory + "/notified")?.split(separator: "\n").sorted(),
                       ["INSTANCE VI_51 BACKUP 100", "INSTANCE VI_51 MASTER 100", "INSTANCE VI_51 STOP 100"])
        XCTAssertEqual(lab.holders(of: vip.address), [], "SIGINT removed the VIP")

        let bad = shell([Self.agent, "vrrp", "--interface", "eth0", "--vrid", "51", "--priority", "100", "--vip", "10.99.0.200/24",
                       "--version", "3", "--advert-interval", "0.1", "--auth-pass", "s3cret"])
        XCTAssertEqual(bad.status, 64, bad.output)
        XCTAssertTrue(bad.output.contains("VRRPv3 has no authentication"), bad.output)
        let fractional = shell([Self.agent, "vrrp", "--interface", "eth0", "--vrid", "51", "--priority", "100", "--vip", "10.99.0.200/24",
                              "--advert-interval", "0.5"])
        XCTAssertEqual(fractional.status, 64, fractional.output)
        XCTAssertTrue(fractional.output.contains("use --version 3"), fractional.output)
    }
}
