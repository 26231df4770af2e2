import XCTest
import Foundation
@testable import LBSpec
import LBSpecYAML

/// examples/reference.yaml, embedded so that the line and column numbers the tests assert do not move when
/// the example file is edited. `SpecLoaderTests.testReferenceExampleFileLoads` reads the file itself.
let referenceYAML = """
# The reference scenario (docs/spec.md explains every key and its default):
# two directors share 192.168.1.200 by VRRP; IPVS balances port 80 over two real servers
# by direct routing, weighted round robin, with per-client persistence for an hour.
cluster: web

nodes:
  - { name: lvs1, address: 192.168.1.100/24, interface: eth0 }
  - { name: lvs2, address: 192.168.1.101/24, interface: eth0 }
  - { name: rs1,  address: 192.168.1.102/24, interface: eth0 }
  - { name: rs2,  address: 192.168.1.103/24, interface: eth0 }

vips:
  - name: web
    address: 192.168.1.200/24
    vrrp:
      router_id: 51
      advert_interval: 1s
      auth: { password: s3cret }
      directors:
        - { node: lvs1, priority: 100 }
        - { node: lvs2, priority: 99 }
    services:
      - port: 80
        scheduler: wrr
        forwarding: dr
        persistence: { timeout: 3600, netmask: 255.255.255.255 }
        health_check: { type: tcp, interval: 5s, connect_timeout: 3s, retries: 3 }
        real_servers:
          - { node: rs1, weight: 1 }
          - { node: rs2, weight: 1 }

"""

/// The repository root, found from this file's path (Tests/LBSpecTests/TestSupport.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// An IPv6 variant of the reference scenario (VRRPv3, sub-second adverts); it loads without diagnostics.
let ipv6YAML = """
cluster: v6
nodes:
  - { name: lvs1, address: "2001:db8::100/64" }
  - { name: lvs2, address: "2001:db8::101/64" }
  - { name: rs1, address: "2001:db8::102/64" }
  - { name: rs2, address: "2001:db8::103/64" }
vips:
  - name: web6
    address: 2001:db8::200/64
    vrrp:
      router_id: 61
      version: 3
      advert_interval: 0.5
      directors:
        - { node: lvs1, priority: 100 }
        - { node: lvs2, priority: 99 }
    services:
      - port: 443
        forwarding: dr
        real_servers:
          - { node: rs1 }
          - { node: rs2 }

"""

/// `text` with each `old` (which must occur exactly once) replaced by `new`.
func edited(_ text: String, _ edits: [(String, String)], file: StaticString = #filePath, line: UInt = #line) -> String {
    var out = text
    for (old, new) in edits {
        let count = out.components(separatedBy: old).count - 1
        XCTAssertEqual(count, 1, "edit target must occur exactly once: \(old.debugDescription)", file: file, line: line)
        out = out.replacingOccurrences(of: old, with: new)
    }
    return out
}

/// The reference text with edits applied.
func reference(_ edits: (String, String)..., file: StaticString = #filePath, line: UInt = #line) -> String {
    edited(referenceYAML, edits, file: file, line: line)
}

func loadSpec(_ yaml: String) -> LoadedSpec {
    SpecLoader.load(yaml: yaml, file: "spec.yaml")
}

/// Loads `yaml` as "spec.yaml" and asserts the exact diagnostics (`FILE:LINE:COLUMN: severity: message`, in
/// order) and that a spec comes back exactly when none of them is an error.
@discardableResult
func assertDiagnostics(_ yaml: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) -> LoadedSpec {
    let loaded = loadSpec(yaml)
    XCTAssertEqual(loaded.diagnostics.map(\.description), expected, file: file, line: line)
    let expectErrors = expected.contains { $0.contains(": error: ") }
    XCTAssertEqual(loaded.spec == nil, expectErrors,
                   expectErrors ? "a spec with errors must not be returned" : "a spec without errors must be returned",
                   file: file, line: line)
    XCTAssertEqual(loaded.hasErrors, expectErrors, file: file, line: line)
    return loaded
}

/// Loads `yaml`, failing the test unless it has no errors, and returns the spec.
func loadValid(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> ClusterSpec {
    let loaded = loadSpec(yaml)
    XCTAssertEqual(loaded.diagnostics.filter { $0.diagnostic.severity == .error }.map(\.description), [], file: file, line: line)
    return try XCTUnwrap(loaded.spec, file: file, line: line)
}

func ip(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> IPAddress {
    guard let a = IPAddress(text) else {
        XCTFail("not an address: \(text)", file: file, line: line)
        return .v4(0)
    }
    return a
}

func cidr(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> CIDR {
    guard let c = CIDR(text) else {
        XCTFail("not a CIDR: \(text)", file: file, line: line)
        return CIDR(address: .v4(0), prefixLength: 0)
    }
    return c
}
