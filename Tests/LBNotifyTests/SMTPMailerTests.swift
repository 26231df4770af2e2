import Foundation
import LBClusterView
import LBNotify
import LBSpec
import XCTest

/// The mailer against a real SMTP server: Debian's aiosmtpd on loopback.
final class SMTPMailerTests: XCTestCase {
    func message(to: [String], event: ClusterEvent = event()) -> EmailMessage {
        EmailMessage(event: event, cluster: "web", from: "lb@example.com", to: to, date: Date(timeIntervalSince1970: 1_764_670_512),
                     host: "ctl1")
    }

    func target(_ port: Int, timeout: Int = 10) -> EmailNotification {
        EmailNotification(to: ["ops@example.com"], from: "lb@example.com", smtpServer: "127.0.0.1", smtpPort: port, timeoutSeconds: timeout)
    }

    func testDeliversEnvelopeHeadersAndBody() async throws {
        let sink = try await SMTPSink.start(self)
        let text = "lb1: vip-ws BACKUP -> MASTER\n.a line that starts with a dot\n.\nand one with a lone dot above; naïve ünïcode"
        let mail = message(to: ["ops@example.com", "oncall@example.com"], event: event(message: text))
        let receipt = try await SMTPMailer(target: target(sink.port), helloName: "ctl1.test").send(mail)
        XCTAssertEqual(receipt, SMTPMailer.Receipt(encrypted: false, accepted: ["ops@example.com", "oncall@example.com"]))
        let messages = try await sink.waitForMessages(1)
        let got = try XCTUnwrap(messages.first)
        XCTAssertEqual(messages.count, 1)
        XCTAssertEqual(got.mail_from, "lb@example.com")
        XCTAssertEqual(got.rcpt_tos, ["ops@example.com", "oncall@example.com"])
        XCTAssertEqual(got.mail_options, ["BODY=8BITMIME"], "an 8-bit body is announced when the server offers 8BITMIME")
        XCTAssertFalse(got.tls)
        XCTAssertEqual(got.helo, "ctl1.test")
        let headers = got.headers
        XCTAssertEqual(headers["from"], "lb@example.com")
        XCTAssertEqual(headers["to"], "ops@example.com, oncall@example.com")
        XCTAssertEqual(headers["subject"], "[lb web] vrrp-transition lb1")
        XCTAssertEqual(headers["date"], "Tue, 02 Dec 2025 10:15:12 +0000")
        XCTAssertEqual(headers["content-type"], "text/plain; charset=utf-8")
        XCTAssertEqual(headers["content-transfer-encoding"], "8bit")
        XCTAssertEqual(headers["mime-version"], "1.0")
        let id = try XCTUnwrap(headers["message-id"])
        XCTAssertTrue(id.hasPrefix("<lb.web.42.") && id.hasSuffix("@ctl1>"), id)
        XCTAssertEqual(got.body, """
            lb1: vip-ws BACKUP -> MASTER\r
            .a line that starts with a dot\r
            .\r
            and one with a lone dot above; naïve ünïcode\r
            \r
            cluster: web\r
            event:   vrrp-transition\r
            node:    lb1\r
            version: 7\r
            time:    2025-12-02T10:15:00Z\r
            id:      42\r
            \r
            -- \r
            lb-controller\r

            """, "the dots are stuffed on the way and unstuffed by the server, so the body arrives whole")
    }

    func testSTARTTLSIsUsedWhenOffered() async throws {
        let certs = try temporaryDirectory(self)
        try await makeCertificate(in: certs)
        let sink = try await SMTPSink.start(self, tls: certs)
        let receipt = try await SMTPMailer(target: target(sink.port)).send(message(to: ["ops@example.com"]))
        XCTAssertTrue(receipt.encrypted)
        // Verified against the certificate as its own CA: it names 127.0.0.1, so this passes too.
        let verified = try await SMTPMailer(target: target(sink.port), caFile: certs.appendingPathComponent("cert.pem").path)
            .send(message(to: ["ops@example.com"]))
        XCTAssertTrue(verified.encrypted)
        let messages = try await sink.waitForMessages(2)
        XCTAssertEqual(messages.map(\.tls), [true, true], "the server saw both sessions under TLS")
        XCTAssertEqual(messages.first?.headers["subject"], "[lb web] vrrp-transition lb1")
    }

    func testCertificateFromAnotherCAIsRefusedWhenVerifying() async throws {
        let certs = try temporaryDirectory(self)
        let other = certs.appendingPathComponent("other")
        try await makeCertificate(in: certs)
        try await makeCertificate(in: other)
        let sink = try await SMTPSink.start(self, tls: certs)
        let mailer = try SMTPMailer(target: target(sink.port), caFile: other.appendingPathComponent("cert.pem").path)
        do {
            try await mailer.send(message(to: ["ops@example.com"]))
            XCTFail("a certificate no configured CA signed must not be accepted")
        } catch let error as NotifyError {
            XCTAssertEqual(error.code, .unreachable)
            XCTAssertEqual(error.message, "SMTP 127.0.0.1:\(sink.port): TLS handshake and EHLO: TLS: handshake failed: CERTIFICATE_VERIFY_FAILED")
        }
        XCTAssertEqual(try sink.messages().count, 0)
    }

