import XCTest
@testable import LBSpec
import LBSpecYAML

/// The health_check keys of keepalived's checkers: urls with statuses and digests, https with SNI and
/// certificate verification, exec's dynamic weight. Read, checked where they are written, planned.
final class CheckerKeysTests: XCTestCase {
    static let tcp = "health_check: { type: tcp, interval: 5s, connect_timeout: 3s, retries: 3 }"

    func check(_ text: String) -> String {
        reference((Self.tcp, text))
    }

    func testURLsWithStatusesAndDigestsAreRead() throws {
        let spec = try loadValid(check("""
        health_check:
                  type: http
                  host: www.example.com
                  urls:
                    - { path: /healthz, status: [200-299, 301], digest: 444BCB3A3FCF8389296C49467F27E1D6 }
                    - { path: /ready, status: "200 204", host: ready.example.com }
                    - { path: /any }
        """))
        let hc = try XCTUnwrap(spec.vips[0].services[0].healthCheck)
        XCTAssertEqual(hc.urls, [
            HTTPURLCheck(path: "/healthz", status: [200...299, 301...301], digest: "444BCB3A3FCF8389296C49467F27E1D6"),
            HTTPURLCheck(path: "/ready", status: [200...200, 204...204], host: "ready.example.com"),
            HTTPURLCheck(path: "/any", status: [200...299]),
        ])
        XCTAssertEqual(hc.fetches, hc.urls)
        XCTAssertEqual(HealthCheck(kind: .http, path: "/x", expectStatus: 204).fetches, [HTTPURLCheck(path: "/x", status: [204...204])])
    }

    func testHTTPSAndDynamicWeightAreRead() throws {
        let https = try loadValid(check("health_check: { type: https, host: www.example.com, sni: true, verify_certificate: true, ca_file: /etc/lb/ca.pem }"))
        let hc = try XCTUnwrap(https.vips[0].services[0].healthCheck)
        XCTAssertEqual([hc.kind.rawValue, "\(hc.sni)", "\(hc.verifyCertificate)", hc.caFile ?? ""], ["https", "true", "true", "/etc/lb/ca.pem"])
        let exec = try loadValid(check("health_check: { type: exec, command: /usr/local/bin/load, dynamic_weight: true }"))
        XCTAssertEqual(exec.vips[0].services[0].healthCheck?.dynamicWeight, true)
    }

    func testUnreadableStatusesNameTheirPlace() {
        assertDiagnostics(check("health_check: { type: http, urls: [{ path: /, status: 299-200 }] }"), [
            "spec.yaml:27:63: error: '299-200' is not an HTTP status or a range of them (e.g. 200 or 200-299, lower end first)",
        ])
        assertDiagnostics(check("health_check: { type: http, urls: [{ status: 200 }] }"), [
            "spec.yaml:27:44: error: missing key 'path': the path to fetch, e.g. /healthz",
        ])
    }

    func testWhatIsWrongIsSaidWhereItIsWritten() {
        assertDiagnostics(check("health_check: { type: http, urls: [{ path: healthz, status: 600, digest: abc, host: \"\" }] }"), [
            "spec.yaml:27:52: error: path 'healthz' must start with '/'",
            "spec.yaml:27:69: error: status 600 is out of range: HTTP statuses are 100–599",
            "spec.yaml:27:82: error: digest 'abc' is not an MD5 digest: 32 hexadecimal digits (md5sum of the body)",
            "spec.yaml:27:93: error: host is empty or contains control characters",
        ])
        assertDiagnostics(check("health_check: { type: tcp, urls: [{ path: / }], sni: true, dynamic_weight: true }"), [
            "spec.yaml:27:42: error: urls is used by http and https health checks only, not tcp",
            "spec.yaml:27:62: error: sni is used by https health checks only, not tcp",
            "spec.yaml:27:84: error: dynamic_weight is used by exec health checks only, not tcp",
        ])
        assertDiagnostics(check("health_check: { type: http, path: /x, urls: [{ path: / }] }"), [
            "spec.yaml:27:43: error: path and urls are two ways to say what to fetch: put the path in urls",
        ])
        assertDiagnostics(check("health_check: { type: https, ca_file: ca.pem, sni: true }"), [
            "spec.yaml:27:47: error: ca_file 'ca.pem' must be an absolute path",
            "spec.yaml:27:47: warning: ca_file has no effect without verify_certificate: true (certificates are not checked by default, as keepalived does not)",
            "spec.yaml:27:60: warning: sni sends the host name, and this check has none (set host): no server name is sent",
        ])
    }

