import Foundation
import LBClusterView
import LBNotify
import XCTest

final class EmailMessageTests: XCTestCase {
    func mail(_ event: ClusterEvent, cluster: String = "web", from: String = "lb@example.com") -> EmailMessage {
        EmailMessage(event: event, cluster: cluster, from: from, to: ["a@example.com", "b@example.com"],
                     date: Date(timeIntervalSince1970: 0), host: "ctl1.example.com")
    }

    func testSubjectAndHeaders() {
        XCTAssertEqual(mail(event()).subject, "[lb web] vrrp-transition lb1")
        XCTAssertEqual(mail(event(.applied, node: nil)).subject, "[lb web] version-accepted")
        let text = mail(event()).text
        XCTAssertTrue(text.hasPrefix("From: lb@example.com\r\nTo: a@example.com, b@example.com\r\nSubject: [lb web] vrrp-transition lb1\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\nMessage-ID: <lb.web.42."), text)
        XCTAssertTrue(text.contains("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n"), text)
        XCTAssertTrue(mail(event()).messageID.hasSuffix("@ctl1.example.com>"))
    }

    func testNothingAnEventHoldsStartsAHeader() {
        let evil = mail(event(node: "lb1\r\nBcc: victim@example.com"), from: "lb@example.com\nX-Evil: 1").text
        let headerBlock = evil.components(separatedBy: "\r\n\r\n")[0]
        XCTAssertFalse(headerBlock.contains("\r\nBcc:"), headerBlock)
        XCTAssertFalse(headerBlock.contains("\r\nX-Evil:"), headerBlock)
        XCTAssertFalse(evil.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "no bare line feed anywhere")
        XCTAssertFalse(evil.replacingOccurrences(of: "\r\n", with: "").contains("\r"), "no bare carriage return anywhere")
    }

    func testNonASCIISubjectIsEncodedWords() {
        let subject = mail(event(node: "nœud-é"), cluster: "wéb").text.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") }
        XCTAssertEqual(subject, "Subject: =?utf-8?B?W2xiIHfDqWJdIHZycnAtdHJhbnNpdGlvbiBuxZN1ZC3DqQ==?=")
    }

    func testDotStuffingAndLongLines() {
        let long = String(repeating: "é", count: 700)  // 1,400 bytes
        let message = mail(event(message: ".start\n..two\n.\n\(long)\nend"))
        let data = String(decoding: message.data, as: UTF8.self)
        XCTAssertTrue(data.contains("\r\n..start\r\n...two\r\n..\r\n"), data)
        XCTAssertTrue(data.hasSuffix("lb-controller\r\n.\r\n"))
        XCTAssertEqual(data.components(separatedBy: "\r\n.\r\n").count, 2, "the only lone dot is the end")
        for line in data.components(separatedBy: "\r\n") {
            XCTAssertLessThanOrEqual(line.utf8.count, 998)
        }
        XCTAssertTrue(data.contains(String(repeating: "é", count: 499) + "\r\n" + String(repeating: "é", count: 201) + "\r\n"),
                      "a long line is cut between characters")
        XCTAssertTrue(message.is8Bit)
    }
}
