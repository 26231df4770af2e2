import Foundation
import LBAgentConfig
import LBControllerConfig
import LBCrypto
import LBSpec
import XCTest

/// `lbctl init --spec SPEC --out DIR`: the bundle every host is set up from.
final class InitBundleCommandTests: XCTestCase {
    var reference: String { CommandRunner.packageRoot.appendingPathComponent("examples/reference.yaml").path }

    /// Key ids differ on every run; the rest of the output must not.
    func masked(_ text: String) -> String {
        text.replacingOccurrences(of: "ed25519:[0-9a-f]{16}", with: "ed25519:ID", options: .regularExpression)
            .replacingOccurrences(of: "cluster key [0-9a-f]+;", with: "cluster key ID;", options: .regularExpression)
    }

    func mode(_ path: String) throws -> Int {
        try XCTUnwrap((FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue)
    }

    func endpoints(_ list: [String]) -> [Endpoint] { list.compactMap(Endpoint.init) }

    func testBundleHasKeysAndALoadableConfigurationForEveryHost() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let out = dir.appendingPathComponent("bundle").path
        let r = try CommandRunner.run("lbctl", ["init", "--spec", reference, "--out", out, "--controller-address", "192.168.1.10"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(masked(r.stdout), """
        wrote \(out)/operator.key (secret: signs documents, signing key ed25519:ID; keep it off the hosts)
        wrote \(out)/operator.pub (the operator's public key)
        wrote \(out)/operators.pub (the trust list: /etc/lb/operators.pub on every host)
        wrote \(out)/cluster.keyring (secret: seals gossip, cluster key ID; /etc/lb/cluster.keyring on every host)
        wrote \(out)/nodes/lvs1/agent.yaml
        wrote \(out)/nodes/lvs2/agent.yaml
        wrote \(out)/nodes/rs1/agent.yaml
        wrote \(out)/nodes/rs2/agent.yaml
        wrote \(out)/controller/controller.yaml

        """)
        XCTAssertEqual(try mode(out), 0o700)
        XCTAssertEqual(try mode(out + "/operator.key"), 0o600)
        XCTAssertEqual(try mode(out + "/cluster.keyring"), 0o600)
        XCTAssertEqual(try mode(out + "/operators.pub"), 0o644)

        let addresses = ["lvs1": "192.168.1.100", "lvs2": "192.168.1.101", "rs1": "192.168.1.102", "rs2": "192.168.1.103"]
        for (node, address) in addresses {
            let file = "\(out)/nodes/\(node)/agent.yaml"
            let loaded = AgentConfigLoader.load(file: file)
            XCTAssertEqual(loaded.diagnostics.map(\.description), [], file)
            let config = try XCTUnwrap(loaded.config, file)
            let others = addresses.filter { $0.key != node }.sorted { $0.value < $1.value }.map { "\($0.value):7946" }
            XCTAssertEqual(config, AgentConfig(node: node, cluster: "web",
                                               gossip: .init(listen: Endpoint("\(address):7946")!, seeds: endpoints(others + ["192.168.1.10:7946"]))))
            // The paths the packages use, so the file goes into /etc/lb unchanged.
            XCTAssertEqual([config.keyring, config.trust.keys, config.stateDirectory], ["/etc/lb/cluster.keyring", "/etc/lb/operators.pub", "/var/lib/lb"])
        }
        let controller = ControllerConfigLoader.load(file: "\(out)/controller/controller.yaml")
        XCTAssertEqual(controller.diagnostics.map(\.description), [])
        XCTAssertEqual(controller.config, ControllerConfig(name: "controller", cluster: "web",
                                                           gossip: .init(listen: Endpoint("192.168.1.10:7946")!,
                                                                         seeds: endpoints(addresses.values.sorted().map { "\($0):7946" }))))

        // The trust list holds the operator key's own public half: what it signs, the agents accept.
        let doc = dir.appendingPathComponent("v1.json").path
        var s = try CommandRunner.run("lbctl", ["sign", reference, "--key", out + "/operator.key", "--version", "1", "--out", doc])
        XCTAssertEqual(s.status, 0, s.stderr)
        s = try CommandRunner.run("lbctl", ["verify", doc, "--trust", out + "/operators.pub", "--cluster", "web"])
        XCTAssertEqual(s.status, 0, s.stdout + s.stderr)
        XCTAssertNoThrow(try KeyFile.readKeyring(at: out + "/cluster.keyring"))
    }

    func testRerunAddsOnlyTheMissingNodesAndKeepsEveryKey() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let out = dir.appendingPathComponent("bundle").path
        var r = try CommandRunner.run("lbctl", ["init", "--spec", reference, "--out", out, "--controller-address", "192.168.1.10:7950"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let kept = ["operator.key", "operator.pub", "operators.pub", "cluster.keyring", "nodes/lvs1/agent.yaml", "controller/controller.yaml"]
        // An operator's edit of a host's file survives, as every key does.
        try "# edited\n".write(toFile: out + "/nodes/rs1/agent.yaml", atomically: true, encoding: .utf8)
        let before = try (kept + ["nodes/rs1/agent.yaml"]).map { try Data(contentsOf: URL(fileURLWithPath: "\(out)/\($0)")) }

        let grown = dir.appendingPathComponent("grown.yaml")
        try String(contentsOfFile: reference, encoding: .utf8)
            .replacingOccurrences(of: "  - { name: rs2,  address: 192.168.1.103/24, interface: eth0 }\n",
                                  with: "  - { name: rs2,  address: 192.168.1.103/24, interface: eth0 }\n  - { name: rs3,  address: 192.168.1.104/24, interface: eth0 }\n")
            .write(to: grown, atomically: true, encoding: .utf8)
        r = try CommandRunner.run("lbctl", ["init", "--spec", grown.path, "--out", out, "--controller-address", "192.168.1.10:7950"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(masked(r.stdout), """
        kept \(out)/operator.key (exists, signing key ed25519:ID)
        kept \(out)/operator.pub (exists)
        kept \(out)/operators.pub (exists)
        kept \(out)/cluster.keyring (exists)
        kept \(out)/nodes/lvs1/agent.yaml (exists)
        kept \(out)/nodes/lvs2/agent.yaml (exists)
        kept \(out)/nodes/rs1/agent.yaml (exists)
        kept \(out)/nodes/rs2/agent.yaml (exists)
        wrote \(out)/nodes/rs3/agent.yaml
        kept \(out)/controller/controller.yaml (exists)

        """)
        let after = try (kept + ["nodes/rs1/agent.yaml"]).map { try Data(contentsOf: URL(fileURLWithPath: "\(out)/\($0)")) }
        XCTAssertEqual(after, before)
        let rs3 = try XCTUnwrap(AgentConfigLoader.load(file: out + "/nodes/rs3/agent.yaml").config)
        XCTAssertEqual(rs3.gossip.listen, Endpoint("192.168.1.104:7946"))
        XCTAssertEqual(rs3.gossip.seeds, endpoints(["192.168.1.100:7946", "192.168.1.101:7946", "192.168.1.102:7946", "192.168.1.103:7946",
                                                    "192.168.1.10:7950"]))

        // A node removed from the spec keeps its file, and says so.
        r = try CommandRunner.run("lbctl", ["init", "--spec", reference, "--out", out, "--controller-address", "192.168.1.10:7950"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix("kept \(out)/nodes/rs3/agent.yaml (its node is not in \(reference))\n"), r.stdout)
    }

    func testAMissingKeyIsNotRemadeWhereHostsDependOnTheOldOne() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let out = dir.appendingPathComponent("bundle").path
        var r = try CommandRunner.run("lbctl", ["init", "--spec", reference, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix("no --controller-address: no controller.yaml, and the agents seed only each other\n"), r.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/controller"))
        let lvs1 = try XCTUnwrap(AgentConfigLoader.load(file: out + "/nodes/lvs1/agent.yaml").config)
        XCTAssertEqual(lvs1.gossip.seeds, endpoints(["192.168.1.101:7946", "192.168.1.102:7946", "192.168.1.103:7946"]))

        try FileManager.default.removeItem(atPath: out + "/operator.key")
        r = try CommandRunner.run("lbctl", ["init", "--spec", reference, "--out", out])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(r.stderr, "Error: \(out)/operator.key is missing but \(out)/operator.pub exists: lbctl init never makes a new signing key beside an old public key; restore operator.key, or start a new bundle\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/operator.key"))

        let out2 = dir.appendingPathComponent("bundle2").path
        _ = try CommandRunner.run("lbctl", ["init", "--spec", reference, "--out", out2])
        try FileManager.default.removeItem(atPath: out2 + "/cluster.keyring")
        r = try CommandRunner.run("lbctl", ["init", "--spec", reference, "--out", out2])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "Error: \(out2)/cluster.keyring is missing but \(out2)/nodes/lvs1/agent.yaml exists: its host seals gossip with the old keyring; restore cluster.keyring, or start a new bundle\n")

        // The public halves are derived again from the key that is still there.
        let before = try Data(contentsOf: URL(fileURLWithPath: out2 + "/operator.pub"))
        try FileManager.default.removeItem(atPath: out2 + "/operator.pub")
        try FileManager.default.removeItem(atPath: out2 + "/operators.pub")
        try FileManager.default.removeItem(atPath: out2 + "/nodes")
        r = try CommandRunner.run("lbctl", ["init", "--spec", reference, "--out", out2])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out2 + "/operator.pub")), before)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out2 + "/operators.pub")), before)
    }

    func testClearErrors() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let out = dir.appendingPathComponent("bundle").path
        func refused(_ arguments: [String]) throws -> String {
            let r = try CommandRunner.run("lbctl", ["init"] + arguments)
            XCTAssertNotEqual(r.status, 0, arguments.joined(separator: " "))
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refusal writes nothing: \(arguments)")
            return r.stderr.split(separator: "\n").first.map(String.init) ?? ""
        }
        XCTAssertEqual(try refused(["--spec", reference]), "Error: --spec needs --out: the bundle's directory")
        XCTAssertEqual(try refused(["--out", out]), "Error: --out needs --spec: the cluster spec whose nodes get configurations")
        XCTAssertEqual(try refused(["--dir", out, "--spec", reference]), "Error: --dir makes the keys alone; for a bundle give --spec and --out instead")
        XCTAssertEqual(try refused([]), "Error: give --dir DIR for the keys alone, or --spec SPEC --out DIR for a bundle")
        XCTAssertEqual(try refused(["--spec", reference, "--out", out, "--profile", "wan"]), "Error: --profile 'wan' is not one of lan, fast")
        XCTAssertEqual(try refused(["--spec", reference, "--out", out, "--controller-address", "ctl.example.com"]),
                       "Error: --controller-address 'ctl.example.com' is not an address or ADDRESS:PORT, e.g. 192.168.1.10 or \"[2001:db8::10]:7946\"")
        XCTAssertEqual(try refused(["--spec", reference, "--out", out, "--controller-address", "192.168.1.10", "--controller-name", "lvs1"]),
                       "Error: --controller-name 'lvs1' is also a node of the spec; gossip names must differ, choose another")
        XCTAssertEqual(try refused(["--spec", reference, "--out", out, "--controller-address", "192.168.1.100"]),
                       "Error: --controller-address 192.168.1.100:7946 is node lvs1's gossip address; give the controller another address or port (ADDRESS:PORT)")
        XCTAssertEqual(try refused(["--spec", reference, "--out", out, "--gossip-port", "0"]), "Error: --gossip-port 0 is out of range 1–65535")

        let bad = dir.appendingPathComponent("bad.yaml")
        try String(contentsOfFile: reference, encoding: .utf8).replacingOccurrences(of: "router_id: 51", with: "router_id: 0")
            .write(to: bad, atomically: true, encoding: .utf8)
        XCTAssertEqual(try refused(["--spec", bad.path, "--out", out]), "\(bad.path):16:18: error: virtual router id 0 is out of range 1–255")

        try "not a directory".write(toFile: out, atomically: true, encoding: .utf8)
        let r = try CommandRunner.run("lbctl", ["init", "--spec", reference, "--out", out])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "Error: --out \(out) exists and is not a directory\n")
    }
}
