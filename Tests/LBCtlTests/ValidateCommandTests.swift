import Foundation
import XCTest

final class ValidateCommandTests: XCTestCase {
    var reference: String { CommandRunner.packageRoot.appendingPathComponent("examples/reference.yaml").path }

    func testReferenceIsValid() throws {
        let r = try CommandRunner.run("lbctl", ["validate", reference])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(reference): valid: cluster 'web', 4 nodes, 1 VIP, 1 service\n")
    }

    func testEveryProblemOfEveryFileIsReportedWithItsPosition() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let bad = dir.appendingPathComponent("bad.yaml")
        try """
        cluster: web
        nodes:
          - { name: lvs1, address: 192.168.1.100/24 }
          - { name: rs1, address: 192.168.1.102/24, interfase: eth0 }
        vips:
          - address: 192.168.1.200/24
            vrrp:
              router_id: 300
              auth: { password: waytoolong }
              directors: [ { node: lvs1, priority: 100 }, { node: lvs9, priority: 90 } ]
            services:
              - port: 80
                real_servers: [ { node: rs1, port: 8080 } ]

        """.write(to: bad, atomically: true, encoding: .utf8)
        let syntax = dir.appendingPathComponent("syntax.yaml")
        try "cluster: [web\n".write(to: syntax, atomically: true, encoding: .utf8)

        let r = try CommandRunner.run("lbctl", ["validate", bad.path, reference, syntax.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout.split(separator: "\n").map(String.init), [
            "\(bad.path):4:45: error: unknown key 'interfase'; did you mean 'interface'? (allowed here: name, address, interface)",
            "\(bad.path):8:18: error: virtual router id 300 is out of range 1–255",
            "\(bad.path):9:25: error: VRRP password is 10 bytes; the protocol carries at most 8 (keepalived silently truncates, so peers would disagree)",
            "\(bad.path):10:59: error: node 'lvs9' is not defined in nodes; did you mean 'lvs1'?",
            "\(bad.path):13:44: error: real server port 8080 differs from the service port 80; direct routing cannot change ports (use 80, or forwarding: nat)",
            "\(reference): valid: cluster 'web', 4 nodes, 1 VIP, 1 service",
            "\(syntax.path):2:1: error: YAML syntax: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 10)",
        ])
    }

    func testWarningsAloneExitZero() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let file = dir.appendingPathComponent("single.yaml")
        try """
        cluster: solo
        nodes: [ { name: d1, address: 10.0.0.1/24 }, { name: r1, address: 10.0.0.2/24 } ]
        vips:
          - address: 10.0.0.10/24
            vrrp: { router_id: 7, directors: [ { node: d1, priority: 100 } ] }
            services: [ { port: 443, real_servers: [ { node: r1 } ] } ]

        """.write(to: file, atomically: true, encoding: .utf8)
        let r = try CommandRunner.run("lbctl", ["validate", file.path])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, """
        \(file.path):5:38: warning: VIP '10.0.0.10' has a single director: nothing takes over if it fails
        \(file.path): valid: cluster 'solo', 2 nodes, 1 VIP, 1 service

        """)
    }

    func testMissingFileIsAnErrorNotACrash() throws {
        let r = try CommandRunner.run("lbctl", ["validate", "/nonexistent/spec.yaml"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.hasPrefix("/nonexistent/spec.yaml:1:1: error: cannot read:"), r.stdout)
    }
}
