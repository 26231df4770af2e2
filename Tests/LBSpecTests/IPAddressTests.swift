import XCTest
import Foundation
@testable import LBSpec

final class IPAddressTests: XCTestCase {

    // MARK: IPv4

    func testIPv4ParseAndFormat() {
        XCTAssertEqual(IPAddress("192.168.1.200"), .v4(0xC0A8_01C8))
        XCTAssertEqual(IPAddress("0.0.0.0"), .v4(0))
        XCTAssertEqual(IPAddress("255.255.255.255"), .v4(.max))
        XCTAssertEqual(IPAddress("10.0.0.1"), .v4(0x0A00_0001))
        for text in ["192.168.1.200", "0.0.0.0", "255.255.255.255", "10.0.0.1", "1.2.3.4", "172.16.0.254"] {
            XCTAssertEqual(IPAddress(text)?.description, text)
        }
        let a = ip("192.168.1.200")
        XCTAssertEqual(a.family, .ipv4)
        XCTAssertEqual(a.bitWidth, 32)
        XCTAssertEqual(a.bytes, [192, 168, 1, 200])
        XCTAssertEqual(IPAddress(bytes: [192, 168, 1, 200]), a)
        XCTAssertNil(IPAddress(bytes: [1, 2, 3]))
    }

    func testIPv4RejectsLeadingZerosAndMalformedText() {
        let bad = [
            "192.168.01.1", "010.0.0.1", "1.2.3.00", "00.0.0.0",      // leading zeros (octal in inet_aton)
            "256.1.1.1", "1.2.3.999", "1.2.3.1000",                   // out of range / too long
            "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3",       // wrong number of parts
            "", " 1.2.3.4", "1.2.3.4 ", "+1.2.3.4", "1.2.3.-4",      // stray characters
            "0x1.2.3.4", "a.b.c.d", "١.٢.٣.٤", "1.2.3.4/24",
        ]
        for text in bad {
            XCTAssertNil(IPAddress(text), "\(text.debugDescription) must be rejected")
        }
    }

    // MARK: IPv6