    func testRefusedRecipientIsReportedWithTheServersAnswer() async throws {
        let sink = try await SMTPSink.start(self, refusing: ["nobody@example.com"])
        let mailer = try SMTPMailer(target: target(sink.port))
        do {
            try await mailer.send(message(to: ["nobody@example.com"]))
            XCTFail("a refused recipient must fail the delivery")
        } catch let error as NotifyError {
            XCTAssertEqual(error.code, .refused)
            XCTAssertEqual(error.message, "SMTP 127.0.0.1:\(sink.port): RCPT TO:<nobody@example.com> answered 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown")
        }
        // With another recipient the message still goes to that one, and the error names the refusal.
        do {
            try await mailer.send(message(to: ["nobody@example.com", "ops@example.com"]))
            XCTFail("a refused recipient must be reported")
        } catch let error as NotifyError {
            XCTAssertEqual(error.message, "SMTP 127.0.0.1:\(sink.port): RCPT TO:<nobody@example.com> answered 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown; sent to the other recipient")
        }
        let messages = try await sink.waitForMessages(1)
        XCTAssertEqual(messages.map(\.rcpt_tos), [["ops@example.com"]])
    }

    func testSilentServerTimesOutAtTheGreeting() async throws {
        let listener = try SilentListener(self)
        let start = ContinuousClock.now
        do {
            try await SMTPMailer(target: target(listener.port, timeout: 1)).send(message(to: ["ops@example.com"]))
            XCTFail("a server that never greets must time out")
        } catch let error as NotifyError {
            XCTAssertEqual(error.code, .timedOut)
            XCTAssertEqual(error.message, "SMTP 127.0.0.1:\(listener.port): no answer within 1 s (at greeting)")
        }
        let took = ContinuousClock.now - start
        XCTAssertLessThan(took, .milliseconds(2500), "the budget bounds the whole exchange")
    }

    /// What aiosmtpd never does: garbage, a close mid-conversation, an old server, an unexpected code.
    func testServersThatMisbehave() async throws {
        func failure(greeting: String, answers: [String]) async throws -> NotifyError? {
            let server = try await ScriptedSMTPServer(self, greeting: greeting, answers: answers)
            do {
                try await SMTPMailer(target: target(server.port, timeout: 5), helloName: "ctl1").send(message(to: ["ops@example.com"]))
                return nil
            } catch let error as NotifyError {
                return NotifyError(error.code, error.message.replacingOccurrences(of: ":\(server.port):", with: ":PORT:"))
            }
        }
        var error = try await failure(greeting: "HTTP/1.1 400 Bad Request\r\n", answers: [])
        XCTAssertEqual(error, NotifyError(.malformedReply, "SMTP 127.0.0.1:PORT: greeting: the server sent 'HTTP/1.1 400 Bad Request', which does not start with a reply code"))
        error = try await failure(greeting: "554 5.3.2 go away\r\n", answers: [])
        XCTAssertEqual(error, NotifyError(.refused, "SMTP 127.0.0.1:PORT: greeting answered 554 5.3.2 go away"))
        error = try await failure(greeting: "220 hi\r\n", answers: [])
        XCTAssertEqual(error, NotifyError(.unreachable, "SMTP 127.0.0.1:PORT: the server closed the connection (at EHLO ctl1)"))
        error = try await failure(greeting: "220 hi\r\n", answers: ["250 hi\r\n", "452 4.3.1 out of storage\r\n"])
        XCTAssertEqual(error, NotifyError(.refused, "SMTP 127.0.0.1:PORT: MAIL FROM:<lb@example.com> answered 452 4.3.1 out of storage"))
        // A server without EHLO gets HELO; one that takes the message and then closes instead of answering
        // QUIT has it all the same.
        error = try await failure(greeting: "220-old\r\n220 server\r\n", answers: ["502 what?\r\n", "250 ok\r\n", "250 ok\r\n", "250 ok\r\n",
                                                                                 "354 go\r\n", "250 queued\r\n"])
        XCTAssertNil(error)
    }

    func testNobodyListening() async throws {
        let port = try await closedPort()
        do {
            try await SMTPMailer(target: target(port)).send(message(to: ["ops@example.com"]))
            XCTFail("no server, no delivery")
        } catch let error as NotifyError {
            XCTAssertEqual(error.code, .unreachable)
            XCTAssertTrue(error.message.hasPrefix("SMTP 127.0.0.1:\(port): connect: "), error.message)
            XCTAssertTrue(error.message.lowercased().contains("refused"), error.message)
        }
    }

    func testAddressesThatWouldBreakACommandAreRefusedBeforeConnecting() async throws {
        let mailer = try SMTPMailer(target: target(1))
        for bad in ["ops@example.com>\r\nRCPT TO:<evil@example.com", "a b@example.com", ""] {
            do {
                try await mailer.send(message(to: [bad]))
                XCTFail("\(bad.debugDescription) must be refused")
            } catch let error as NotifyError {
                XCTAssertEqual(error.code, .invalidTarget, error.message)
            }
        }
    }
}
