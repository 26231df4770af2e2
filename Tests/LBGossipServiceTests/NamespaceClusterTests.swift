import Foundation
import LBCrypto
import LBDocument
import LBSpec
import LBVRRPLab
import XCTest

/// `lb-agent gossip` as separate processes in network namespaces on one bridge (10.99.0.0/24): real
/// interfaces, real UDP and TCP between hosts, a crash by SIGKILL and a graceful leave by SIGTERM.
final class NamespaceClusterTests: XCTestCase {
    static var agent: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lb-agent").path
    }

    override func setUpWithError() throws {
        // CI runs as root; a silent skip would hide that the multi-process check never ran.
        guard geteuid() == 0 else {
            XCTFail("NamespaceClusterTests need root to create network namespaces; run `make test` as root (CI does)")
            throw XCTSkip("not root")
        }
        XCTAssertEqual(access(Self.agent, X_OK), 0, "lb-agent not built at \(Self.agent)")
    }

    /// The last event of each kind a member's log shows: status per member name, versions held.
    struct View {
        var status: [String: String] = [:]
        var documents: [UInt64] = []
        var reports: [String: String] = [:]
    }

    func view(_ log: String) -> View {
        var v = View()
        for line in (Lab.read(log) ?? "").split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            switch object["event"] as? String {
            case "member": if let n = object["name"] as? String, let s = object["status"] as? String { v.status[n] = s }
            case "document": if let n = object["version"] as? Int { v.documents.append(UInt64(n)) }
            case "report": if let n = object["name"] as? String, let t = object["text"] as? String { v.reports[n] = t }
            default: break
            }
        }
        return v
    }

    func testSeparateProcessesJoinShareADocumentAndSeeACrashAndALeave() throws {
        let names = ["g1", "g2", "g3", "g4", "g5"]
        let lab = try Lab(hosts: names)
        defer { lab.destroy() }
        let signer = SigningKey.generate()
        let keyring = "\(lab.directory)/cluster.keyring", trust = "\(lab.directory)/operator.pub", doc = "\(lab.directory)/doc.json"
        try KeyFile.writeKeyring(Keyring(keys: [ClusterKey.generate()]), to: keyring)
        try KeyFile.writePublicKeys([KeyFileEntry(key: signer.publicKey)], to: trust)
        let envelope = try DesiredStateDocument(spec: ClusterSpec(cluster: "web"), version: 7, issuedAt: Date()).signed(by: [signer])
        try Lab.write(doc, String(decoding: envelope.jsonEncoded(), as: UTF8.self))

        var daemons: [String: Daemon] = [:]
        for (i, name) in names.enumerated() {
            let address = lab.host(name).address
            var args = [Self.agent, "gossip", "--name", name, "--listen", "\(address):7946", "--keyring", keyring,
                        "--trust", trust, "--cluster", "web", "--profile", "fast", "--report", "\(name) healthy"]
            if i == 0 { args += ["--publish", doc] } else { args += ["--seed", "\(lab.host("g1").address):7946"] }
            daemons[name] = try lab.start(name, on: name, args)
        }
        let log = { (name: String) in "\(lab.directory)/\(name).log" }
        let together = lab.wait(timeout: 30) {
            names.allSatisfy { n in
                let v = view(log(n))
                return v.documents.contains(7) && names.allSatisfy { v.status[$0] == "alive" } && v.reports.count == names.count
            }
        }
        XCTAssertNotNil(together, "five processes know each other alive, hold v7 and every report; g2's log:\n\(Lab.read(log("g2")) ?? "")")

        daemons["g3"]!.crash()
        let others = names.filter { $0 != "g3" }
        let dead = lab.wait(timeout: 30) { others.allSatisfy { view(log($0)).status["g3"] == "dead" } }
        XCTAssertNotNil(dead, "a process killed by SIGKILL is declared dead by every other; g1's log:\n\(Lab.read(log("g1")) ?? "")")

        daemons["g4"]!.signal(SIGTERM)
        let rest = others.filter { $0 != "g4" }
        let left = lab.wait(timeout: 20) { rest.allSatisfy { view(log($0)).status["g4"] == "left" } }
        XCTAssertNotNil(left, "SIGTERM is a graceful leave: left, not dead")
        XCTAssertNotNil(lab.wait(timeout: 5) { daemons["g4"]!.hasExited }, "and the process exits")
        print("gossip-netns: 5 processes converged in \(together.map { String(format: "%.2f s", $0) } ?? "never"), crash seen dead by all in \(dead.map { String(format: "%.2f s", $0) } ?? "never"), leave seen in \(left.map { String(format: "%.2f s", $0) } ?? "never")")
    }
}