    /// Documents signed before these keys existed decode unchanged, and a check without them encodes as it did.
    func testJSONWithoutTheNewKeysIsUnchanged() throws {
        let old = #"{"command":"/bin/true","connectTimeoutMilliseconds":3000,"expectStatus":200,"intervalMilliseconds":5000,"kind":"exec","path":"/","retries":3,"retryDelayMilliseconds":1000}"#
        let decoded = try JSONDecoder().decode(HealthCheck.self, from: Data(old.utf8))
        XCTAssertEqual(decoded, HealthCheck(kind: .exec, command: "/bin/true"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        XCTAssertEqual(String(decoding: try encoder.encode(decoded), as: UTF8.self), old)
    }

    func testThePlanDiffNamesTheURLs() throws {
        var spec = try loadValid(referenceYAML)
        let before = spec
        spec.vips[0].services[0].healthCheck = HealthCheck(kind: .https, urls: [HTTPURLCheck(path: "/a", status: [200...299, 301...301])], sni: true)
        let changes = PlanDiff.diff(from: before, to: spec).flatMap(\.changes).map(\.description).joined(separator: "\n")
        XCTAssertTrue(changes.contains("url 1 /a 200-299 301"), changes)
        XCTAssertTrue(changes.contains("health https"), changes)
    }
}

/// The health_check keys of keepalived's UDP_CHECK, DNS_CHECK and SMTP_CHECK, and PING_CHECK's kind:
/// read, written back, and checked where they are written.
final class ProtocolCheckerKeysTests: XCTestCase {
    func check(_ text: String) -> String {
        reference((CheckerKeysTests.tcp, text))
    }

    func testKeysAreReadAndWrittenBack() throws {
        let spec = try loadValid(check("health_check: { type: udp, port: 53, payload: \"0102 ab\", require_reply: true, reply: 01xx, min_reply_length: 2, max_reply_length: 512 }"))
        let hc = try XCTUnwrap(spec.vips[0].services[0].healthCheck)
        XCTAssertEqual(hc, HealthCheck(kind: .udp, port: 53, payload: "0102 ab", requireReply: true, reply: "01xx", minReplyLength: 2, maxReplyLength: 512))
        let dns = try loadValid(check("health_check: { type: dns, query_type: MX, query_name: example.com }"))
        XCTAssertEqual(dns.vips[0].services[0].healthCheck?.dnsQueryType, .MX)
        XCTAssertEqual(dns.vips[0].services[0].healthCheck?.dnsLabels, ["example", "com"])
        let smtp = try loadValid(check("health_check: { type: smtp, port: 25, helo_name: lvs1.example.com }"))
        XCTAssertEqual(smtp.vips[0].services[0].healthCheck?.heloName, "lvs1.example.com")
        XCTAssertEqual(try loadValid(check("health_check: { type: ping }")).vips[0].services[0].healthCheck?.kind, .ping)
        for written in [spec, dns, smtp] {
            XCTAssertEqual(try loadValid(SpecYAMLWriter.yaml(written)), written)
        }
    }

    func testBadValuesAreErrorsThatNameTheirKey() {
        assertDiagnostics(check("health_check: { type: udp, payload: 01zz, reply: \"1 x\", min_reply_length: 9, max_reply_length: 4 }"), [
            "spec.yaml:27:45: error: payload '01zz' is not hex: pairs of hexadecimal digits, blanks allowed between them (keepalived's notation)",
            "spec.yaml:27:58: error: reply is matched only with require_reply: true; add it",
            "spec.yaml:27:83: error: min_reply_length 9 is more than max_reply_length 4: every reply would fail",
        ])
        assertDiagnostics(check("health_check: { type: dns, query_type: AXFR, query_name: a..b }"), [
            "spec.yaml:27:48: error: query_type 'AXFR' is not a DNS type keepalived asks: A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG, DNSKEY",
            "spec.yaml:27:66: error: query_name 'a..b' has an empty label",
        ])
        assertDiagnostics(check("health_check: { type: tcp, payload: \"01\", query_type: A, helo_name: x, require_reply: true }"), [
            "spec.yaml:27:45: error: payload is used by udp health checks only, not tcp",
            "spec.yaml:27:63: error: query_type is used by dns health checks only, not tcp",
            "spec.yaml:27:77: error: helo_name is used by smtp health checks only, not tcp",
            "spec.yaml:27:95: error: require_reply is used by udp health checks only, not tcp",
        ])
        assertDiagnostics(check("health_check: { type: udp, min_reply_length: 70000 }"), [
            "spec.yaml:27:54: error: min_reply_length 70000 is out of range 0–65535",
            "spec.yaml:27:54: warning: min_reply_length has no effect without reply: keepalived, and lb with it, checks reply lengths only with reply data",
            "spec.yaml:27:54: error: min_reply_length 70000 is more than max_reply_length 255: every reply would fail",
        ])
    }
}
