@testable import LBNetlink
import LBSpec
import XCTest

/// Table-driven tests of the wire format, independent of any socket (cf. moby/ipvs netlink_linux_test.go).
final class NetlinkCodecTests: XCTestCase {
    func testHeaderIsHostOrderAndPadded() {
        let m = NetlinkMessage(type: 20, flags: 0x405, sequence: 7, portID: 99, payload: [1, 2, 3])
        let wire = m.encoded()
        XCTAssertEqual(wire.count, 20, "16-byte header + 3 bytes, padded to 4")
        XCTAssertEqual(Array(wire[0..<4]), [19, 0, 0, 0], "length counts the unpadded message")
        XCTAssertEqual(Array(wire[4..<8]), [20, 0, 0x05, 0x04])
        XCTAssertEqual(try NetlinkMessage.parseAll(wire), [m])
    }

    func testSeveralMessagesInOneDatagram() throws {
        let a = NetlinkMessage(type: 16, flags: 2, sequence: 1, portID: 5, payload: [9])
        let b = NetlinkMessage(type: 3, flags: 2, sequence: 1, portID: 5, payload: [0, 0, 0, 0])
        XCTAssertEqual(try NetlinkMessage.parseAll(a.encoded() + b.encoded()), [a, b])
    }

    func testMalformedDatagramsAreErrorsNotCrashes() {
        let cases: [(String, [UInt8])] = [
            ("length below header", [4, 0, 0, 0] + [UInt8](repeating: 0, count: 12)),
            ("length past the end", [200, 0, 0, 0] + [UInt8](repeating: 0, count: 12)),
            ("trailing bytes", NetlinkMessage(type: 1, flags: 0, payload: []).encoded() + [1, 2, 3]),
        ]
        for (name, bytes) in cases {
            XCTAssertThrowsError(try NetlinkMessage.parseAll(bytes), name)
        }
    }

    func testAttributesNestAndPad() throws {
        var w = AttributeWriter()
        w.put(1, host: UInt16(2))
        w.nest(2) { inner in
            inner.put(3, string: "wrr")
            inner.put(4, [0x00, 0x50])
        }
        let attributes = try NetlinkAttribute.parseAll(w.bytes[...])
        XCTAssertEqual(attributes.map(\.type), [1, 2])
        XCTAssertEqual(try attributes[0].u16(), 2)
        let inner = try attributes[1].nested()
        XCTAssertEqual(inner[0].string(), "wrr")
        XCTAssertEqual(try inner[1].be16(), 80)
        XCTAssertEqual(w.bytes.count % 4, 0)
        // The nested flag is set on the wire and stripped when parsing.
        XCTAssertEqual(w.bytes.readHost(UInt16.self, at: 10) & NL.attrNested, NL.attrNested)
    }

    func testAttributeOverrunIsMalformed() {
        XCTAssertThrowsError(try NetlinkAttribute.parseAll([40, 0, 1, 0, 0, 0][...]))
        XCTAssertThrowsError(try NetlinkAttribute(type: 1, value: [1][...]).u32())
    }

    func testErrorReplyCarriesTheKernelsText() throws {
        var payload: [UInt8] = []
        payload.appendHost(Int32(-17))
        payload += NetlinkMessage(type: 20, flags: 5, sequence: 1, portID: 1, payload: []).encoded()
        var w = AttributeWriter(prefix: payload)
        w.put(NL.errAttrMsg, string: "Address already assigned")
        let m = NetlinkMessage(type: NL.msgError, flags: NL.fAckTLVs, payload: w.bytes)
        let (code, text) = try NetlinkSocket.parseError(m)
        XCTAssertEqual(code, -17)
        XCTAssertEqual(text, "Address already assigned")
    }

    func testAddressRequestRoundTrip() throws {
        let a = InterfaceAddress(interfaceIndex: 1, address: CIDR("192.168.1.200/32")!, label: "lo:0", scope: 0)
        let request = RouteMessages.addAddress(a, interfaceName: "lo")
        XCTAssertEqual(request.flags, NL.fCreate | NL.fExcl)
        XCTAssertEqual(request.description, "add address 192.168.1.200/32 to lo label lo:0")
        // The kernel echoes the same layout in RTM_NEWADDR, so the request parses as an address.
        let parsed = try RouteMessages.parseAddress(NetlinkMessage(type: RT.newAddr, flags: 0, payload: request.payload))
        XCTAssertEqual(parsed, a)
    }