    func testIPv6FormatsPerRFC5952() {
        let cases: [(String, String)] = [
            ("2001:db8::1", "2001:db8::1"),
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),   // leading zeros dropped, run compressed
            ("2001:DB8::A", "2001:db8::a"),                                // lower case
            ("::", "::"),
            ("0:0:0:0:0:0:0:0", "::"),
            ("::1", "::1"),
            ("1::", "1::"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),                 // equal runs: the first is compressed
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),                       // the longest run is compressed
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),              // a single zero group is not
            ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
            ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
            ("fe80::0:0:1", "fe80::1"),
            ("ff02::12", "ff02::12"),
        ]
        for (input, formatted) in cases {
            XCTAssertEqual(IPAddress(input)?.description, formatted, "formatting \(input)")
            XCTAssertEqual(IPAddress(formatted), IPAddress(input), "re-parsing \(formatted)")
        }
        let a = ip("2001:db8::1")
        XCTAssertEqual(a, .v6(0x2001_0DB8_0000_0000, 1))
        XCTAssertEqual(a.family, .ipv6)
        XCTAssertEqual(a.bitWidth, 128)
        XCTAssertEqual(a.bytes, [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1])
        XCTAssertEqual(IPAddress(bytes: a.bytes), a)
    }

    func testIPv6WithEmbeddedIPv4() {
        XCTAssertEqual(IPAddress("::ffff:192.168.1.1"), .v6(0, 0x0000_FFFF_C0A8_0101))
        XCTAssertEqual(IPAddress("::ffff:192.168.1.1"), IPAddress("::ffff:c0a8:101"))
        XCTAssertEqual(IPAddress("64:ff9b::192.0.2.33"), IPAddress("64:ff9b::c000:221"))
        XCTAssertEqual(IPAddress("1:2:3:4:5:6:1.2.3.4"), IPAddress("1:2:3:4:5:6:102:304"))
        XCTAssertEqual(IPAddress("::1.2.3.4"), IPAddress("::102:304"))
        // The IPv4 part must itself be strict and last.
        for text in ["::ffff:192.168.01.1", "::ffff:256.1.1.1", "::1.2.3", "1.2.3.4::", "::1.2.3.4:5",
                     "1:2:3:4:5:6:7:1.2.3.4"] {
            XCTAssertNil(IPAddress(text), "\(text) must be rejected")
        }
    }

    func testIPv6RejectsZoneIDsAndMalformedText() {
        let bad = [
            "fe80::1%eth0", "fe80::1%1",                               // zone ids
            "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",                      // wrong group count
            "1::2::3", ":::", "1:::2", ":1::", "1::2:", ":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:",
            "1:2:3:4:5:6:7::8", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
            "12345::", "g::", "::g", "[::1]", "::1/128", " ::1", "::1 ", ":", "",
        ]
        for text in bad {
            XCTAssertNil(IPAddress(text), "\(text.debugDescription) must be rejected")
        }
    }

    /// `UInt16(_:radix:)` accepts a sign, so a group written "+1" or "-0" must be rejected by the parser itself.
    func testIPv6RejectsSignedGroups() {
        for text in ["::+1", "+1::", "::-0", "2001:db8::+ff", "+1:2:3:4:5:6:7:8"] {
            XCTAssertNil(IPAddress(text), "\(text) must be rejected: a group is 1–4 hex digits")
        }
    }

    // MARK: classification

    func testClassification() {
        XCTAssertTrue(ip("224.0.0.18").isMulticast)
        XCTAssertTrue(ip("239.255.255.255").isMulticast)
        XCTAssertFalse(ip("223.255.255.255").isMulticast)
        XCTAssertFalse(ip("240.0.0.1").isMulticast)
        XCTAssertTrue(ip("ff02::12").isMulticast)
        XCTAssertFalse(ip("fe80::1").isMulticast)
        XCTAssertTrue(ip("0.0.0.0").isUnspecified)
        XCTAssertTrue(ip("::").isUnspecified)
        XCTAssertFalse(ip("::1").isUnspecified)
        XCTAssertTrue(ip("127.0.0.1").isLoopback)
        XCTAssertTrue(ip("127.255.0.9").isLoopback)
        XCTAssertTrue(ip("::1").isLoopback)
        XCTAssertFalse(ip("::2").isLoopback)
        XCTAssertFalse(ip("128.0.0.1").isLoopback)
        XCTAssertTrue(ip("255.255.255.255").isBroadcast)
        XCTAssertFalse(ip("192.168.1.255").isBroadcast)
    }

    func testOrderingIsByBytes() {
        let sorted = ["192.168.1.103", "10.0.0.1", "192.168.1.20", "192.168.1.100"].map { ip($0) }.sorted()
        XCTAssertEqual(sorted.map(\.description), ["10.0.0.1", "192.168.1.20", "192.168.1.100", "192.168.1.103"])
        XCTAssertLessThan(ip("2001:db8::1"), ip("2001:db8::2"))
    }

    // MARK: netmasks

    func testNetmaskContiguity() {
        XCTAssertEqual(ip("255.255.255.0").contiguousPrefixLength, 24)
        XCTAssertNil(ip("255.0.255.0").contiguousPrefixLength)
        XCTAssertEqual(ip("0.0.0.0").contiguousPrefixLength, 0)
        XCTAssertEqual(ip("255.255.255.255").contiguousPrefixLength, 32)
        XCTAssertEqual(ip("255.255.255.128").contiguousPrefixLength, 25)
        XCTAssertEqual(ip("128.0.0.0").contiguousPrefixLength, 1)
        XCTAssertEqual(ip("255.255.254.0").contiguousPrefixLength, 23)
        XCTAssertNil(ip("0.255.255.255").contiguousPrefixLength)
        XCTAssertEqual(ip("255.255.255.254").contiguousPrefixLength, 31)
        XCTAssertNil(ip("255.255.255.1").contiguousPrefixLength)
        XCTAssertNil(ip("ffff:ffff::").contiguousPrefixLength, "netmasks are IPv4 only")
    }

    func testNetmaskForPrefixLength() {
        XCTAssertEqual(IPAddress.netmask(prefixLength: 24), ip("255.255.255.0"))
        XCTAssertEqual(IPAddress.netmask(prefixLength: 0), ip("0.0.0.0"))
        XCTAssertEqual(IPAddress.netmask(prefixLength: 32), ip("255.255.255.255"))
        XCTAssertEqual(IPAddress.netmask(prefixLength: 9), ip("255.128.0.0"))
        for n in 0...32 {
            XCTAssertEqual(IPAddress.netmask(prefixLength: n).contiguousPrefixLength, n)
        }
    }

    func testMasked() {
        XCTAssertEqual(ip("192.168.1.200").masked(24), ip("192.168.1.0"))
        XCTAssertEqual(ip("192.168.1.200").masked(0), ip("0.0.0.0"))
        XCTAssertEqual(ip("192.168.1.200").masked(32), ip("192.168.1.200"))
        XCTAssertEqual(ip("192.168.1.200").masked(25), ip("192.168.1.128"))
        XCTAssertEqual(ip("2001:db8:1:2:3:4:5:6").masked(64), ip("2001:db8:1:2::"))
        XCTAssertEqual(ip("2001:db8:1:2:3:4:5:6").masked(48), ip("2001:db8:1::"))
        XCTAssertEqual(ip("2001:db8:1:2:3:4:5:6").masked(96), ip("2001:db8:1:2:3:4::"))
        XCTAssertEqual(ip("2001:db8:1:2:3:4:5:6").masked(128), ip("2001:db8:1:2:3:4:5:6"))
        XCTAssertEqual(ip("2001:db8:1:2:3:4:5:6").masked(0), ip("::"))
    }

    // MARK: CIDR

    func testCIDRParse() throws {
        let c = try XCTUnwrap(CIDR("192.168.1.200/24"))
        XCTAssertEqual(c.address, ip("192.168.1.200"))
        XCTAssertEqual(c.prefixLength, 24)
        XCTAssertEqual(c.network, ip("192.168.1.0"))
        XCTAssertEqual(c.description, "192.168.1.200/24")

        let host = try XCTUnwrap(CIDR("10.0.0.1"))
        XCTAssertEqual(host.prefixLength, 32, "no prefix means a host address")
        XCTAssertEqual(host.description, "10.0.0.1/32")

        let v6 = try XCTUnwrap(CIDR("2001:db8::200/64"))
        XCTAssertEqual(v6.address, ip("2001:db8::200"))
        XCTAssertEqual(v6.prefixLength, 64)
        XCTAssertEqual(v6.network, ip("2001:db8::"))
        XCTAssertEqual(CIDR("2001:db8::1")?.prefixLength, 128)
        XCTAssertEqual(CIDR("::/0")?.prefixLength, 0)
        XCTAssertEqual(CIDR("0.0.0.0/0")?.network, ip("0.0.0.0"))
        XCTAssertEqual(CIDR("2001:DB8::0001/128")?.description, "2001:db8::1/128")
    }

    func testCIDRRejectsMalformedText() {
        for text in ["1.2.3.4/33", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/ 8", "/24", "1.2.3.4/24/1",
                     "1.2.3.4/1000", "1.2.3.4/x", "::/129", "192.168.01.1/24", "fe80::1%eth0/64", "", "/"] {
            XCTAssertNil(CIDR(text), "\(text.debugDescription) must be rejected")
        }
    }

    /// iproute2 reads a prefix with base 0, so `ip addr add 10.1.2.3/024` means /20 (octal). The same reasoning that
    /// rejects leading zeros in octets rejects them in the prefix.
    func testCIDRRejectsLeadingZerosInPrefix() {
        for text in ["10.1.2.3/024", "10.1.2.3/08", "2001:db8::1/064"] {
            XCTAssertNil(CIDR(text), "\(text) is ambiguous and must be rejected")
        }
        XCTAssertEqual(CIDR("10.1.2.3/0")?.prefixLength, 0)
    }

    func testCIDRContains() throws {
        let c = cidr("192.168.1.200/24")
        XCTAssertTrue(c.contains(ip("192.168.1.0")))
        XCTAssertTrue(c.contains(ip("192.168.1.255")))
        XCTAssertTrue(c.contains(ip("192.168.1.100")))
        XCTAssertFalse(c.contains(ip("192.168.2.1")))
        XCTAssertFalse(c.contains(ip("192.168.0.255")))
        XCTAssertFalse(c.contains(ip("::ffff:192.168.1.1")), "another family is never contained")
        XCTAssertTrue(cidr("0.0.0.0/0").contains(ip("8.8.8.8")))
        XCTAssertFalse(cidr("0.0.0.0/0").contains(ip("::1")))
        XCTAssertTrue(cidr("10.0.0.1/32").contains(ip("10.0.0.1")))
        XCTAssertFalse(cidr("10.0.0.1/32").contains(ip("10.0.0.2")))
        XCTAssertTrue(cidr("2001:db8::/32").contains(ip("2001:db8:ffff::1")))
        XCTAssertFalse(cidr("2001:db8::/32").contains(ip("2001:db9::1")))
        XCTAssertFalse(cidr("2001:db8::/64").contains(ip("192.168.1.1")))
    }

    // MARK: text forms in JSON

    func testCodableUsesTextForms() throws {
        struct Box: Codable, Equatable { var a: IPAddress; var c: CIDR; var e: Endpoint }
        let box = Box(a: ip("2001:db8::1"), c: cidr("192.168.1.200/24"), e: Endpoint(address: ip("10.0.0.1"), port: 80))
        let data = try SpecJSON.encoder().encode(box)
        XCTAssertEqual(String(decoding: data, as: UTF8.self),
                       #"{"a":"2001:db8::1","c":"192.168.1.200/24","e":{"address":"10.0.0.1","port":80}}"#)
        XCTAssertEqual(try SpecJSON.decoder().decode(Box.self, from: data), box)
        XCTAssertThrowsError(try SpecJSON.decoder().decode([IPAddress].self, from: Data(#"["192.168.01.1"]"#.utf8)))
        XCTAssertThrowsError(try SpecJSON.decoder().decode([CIDR].self, from: Data(#"["192.168.1.1/33"]"#.utf8)))
    }

    func testEndpointDescription() {
        XCTAssertEqual(Endpoint(address: ip("192.168.1.50"), port: 80).description, "192.168.1.50:80")
        XCTAssertEqual(Endpoint(address: ip("2001:db8::1"), port: 443).description, "[2001:db8::1]:443")
    }

    func testEndpointParsesWhatItWrites() {
        XCTAssertEqual(Endpoint("192.168.1.50:80"), Endpoint(address: ip("192.168.1.50"), port: 80))
        XCTAssertEqual(Endpoint("[2001:db8::1]:443"), Endpoint(address: ip("2001:db8::1"), port: 443))
        XCTAssertEqual(Endpoint("[::]:7946"), Endpoint(address: ip("::"), port: 7946))
        // The port is not range-checked here: callers say "out of range" with the setting's name.
        XCTAssertEqual(Endpoint("10.0.0.1:0")?.port, 0)
        XCTAssertEqual(Endpoint("10.0.0.1:70000")?.port, 70000)
        for text in ["192.168.1.50", "192.168.1.50:", "192.168.1.50:http", ":80", "[2001:db8::1]", "[2001:db8::1]80",
                     "2001:db8::1:80", "host.example:80", "[192.168.1.50]:80x", "", "[", "]:80"] {
            XCTAssertNil(Endpoint(text), text)
        }
        for e in [Endpoint(address: ip("10.0.0.1"), port: 7946), Endpoint(address: ip("fe80::1"), port: 1)] {
            XCTAssertEqual(Endpoint(e.description), e)
        }
    }
}
