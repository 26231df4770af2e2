import XCTest
import Foundation
import LBControllerConfig
import LBTestKit

/// docs/controller.md shows real files and real output; these tests keep it that way.
final class ControllerConfigDocsTests: XCTestCase {
    /// The refused file in "How errors are shown".
    static let refusedYAML = """
    name: ctl 1
    cluster: web
    gossip:
      listen: 192.168.1.10:7946
    api:
      listen: 0.0.0.0:9120
      clock_window: 1h
    status:
      listen: 0.0.0.0:9121
    notifications:
      webhook:
        url: hooks.example.com/lb
        retires: 3

    """

    static let refusedOutput = """
    /etc/lb/controller.yaml:1:7: error: controller name 'ctl 1' must be 1–63 characters of letters, digits, '-', '_' and '.'
    /etc/lb/controller.yaml:6:11: error: API listen address 0.0.0.0:9120 is not loopback and the API has no TLS; set api.tls.certificate and api.tls.key, listen on 127.0.0.1:9120, or write insecure_without_tls: true if something else encrypts the path
    /etc/lb/controller.yaml:7:17: error: api.clock_window 1h is out of range 1s–10m
    /etc/lb/controller.yaml:9:11: warning: status listen address 0.0.0.0:9121 is not loopback: whoever reaches it reads status and /metrics without authentication; use 127.0.0.1:9121 unless a firewall guards it
    /etc/lb/controller.yaml:12:5: error: missing key 'secret_file': the absolute path of the HMAC key that signs each delivery, e.g. secret_file: /etc/lb/webhook.secret
    /etc/lb/controller.yaml:12:10: error: webhook url 'hooks.example.com/lb' is not an http or https URL; write an http or https URL, e.g. https://hooks.example.com/lb
    /etc/lb/controller.yaml:13:5: error: unknown key 'retires'; did you mean 'retries'? (allowed here: url, secret_file, retries)

    """

    func docs() throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("docs/controller.md"), encoding: .utf8)
    }

    func testExampleIsTheWriterOutputForCtl1() throws {
        XCTAssertTrue(try docs().contains("```yaml\n" + ctl1YAML + "```\n"), "docs/controller.md must show ctl1YAML, exactly as ControllerConfigWriter writes it")
    }

    /// The lb-controller package's placeholder /etc/lb/controller.yaml: the writer's example commented out, so it shows the
    /// format and can never start a daemon by itself.
    func testPackagedPlaceholderIsTheExampleCommentedOutAndIsRefused() throws {
        let file = repositoryRoot.appendingPathComponent("Controller/controller.yaml").path
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let example = ctl1YAML.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .map { $0.isEmpty ? "#\n" : "# \($0)\n" }.joined()
        XCTAssertTrue(text.hasSuffix("#\n" + example), "Controller/controller.yaml must end with the example, each line commented out")
        let loaded = ControllerConfigLoader.load(file: file)
        XCTAssertNil(loaded.config)
        XCTAssertEqual(loaded.diagnostics.map(\.description), ["\(file):1:1: error: the controller configuration is empty; it needs at least cluster and gossip.listen (docs/controller.md shows an example)"])
    }

    func testRefusedExampleIsRealOutput() throws {
        let loaded = ControllerConfigLoader.load(yaml: Self.refusedYAML, file: "/etc/lb/controller.yaml", defaultName: "unused")
        XCTAssertNil(loaded.config)
        XCTAssertEqual(loaded.diagnostics.map(\.description).joined(separator: "\n") + "\n", Self.refusedOutput)
        let text = try docs()
        XCTAssertTrue(text.contains("```yaml\n" + Self.refusedYAML + "```\n"), "docs/controller.md must show the refused file")
        XCTAssertTrue(text.contains("```\n" + Self.refusedOutput + "```\n"), "docs/controller.md must show the loader's output for it")
    }

    /// Every key the loader reads has a row in the table, and the table has no others.
    func testKeyTableListsEveryKey() throws {
        let keys = try XCTUnwrap(MarkdownTable.codeKeys(in: try docs(), section: "Keys"))
        XCTAssertEqual(keys, ["name", "cluster", "gossip.listen", "gossip.advertise", "gossip.seeds", "gossip.profile", "keyring",
                              "trust.keys", "trust.threshold", "state_dir", "api.listen", "api.tls.certificate", "api.tls.key",
                              "api.insecure_without_tls", "api.clock_window", "status.listen", "notifications.webhook.url",
                              "notifications.webhook.secret_file", "notifications.webhook.retries", "notifications.script", "log_level"])
    }
}