    func testIPVSServiceRequestParsesBackAsAReply() throws {
        let m = IPVSMessages(family: 42)
        let s = IPVSService(key: IPVSServiceKey(address: IPAddress("192.168.1.200")!, port: 80, protocol: .tcp), scheduler: "wrr",
                            flags: IPVSService.persistentFlag, timeout: 3600, netmask: 0xFFFF_FF00)
        let request = m.newService(s)
        XCTAssertEqual(request.type, 42)
        XCTAssertEqual(Array(request.payload[0..<2]), [IPVSABI.cmdNewService, IPVSABI.version])
        let parsed = try m.parseService(NetlinkMessage(type: 42, flags: 0, payload: request.payload))
        XCTAssertEqual(parsed.configuration, s.configuration)
        // Port and IPv4 netmask travel in network order, as the kernel reads them.
        let attributes = try NetlinkAttribute.parseAll(request.payload[4...])
        let service = try attributes[0].nested()
        XCTAssertEqual(Array(service.first(IPVSABI.svcPort)!.value), [0x00, 0x50])
        XCTAssertEqual(Array(service.first(IPVSABI.svcNetmask)!.value), [255, 255, 255, 0])
        XCTAssertEqual(service.first(IPVSABI.svcAddr)!.value.count, 16, "union nf_inet_addr")
    }

    func testFirewallMarkServiceIsKeyedByFamilyAndMarkAlone() throws {
        let m = IPVSMessages(family: 42)
        for family in [IPAddress.Family.ipv4, .ipv6] {
            let key = IPVSServiceKey(fwmark: 7, family: family)
            let s = IPVSService(key: key, scheduler: "wrr", flags: IPVSService.persistentFlag, timeout: 300,
                                netmask: family == .ipv4 ? 0xFFFF_FFFF : 128)
            let request = m.newService(s)
            let service = try NetlinkAttribute.parseAll(request.payload[4...])[0].nested()
            // As ipvsadm -f sends it: no address, port or protocol, which the kernel would reject beside a mark.
            XCTAssertNil(service.first(IPVSABI.svcAddr))
            XCTAssertNil(service.first(IPVSABI.svcPort))
            XCTAssertNil(service.first(IPVSABI.svcProtocol))
            XCTAssertEqual(Array(service.first(IPVSABI.svcFWMark)!.value), [7, 0, 0, 0], "NLA_U32, host order")
            XCTAssertEqual(try service.first(IPVSABI.svcAF)!.u16(), UInt16(family == .ipv4 ? 2 : 10))
            let parsed = try m.parseService(NetlinkMessage(type: 42, flags: 0, payload: request.payload))
            XCTAssertEqual(parsed.configuration, s.configuration)
            XCTAssertEqual(parsed.key.description, family == .ipv4 ? "fwmark 7/ipv4" : "fwmark 7/ipv6")
        }
        XCTAssertNotEqual(IPVSServiceKey(fwmark: 7, family: .ipv4), IPVSServiceKey(fwmark: 7, family: .ipv6))
        XCTAssertNotEqual(IPVSServiceKey(fwmark: 7, family: .ipv4), IPVSServiceKey(address: .v4(0), port: 0, protocol: .tcp))
    }

    func testIPVSDestinationRoundTripForEveryForwardingMethod() throws {
        let m = IPVSMessages(family: 42)
        let key = IPVSServiceKey(address: IPAddress("fd00::200")!, port: 443, protocol: .tcp)
        for f in Forwarding.allCases {
            let d = IPVSDestination(address: IPAddress("fd00::102")!, port: 443, forwarding: f, weight: 65535)
            let request = m.newDestination(d, of: key)
            let parsed = try m.parseDestination(NetlinkMessage(type: 42, flags: 0, payload: request.payload), family: .ipv6)
            XCTAssertEqual(parsed.configuration, d.configuration, "\(f)")
        }
    }

    func testIPVSDaemonAndTimeouts() throws {
        let m = IPVSMessages(family: 42)
        let d = IPVSSyncDaemon(state: .backup, interface: "eth0", syncID: 51)
        XCTAssertEqual(try m.parseDaemon(NetlinkMessage(type: 42, flags: 0, payload: m.startDaemon(d).payload)), d)
        let t = IPVSTimeoutConfig(tcp: 7260, tcpFin: 120, udp: 300)
        XCTAssertEqual(try m.parseTimeouts(NetlinkMessage(type: 42, flags: 0, payload: m.setTimeouts(t).payload)), t)
    }

    func testTruncatedIPVSRepliesAreErrors() {
        let m = IPVSMessages(family: 42)
        let full = m.newService(IPVSService(key: IPVSServiceKey(address: .v4(1), port: 1, protocol: .udp), scheduler: "rr")).payload
        for cut in stride(from: 0, to: full.count, by: 3) {
            let message = NetlinkMessage(type: 42, flags: 0, payload: Array(full[0..<cut]))
            XCTAssertThrowsError(try m.parseService(message), "cut at \(cut)")
        }
    }
}
