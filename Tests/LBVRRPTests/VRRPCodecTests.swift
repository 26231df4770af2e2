import LBSpec
@testable import LBVRRP
import XCTest

/// The wire format against keepalived 2.2.7's own packets (Tests/LBVRRPTests/Resources, captured on a
/// bridge: a master with priority 150 sends four adverts, resigns with priority 0 on SIGTERM, and the
/// backup with priority 100 takes over).
final class VRRPCodecTests: XCTestCase {
    let keepalivedMaster = IPAddress("10.99.0.1")!
    let keepalivedBackup = IPAddress("10.99.0.2")!

    /// Every frame: Ethernet to 01:00:5e:00:00:12, IPv4 TOS 0xc0 TTL 255 protocol 112 to 224.0.0.18; the
    /// IP datagram decodes and re-encodes byte for byte, IP header included.
    func roundTrip(_ capture: String, version: VRRPVersion) throws -> [(IPv4Header, VRRPAdvertisement)] {
        let frames = try PCAP.frames(capture)
        XCTAssertEqual(frames.count, 12)
        return try frames.map { frame in
            XCTAssertEqual(Array(frame[0..<6]), [0x01, 0x00, 0x5E, 0x00, 0x00, 0x12], "VRRP multicast MAC")
            XCTAssertEqual(Array(frame[12..<14]), [0x08, 0x00])
            let datagram = Array(frame[14...])
            let (ip, payload) = try IPv4Header.decode(datagram)
            XCTAssertEqual(ip.typeOfService, 0xC0)
            XCTAssertEqual(ip.timeToLive, 255)
            XCTAssertEqual(ip.protocolNumber, 112)
            XCTAssertEqual(ip.destination, group)
            XCTAssertEqual(ip.flagsAndFragmentOffset, 0, "keepalived builds its own header: no DF")
            let advert = try VRRPAdvertisement.decode(payload, source: ip.source, destination: ip.destination)
            XCTAssertEqual(advert.version, version)
            XCTAssertEqual(advert.encoded(source: ip.source, destination: ip.destination), Array(payload), "VRRP body re-encodes byte for byte")
            XCTAssertEqual(ip.encoded(payload: Array(payload)), datagram, "the whole datagram re-encodes byte for byte")
            XCTAssertEqual(advert.datagram(source: ip.source, destination: ip.destination, identification: ip.identification), datagram)
            return (ip, advert)
        }
    }

    func testKeepalivedV2CaptureRoundTripsByteForByte() throws {
        let packets = try roundTrip("keepalived-vrrp-v2-term", version: .v2)
        let first = packets[0].1
        XCTAssertEqual(first.virtualRouterID, 51)
        XCTAssertEqual(first.priority, 150)
        XCTAssertEqual(first.addresses, [vip.address])
        XCTAssertEqual(first.authType, VRRPAdvertisement.AuthType.simpleText)
        XCTAssertEqual(first.authData, Array("s3cret".utf8) + [0, 0])
        XCTAssertEqual(first.authData, VRRPAdvertisement.passwordData("s3cret"))
        XCTAssertEqual(first.intervalCentiseconds, 100)
        XCTAssertEqual(first.checksum, 0x0085)
        // The story of the capture: 4 adverts, the resign advert, then the backup as master.
        XCTAssertEqual(packets.map { Int($0.1.priority) }, [150, 150, 150, 150, 0, 100, 100, 100, 100, 100, 100, 100])
        XCTAssertEqual(packets.map(\.0.source), Array(repeating: keepalivedMaster, count: 5) + Array(repeating: keepalivedBackup, count: 7))
        // keepalived numbers its own IP ids from 1 per instance.
        XCTAssertEqual(packets.prefix(5).map(\.0.identification), [1, 2, 3, 4, 5])
        XCTAssertEqual(packets[4].1.checksum, 0x9685, "priority 0 changes the checksum")
    }

