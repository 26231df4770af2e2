import Foundation
@testable import LBSpec
import LBSpecYAML
import XCTest

/// `vrrp.track_scripts` through the spec's whole path: YAML with positions, validation naming the key,
/// the plan of each director, the plan diff, and JSON that documents signed before the key keep.
final class TrackScriptSpecTests: XCTestCase {
    let tracked = reference(("      auth: { password: s3cret }\n", """
          auth: { password: s3cret }
          track_scripts:
            - { name: chk_nginx, command: "pidof nginx", interval: 2s, timeout: 1s, rise: 2, fall: 3, weight: -30 }
            - { name: chk_maint, command: "test -e /etc/maint", weight: 0, reverse: true }

    """))

    func testReadValidatedAndPlannedForEveryDirector() throws {
        let spec = try loadValid(tracked)
        let scripts = spec.vips[0].vrrp.trackScripts
        XCTAssertEqual(scripts, [
            TrackScript(name: "chk_nginx", command: "pidof nginx", intervalSeconds: 2, timeoutSeconds: 1, rise: 2, fall: 3, weight: -30),
            TrackScript(name: "chk_maint", command: "test -e /etc/maint", weight: 0, reverse: true),
        ])
        for node in ["lvs1", "lvs2"] {
            XCTAssertEqual(HostPlanner.plan(spec, node: node)?.vrrpInstances.first?.trackScripts, scripts, node)
        }
        XCTAssertEqual(HostPlanner.plan(spec, node: "rs1")?.vrrpInstances, [])
        // The YAML writer gives the same spec back.
        XCTAssertEqual(try loadValid(SpecYAMLWriter.yaml(spec)), spec)
    }

    func testProblemsNameTheKey() {
        let bad = reference(("      auth: { password: s3cret }\n", """
              auth: { password: s3cret }
              track_scripts:
                - { name: chk, command: "x", interval: 0, rise: 0, weight: 254 }
                - { name: chk, command: "", fall: 0 }
                - { name: chk2, command: "x", timeout: 1.5 }

        """))
        assertDiagnostics(bad, [
            "spec.yaml:20:48: error: track script interval (seconds) 0 is out of range 1–86400",
            "spec.yaml:20:57: error: track script rise 0 is out of range 1–1000",
            "spec.yaml:20:68: error: track script weight 254 is out of range -253–253",
            "spec.yaml:21:19: error: track script 'chk' is defined twice (first at track_scripts[0])",
            "spec.yaml:21:33: error: track script 'chk' has an empty command",
            "spec.yaml:21:43: error: track script fall 0 is out of range 1–1000",
            "spec.yaml:22:48: error: '1.5' is finer than this setting's resolution of 1000ms",
        ])
        let quoted = reference(("      auth: { password: s3cret }\n", """
              auth: { password: s3cret }
              track_scripts:
                - { name: chk, command: "say \\"hi\\"" }

        """))
        assertDiagnostics(quoted, [
            "spec.yaml:20:33: error: track script 'chk': the command has a double quote, which keepalived.conf cannot hold inside script \"…\"; put it in a script file",
        ])
    }

    /// `vrrp.notify`: read, planned for every director, written back; an empty or quoted command is an error at its key.
    func testStateScriptsAreReadValidatedAndPlanned() throws {
        let yaml = reference(("      auth: { password: s3cret }\n", """
              auth: { password: s3cret }
              notify: { master: "/usr/local/bin/lb-state master", stop: /usr/local/bin/lb-state }

        """))
        let spec = try loadValid(yaml)
        XCTAssertEqual(spec.vips[0].vrrp.notify, StateScripts(master: "/usr/local/bin/lb-state master", stop: "/usr/local/bin/lb-state"))
        for node in ["lvs1", "lvs2"] {
            XCTAssertEqual(HostPlanner.plan(spec, node: node)?.vrrpInstances.first?.notify, spec.vips[0].vrrp.notify, node)
        }
        XCTAssertEqual(try loadValid(SpecYAMLWriter.yaml(spec)), spec)
        assertDiagnostics(yaml.replacingOccurrences(of: "stop: /usr/local/bin/lb-state }", with: "stop: \"say \\\"hi\\\"\", fault: \" \", down: x }"), [
            "spec.yaml:19:65: error: the stop script has a double quote, which keepalived.conf cannot hold inside notify_stop \"…\"; put it in a script file",
            "spec.yaml:19:86: error: the fault script is empty; leave it out to run nothing",
            "spec.yaml:19:91: error: unknown key 'down' (allowed here: master, backup, fault, stop)",
        ])
    }

    func testTrackedInterfacesAreReadValidatedAndPlanned() throws {
        let yaml = reference(("      auth: { password: s3cret }\n", """
              auth: { password: s3cret }
              track_interfaces:
                - { interface: eth1, weight: -20 }
                - { interface: eth2 }

        """))
        let spec = try loadValid(yaml)
        XCTAssertEqual(spec.vips[0].vrrp.trackInterfaces, [TrackInterface(interface: "eth1", weight: -20), TrackInterface(interface: "eth2")])
        XCTAssertEqual(HostPlanner.plan(spec, node: "lvs2")?.vrrpInstances.first?.trackInterfaces, spec.vips[0].vrrp.trackInterfaces)
        XCTAssertEqual(try loadValid(SpecYAMLWriter.yaml(spec)), spec)
        assertDiagnostics(yaml.replacingOccurrences(of: "{ interface: eth2 }", with: "{ interface: eth1, weight: 300 }"), [
            "spec.yaml:21:24: error: interface eth1 is tracked twice (first at track_interfaces[0])",
            "spec.yaml:21:38: error: tracked interface weight 300 is out of range -253–253",
        ])
    }

    func testAGroupWithoutScriptsKeepsItsJSONAndAChangeShowsInThePlanDiff() throws {
        let plain = try loadValid(referenceYAML)
        let json = String(decoding: try SpecJSON.encoder().encode(plain), as: UTF8.self)
        XCTAssertFalse(json.contains("track_scripts") || json.contains("track_interfaces"), "no new key for a spec without scripts: signed documents keep their digest")
        let decoded = try SpecJSON.decoder().decode(ClusterSpec.self, from: Data(json.utf8))
        XCTAssertEqual(decoded, plain)
        let spec = try loadValid(tracked)
        let back = try SpecJSON.decoder().decode(ClusterSpec.self, from: try SpecJSON.encoder().encode(spec))
        XCTAssertEqual(back, spec)
        let planJSON = try SpecJSON.encoder().encode(HostPlanner.plan(plain, node: "lvs1"))
        XCTAssertFalse(String(decoding: planJSON, as: UTF8.self).contains("track_scripts"))

        let changes = PlanDiff.diff(from: HostPlanner.plan(plain, node: "lvs1"), to: HostPlanner.plan(spec, node: "lvs1"))
        XCTAssertEqual(changes.map(\.description).filter { $0.contains("track scripts") }.count, 1, "\(changes)")
    }
}
