import Foundation
import XCTest

final class SigningCommandTests: XCTestCase {
    var reference: String { CommandRunner.packageRoot.appendingPathComponent("examples/reference.yaml").path }

    func makeKeys(_ dir: URL, _ name: String = "keys") throws -> URL {
        let keys = dir.appendingPathComponent(name)
        let r = try CommandRunner.run("lbctl", ["init", "--dir", keys.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return keys
    }

    func testInitWritesSecretsPrivatelyAndNeverOverwrites() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let keys = try makeKeys(dir)
        let fm = FileManager.default
        for (file, mode) in [("operator.key", 0o600), ("cluster.keyring", 0o600), ("operator.pub", 0o644)] {
            let attrs = try fm.attributesOfItem(atPath: keys.appendingPathComponent(file).path)
            XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, mode, file)
        }
        let before = try Data(contentsOf: keys.appendingPathComponent("operator.key"))
        let again = try CommandRunner.run("lbctl", ["init", "--dir", keys.path])
        XCTAssertEqual(again.status, 1)
        XCTAssertEqual(again.stderr, "Error: \(keys.path)/operator.key already exists; lbctl init never overwrites keys (choose another --dir)\n")
        XCTAssertEqual(try Data(contentsOf: keys.appendingPathComponent("operator.key")), before)
    }

    func testSignVerifyChainAndRefusals() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let keys = try makeKeys(dir)
        let key = keys.appendingPathComponent("operator.key").path
        let pub = keys.appendingPathComponent("operator.pub").path
        let v1 = dir.appendingPathComponent("v1.json").path
        let v2 = dir.appendingPathComponent("v2.json").path

        var r = try CommandRunner.run("lbctl", ["sign", reference, "--key", key, "--version", "1", "--out", v1])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CommandRunner.run("lbctl", ["verify", v1, "--trust", pub, "--cluster", "web", "--output", "json"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let accepted = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(accepted["accepted"] as? Bool, true)
        XCTAssertEqual(accepted["version"] as? Int, 1)

        r = try CommandRunner.run("lbctl", ["sign", reference, "--key", key, "--version", "1", "--previous", v1, "--out", v2])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "Error: version 1 is not higher than 1 of the previous document \(v1)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: v2), "a refused sign must write nothing")

        r = try CommandRunner.run("lbctl", ["sign", reference, "--key", key, "--version", "2", "--previous", v1, "--out", v2])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CommandRunner.run("lbctl", ["verify", v2, "--trust", pub, "--output", "json"])
        let second = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let first = try CommandRunner.run("lbctl", ["verify", v1, "--trust", pub, "--output", "json"])
        let firstDigest = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])?["digest"] as? String)
        XCTAssertEqual(second["previous_digest"] as? String, firstDigest, "v2 must chain to v1's digest")

        r = try CommandRunner.run("lbctl", ["verify", v1, "--trust", pub, "--min-version", "2"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "refused \(v1): version 1 is below the minimum version 2\n")

        r = try CommandRunner.run("lbctl", ["verify", v1, "--trust", pub, "--cluster", "other", "--output", "json"])
        XCTAssertEqual(r.status, 1)
        let refused = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(refused["reason"] as? String, "wrong_cluster")

        let other = try makeKeys(dir, "other")
        r = try CommandRunner.run("lbctl", ["verify", v1, "--trust", other.appendingPathComponent("operator.pub").path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("no signature is by a trusted key"), r.stdout)

        r = try CommandRunner.run("lbctl", ["verify", v1, "--trust", pub, "--trust", other.appendingPathComponent("operator.pub").path, "--threshold", "2", "--output", "json"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("\"reason\":\"below_threshold\""), r.stdout)

        let signedTwice = dir.appendingPathComponent("v3.json").path
        r = try CommandRunner.run("lbctl", ["sign", reference, "--key", key, "--key", other.appendingPathComponent("operator.key").path,
                                            "--version", "3", "--out", signedTwice])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CommandRunner.run("lbctl", ["verify", signedTwice, "--trust", pub, "--trust", other.appendingPathComponent("operator.pub").path, "--threshold", "2"])
        XCTAssertEqual(r.status, 0, r.stdout)
    }

    func testTamperedDocumentIsRefused() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let keys = try makeKeys(dir)
        let doc = dir.appendingPathComponent("v1.json")
        _ = try CommandRunner.run("lbctl", ["sign", reference, "--key", keys.appendingPathComponent("operator.key").path, "--version", "1", "--out", doc.path])
        var envelope = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: doc)) as? [String: Any])
        var payload = try XCTUnwrap(Data(base64Encoded: envelope["payload"] as? String ?? ""))
        payload = Data(String(decoding: payload, as: UTF8.self).replacingOccurrences(of: "\"weight\":1", with: "\"weight\":9").utf8)
        envelope["payload"] = payload.base64EncodedString()
        try JSONSerialization.data(withJSONObject: envelope).write(to: doc)
        let r = try CommandRunner.run("lbctl", ["verify", doc.path, "--trust", keys.appendingPathComponent("operator.pub").path, "--output", "json"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("\"reason\":\"bad_signature\""), r.stdout)
    }

    func testSecretKeyReadableByOthersIsRefused() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let keys = try makeKeys(dir)
        let key = keys.appendingPathComponent("operator.key").path
        XCTAssertEqual(chmod(key, 0o644), 0)
        let r = try CommandRunner.run("lbctl", ["sign", reference, "--key", key, "--version", "1", "--out", dir.appendingPathComponent("x.json").path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("0644"), r.stderr)
        XCTAssertTrue(r.stderr.contains("chmod 600"), r.stderr)
    }

    func testInvalidSpecIsNeverSigned() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let keys = try makeKeys(dir)
        let spec = dir.appendingPathComponent("bad.yaml")
        try String(contentsOfFile: reference, encoding: .utf8).replacingOccurrences(of: "router_id: 51", with: "router_id: 0")
            .write(to: spec, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("doc.json")
        let r = try CommandRunner.run("lbctl", ["sign", spec.path, "--key", keys.appendingPathComponent("operator.key").path, "--version", "1", "--out", out.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "\(spec.path):16:18: error: virtual router id 0 is out of range 1–255\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
