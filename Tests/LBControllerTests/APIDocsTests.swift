import Foundation
import LBClusterView
import LBControllerAPI
import XCTest

/// docs/api.md names every event kind and every refusal code the code can produce.
final class APIDocsTests: XCTestCase {
    var docs: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return try String(contentsOf: root.appendingPathComponent("docs/api.md"), encoding: .utf8)
        }
    }

    func testEveryEventKindIsDocumented() throws {
        let text = try docs
        for kind in ClusterEvent.Kind.allCases { XCTAssertTrue(text.contains("`\(kind.rawValue)`"), "docs/api.md lacks the event kind \(kind.rawValue)") }
    }

    func testEveryAuthenticationFailureIsDocumented() throws {
        let text = try docs
        let failures: [AuthFailure] = [.missingHeader("x"), .malformedHeader("x", "y"), .unknownKey("k"), .badSignature("k"),
                                       .outsideClockWindow(skewSeconds: 1, windowSeconds: 1), .replayed]
        for f in failures { XCTAssertTrue(text.contains("| `\(f.code)` |"), "docs/api.md lacks the 401 code \(f.code)") }
        for header in [RequestSigning.keyHeader, RequestSigning.timeHeader, RequestSigning.nonceHeader, RequestSigning.signatureHeader] {
            XCTAssertTrue(text.contains("| `\(header)` |"), "docs/api.md lacks the header \(header)")
        }
    }

    func testTheCanonicalRequestIsTheOneDocumented() throws {
        let bytes = RequestSigning.canonical(method: "get", path: "/v1/history?limit=5", time: 1_800_000_000, nonce: "ab", body: [])
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(lines[0], "lb-request-v1")
        XCTAssertEqual(lines[1], "GET")
        XCTAssertEqual(lines[5], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 of nothing")
        XCTAssertTrue(try docs.contains("lb-request-v1\nMETHOD (upper case)\nPATH with its query"))
    }
}
