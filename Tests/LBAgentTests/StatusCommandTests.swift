import Foundation
import Glibc
import XCTest

/// `lb-agent status` as a process against a listener that takes the connection and never answers.
final class StatusCommandTests: XCTestCase {
    /// A loopback port whose handshakes the kernel completes (listen, no accept), so a request hangs.
    private func silentListener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { close(fd); throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    private func status(_ arguments: [String]) throws -> (status: Int32, output: String, seconds: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: AgentLab.agent)
        process.arguments = ["status"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let start = Date()
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), Date().timeIntervalSince(start))
    }

    func testGivesUpAfterItsTimeoutAndSaysSo() throws {
        let listener = try silentListener()
        defer { close(listener.fd) }
        let r = try status(["--address", "127.0.0.1:\(listener.port)", "--timeout", "1"])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("no agent answers at 127.0.0.1:\(listener.port) within 1 s"), r.output)
        // Well under the default 5 s: the option, not the default, ended the wait.
        XCTAssertLessThan(r.seconds, 4, r.output)
    }

    func testRefusesATimeoutOfZero() throws {
        let r = try status(["--address", "127.0.0.1:1", "--timeout", "0"])
        XCTAssertEqual(r.status, 64, r.output)
        XCTAssertTrue(r.output.contains("--timeout must be a whole number of seconds above 0"), r.output)
    }
}