    func testKeepalivedV3CaptureRoundTripsByteForByte() throws {
        let packets = try roundTrip("keepalived-vrrp-v3-term", version: .v3)
        let first = packets[0].1
        XCTAssertEqual(first.virtualRouterID, 51)
        XCTAssertEqual(first.priority, 150)
        XCTAssertEqual(first.intervalCentiseconds, 100, "12-bit interval in centiseconds: 0x064")
        XCTAssertEqual(first.authType, 0)
        XCTAssertEqual(first.authData, [])
        XCTAssertEqual(first.checksum, 0x4249)
        XCTAssertEqual(packets.map { Int($0.1.priority) }, [150, 150, 150, 150, 0, 100, 100, 100, 100, 100, 100, 100])
    }

    func testOurAdvertisementsAreKeepalivedsBytes() throws {
        let v2 = VRRPAdvertisement(version: .v2, virtualRouterID: 51, priority: 150, intervalCentiseconds: 100, addresses: [vip.address],
                                   authType: 1, authData: VRRPAdvertisement.passwordData("s3cret"))
        XCTAssertEqual(v2.encoded(source: keepalivedMaster, destination: group),
                       [0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0x00, 0x85, 0x0A, 0x63, 0x00, 0xC8] + Array("s3cret".utf8) + [0, 0])
        let v3 = VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: 150, intervalCentiseconds: 100, addresses: [vip.address])
        XCTAssertEqual(v3.encoded(source: keepalivedMaster, destination: group),
                       [0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0x42, 0x49, 0x0A, 0x63, 0x00, 0xC8])
        let frames = try PCAP.frames("keepalived-vrrp-v3-term")
        XCTAssertEqual(v3.datagram(source: keepalivedMaster, destination: group, identification: 1), Array(frames[0][14...]))
    }

    func testV2ChecksumCoversTheMessageAloneV3IncludesThePseudoHeader() throws {
        let v2 = VRRPAdvertisement(version: .v2, virtualRouterID: 51, priority: 100, intervalCentiseconds: 100, addresses: [vip.address])
        let v2Bytes = v2.encoded(source: keepalivedMaster, destination: group)
        XCTAssertEqual(v2Bytes, v2.encoded(source: keepalivedBackup, destination: keepalivedMaster), "v2 ignores the IP addresses")
        XCTAssertNoThrow(try VRRPAdvertisement.decode(v2Bytes[...], source: keepalivedBackup, destination: keepalivedMaster))
        XCTAssertTrue(InternetChecksum.verifies(v2Bytes))

        let v3 = VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: 100, intervalCentiseconds: 10, addresses: [vip.address])
        let multicast = v3.encoded(source: keepalivedMaster, destination: group)
        let unicast = v3.encoded(source: keepalivedMaster, destination: keepalivedBackup)
        XCTAssertNotEqual(multicast, unicast, "each unicast destination gets its own checksum")
        XCTAssertEqual(Array(multicast[..<6]), Array(unicast[..<6]))
        XCTAssertNoThrow(try VRRPAdvertisement.decode(unicast[...], source: keepalivedMaster, destination: keepalivedBackup))
        XCTAssertThrowsError(try VRRPAdvertisement.decode(multicast[...], source: keepalivedMaster, destination: keepalivedBackup)) {
            XCTAssertEqual(($0 as? VRRPError)?.kind, .badChecksum)
        }
        XCTAssertThrowsError(try VRRPAdvertisement.decode(multicast[...], source: keepalivedBackup, destination: group)) {
            XCTAssertEqual(($0 as? VRRPError)?.kind, .badChecksum)
        }
    }

    func testIPv6VersionThreeRoundTrips() throws {
        let source = IPAddress("fe80::1")!, destination = IPAddress("ff02::12")!
        let advert = VRRPAdvertisement(version: .v3, virtualRouterID: 7, priority: 200, intervalCentiseconds: 4095,
                                       addresses: [IPAddress("2001:db8::1")!, IPAddress("fe80::200")!])
        let bytes = advert.encoded(source: source, destination: destination)
        XCTAssertEqual(bytes.count, 8 + 32)
        var decoded = try VRRPAdvertisement.decode(bytes[...], source: source, destination: destination)
        decoded.checksum = 0
        XCTAssertEqual(decoded, advert)
    }

    /// The IPv6 header the transport rebuilds round-trips, and the state machine takes an IPv6 datagram
    /// on an IPv6 instance (hop limit checked as IPv4's TTL), and discards one of the other family.
    func testIPv6DatagramsReachTheStateMachine() throws {
        let source = IPAddress("fe80::1")!, group = IPAddress("ff02::12")!
        let v6 = CIDR("2001:db8::200/64")!
        let advert = VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: 200, intervalCentiseconds: 10, addresses: [v6.address])
        let header = IPv6Header(hopLimit: 255, source: source, destination: group)
        let datagram = header.encoded(payload: advert.encoded(source: source, destination: group))
        let (decoded, payload) = try IPv6Header.decode(datagram[...])
        XCTAssertEqual(decoded.source, source)
        XCTAssertEqual(decoded.destination, group)
        XCTAssertEqual(decoded.hopLimit, 255)
        XCTAssertEqual(decoded.nextHeader, 112)
        XCTAssertEqual(decoded.trafficClass, 0xC0)
        XCTAssertEqual(Int(decoded.payloadLength), payload.count)
        XCTAssertThrowsError(try IPv6Header.decode(datagram.prefix(39)[...]))
        XCTAssertThrowsError(try IPv6Header.decode((datagram.prefix(60) + [])[...]), "payload length past the end")

        let c = VRRPConfiguration(interface: "eth0", virtualRouterID: 51, version: .v3, priority: 100, advertisementIntervalCentiseconds: 10,
                                  virtualAddresses: [v6])
        XCTAssertEqual(c.problems, [])
        XCTAssertEqual(c.multicastGroup, group)
        var i = VRRPInstance(configuration: c, primaryAddress: IPAddress("fe80::2")!)
        _ = i.start(now: .zero)
        _ = i.receive(datagram: datagram, now: .milliseconds(10))
        XCTAssertEqual(i.statistics.advertisementsReceived, 1, "accepted: \(i.statistics)")
        XCTAssertEqual(i.masterAddress, source)
        var hop = IPv6Header(hopLimit: 254, source: source, destination: group)
        hop.hopLimit = 254
        XCTAssertEqual(i.receive(datagram: hop.encoded(payload: advert.encoded(source: source, destination: group)), now: .milliseconds(20)).discards.map(\.reason), [.ttl])
        let v4 = advert.datagram(source: IPAddress("10.99.0.1")!, destination: IPAddress("224.0.0.18")!)
        XCTAssertEqual(i.receive(datagram: v4, now: .milliseconds(30)).discards.map(\.reason), [.malformed], "an IPv4 datagram on an IPv6 instance")

        var v2 = c
        v2.version = .v2
        v2.advertisementIntervalCentiseconds = 100
        XCTAssertEqual(v2.problems, ["VRRPv2 carries IPv4 only; an IPv6 instance needs --version 3"])
        var mixed = c
        mixed.virtualAddresses.append(CIDR("10.99.0.200/24")!)
        XCTAssertEqual(mixed.problems, ["virtual address 10.99.0.200/24 is not IPv6 like 2001:db8::200/64; an instance carries one family"])
    }

    /// The unsolicited neighbour advertisement: to all nodes from the VIP, hop limit 255, Override, the
    /// MAC as target link-layer address, and an ICMPv6 checksum that verifies over the pseudo-header.
    func testUnsolicitedNeighbourAdvertisement() {
        let mac: [UInt8] = [0x02, 0, 0, 0, 0, 0x01], vip = IPAddress("2001:db8::200")!
        let f = NeighbourAdvertisementFrame.frame(senderMAC: mac, address: vip)
        XCTAssertEqual(f.count, 86)
        XCTAssertEqual(Array(f[0..<6]), [0x33, 0x33, 0, 0, 0, 1], "the Ethernet address of ff02::1")
        XCTAssertEqual(Array(f[6..<12]), mac)
        XCTAssertEqual(Array(f[12..<14]), [0x86, 0xDD])
        let ip = Array(f[14...])
        XCTAssertEqual(ip[6], 58, "ICMPv6")
        XCTAssertEqual(ip[7], 255, "hop limit 255, or receivers drop it (RFC 4861 7.1.2)")
        XCTAssertEqual(Array(ip[8..<24]), vip.bytes)
        XCTAssertEqual(Array(ip[24..<40]), IPAddress("ff02::1")!.bytes)
        let icmp = Array(ip[40...])
        XCTAssertEqual(icmp[0], 136)
        XCTAssertEqual(icmp[4], 0x20, "Override only: not a router, not solicited")
        XCTAssertEqual(Array(icmp[8..<24]), vip.bytes)
        XCTAssertEqual(Array(icmp[24...]), [2, 1] + mac)
        let pseudo = vip.bytes + IPAddress("ff02::1")!.bytes + [0, 0, 0, UInt8(icmp.count), 0, 0, 0, 58]
        XCTAssertTrue(InternetChecksum.verifies(icmp, initial: InternetChecksum.sum(pseudo)))
    }

    func testMalformedAdvertisementsAreRejected() throws {
        let good = VRRPAdvertisement(version: .v2, virtualRouterID: 51, priority: 100, intervalCentiseconds: 100, addresses: [vip.address],
                                     authType: 1, authData: VRRPAdvertisement.passwordData("s3cret"))
            .encoded(source: keepalivedMaster, destination: group)
        let v3 = VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: 100, intervalCentiseconds: 100, addresses: [vip.address])
            .encoded(source: keepalivedMaster, destination: group)
        func with(_ bytes: [UInt8], _ change: (inout [UInt8]) -> Void, fixChecksum: Bool = true, v3: Bool = false) -> [UInt8] {
            var b = bytes
            change(&b)
            if fixChecksum && b.count >= 8 {
                b[6] = 0; b[7] = 0
                let initial = v3 ? VRRPAdvertisement.pseudoHeaderSum(source: keepalivedMaster, destination: group, length: b.count) : 0
                let sum = InternetChecksum.checksum(b, initial: initial)
                b[6] = UInt8(sum >> 8); b[7] = UInt8(sum & 0xFF)
            }
            return b
        }
        let cases: [(String, [UInt8], VRRPError.Kind)] = [
            ("empty", [], .truncated),
            ("7 bytes", Array(good.prefix(7)), .truncated),
            ("address list cut", Array(good.prefix(14)), .truncated),
            ("count says 2", with(good) { $0[3] = 2 }, .truncated),
            ("trailing byte", with(good) { $0.append(0) }, .trailingBytes),
            ("version 1", with(good) { $0[0] = 0x11 }, .badVersion),
            ("version 4", with(good) { $0[0] = 0x41 }, .badVersion),
            ("type 2", with(good) { $0[0] = 0x22 }, .badType),
            ("type 0", with(good) { $0[0] = 0x20 }, .badType),
            ("checksum off by one", with(good, { $0[7] ^= 1 }, fixChecksum: false), .badChecksum),
            ("priority changed, checksum not", with(good, { $0[2] = 255 }, fixChecksum: false), .badChecksum),
            ("VRID 0", with(good) { $0[1] = 0 }, .badField),
            ("v3 interval 0", with(v3, { $0[4] = 0xF0; $0[5] = 0 }, v3: true), .badField),
        ]
        for (name, bytes, kind) in cases {
            XCTAssertThrowsError(try VRRPAdvertisement.decode(bytes[...], source: keepalivedMaster, destination: group), name) {
                XCTAssertEqual(($0 as? VRRPError)?.kind, kind, "\(name): \($0)")
            }
        }
        // v3 reserved bits are ignored on reception (RFC 5798 5.2.6).
        XCTAssertEqual(try VRRPAdvertisement.decode(with(v3, { $0[4] |= 0xF0 }, v3: true)[...], source: keepalivedMaster, destination: group).intervalCentiseconds, 100)
        // v2 is IPv4 only.
        XCTAssertThrowsError(try VRRPAdvertisement.decode(good[...], source: IPAddress("fe80::1")!, destination: IPAddress("ff02::12")!)) {
            XCTAssertEqual(($0 as? VRRPError)?.kind, .badVersion)
        }
    }

    func testMalformedIPHeadersAreRejected() throws {
        let datagram = Array(try PCAP.frames("keepalived-vrrp-v2-term")[0][14...])
        func fixed(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
            var b = datagram
            change(&b)
            b[10] = 0; b[11] = 0
            let ihl = min(Int(b[0] & 0x0F) * 4, b.count)
            let sum = InternetChecksum.checksum(b[0..<max(ihl, 20)])
            b[10] = UInt8(sum >> 8); b[11] = UInt8(sum & 0xFF)
            return b
        }
        let cases: [(String, [UInt8], VRRPError.Kind)] = [
            ("19 bytes", Array(datagram.prefix(19)), .truncated),
            ("IPv6 version", fixed { $0[0] = 0x65 }, .badIPHeader),
            ("header length 16", fixed { $0[0] = 0x44 }, .badIPHeader),
            ("options beyond the data", fixed { $0[0] = 0x4F; $0[2] = 0; $0[3] = 60 }, .truncated),
            ("total length beyond the data", fixed { $0[3] = 0x40 }, .truncated),
            ("total length inside the header", fixed { $0[3] = 10 }, .badIPHeader),
            ("header checksum", { var b = datagram; b[11] ^= 0xFF; return b }(), .badIPHeader),
            ("fragment", fixed { $0[6] = 0x20 }, .badIPHeader),
        ]
        for (name, bytes, kind) in cases {
            XCTAssertThrowsError(try IPv4Header.decode(bytes), name) {
                XCTAssertEqual(($0 as? VRRPError)?.kind, kind, "\(name): \($0)")
            }
        }
        // Ethernet padding after the datagram is not part of it.
        let (_, payload) = try IPv4Header.decode(datagram + [0, 0, 0, 0])
        XCTAssertEqual(payload.count, 20)
    }

    func testGratuitousARPIsKeepalivedsFrame() {
        let mac: [UInt8] = [0xDA, 0x62, 0x86, 0x17, 0x7A, 0x6F]
        let frame = GratuitousARPFrame.frame(senderMAC: mac, address: vip.address)
        XCTAssertEqual(frame, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + mac + [0x08, 0x06,
                               0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01] + mac + [10, 99, 0, 200]
                               + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + [10, 99, 0, 200])
        XCTAssertEqual(frame.count, 42)
        XCTAssertNil(GratuitousARPFrame.parseReply(frame), "a request is not a reply")
        var reply = frame
        reply[21] = 2
        XCTAssertEqual(GratuitousARPFrame.parseReply(reply)?.sender, vip.address)
        XCTAssertEqual(GratuitousARPFrame.parseReply(reply)?.senderMAC, mac)
    }

    func testInternetChecksumOfOddLengthsAndCarries() {
        XCTAssertEqual(InternetChecksum.checksum([UInt8]()), 0xFFFF)
        XCTAssertEqual(InternetChecksum.checksum([0x01]), ~UInt16(0x0100))
        XCTAssertEqual(InternetChecksum.checksum([0xFF, 0xFF, 0x00, 0x01]), ~UInt16(0x0001))
        XCTAssertTrue(InternetChecksum.verifies([0xFF, 0xFF]))
    }
}
