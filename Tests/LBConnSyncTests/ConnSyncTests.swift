import Foundation
import LBSpec
import Testing
@testable import LBConnSync

@Suite struct SyncMessageTests {
    static func connection(_ client: String = "192.168.1.51", port: UInt16 = 40000, state: UInt16 = 1, template: Bool = false,
                           expires: UInt32 = 7200) -> IPVSConnection {
        IPVSConnection(protocolNumber: 6, client: IPAddress(client)!, clientPort: template ? 0 : port, virtual: IPAddress("192.168.1.200")!,
                       virtualPort: 80, destination: IPAddress("192.168.1.102")!, destinationPort: 80, state: state, isTemplate: template,
                       expiresSeconds: expires)
    }

    @Test func anEntryHasTheKernelsLayout() throws {
        let e = SyncMessage.Entry(Self.connection(), forward: SyncMessage.Flag.directRoute)
        let m = SyncMessage.encode([e], syncID: 9)
        #expect(m.count == 1)
        let b = m[0]
        #expect(b.count == 8 + 36)
        // Header: reserved 0, sync id, size, one entry, version 1, spare 0.
        #expect(Array(b[0..<8]) == [0, 9, 0, 44, 1, 1, 0, 0])
        // Entry: type 0 (IPv4), TCP, version 0 and size 36, flags DR (active), state ESTABLISHED, ports.
        #expect(Array(b[8..<12]) == [0, 6, 0, 36])
        #expect(Array(b[12..<16]) == [0, 0, 0, 3])
        #expect(Array(b[16..<18]) == [0, 1])
        #expect(Array(b[18..<24]) == [0x9C, 0x40, 0, 80, 0, 80])
        #expect(Array(b[24..<28]) == [0, 0, 0, 0])                  // fwmark
        #expect(Array(b[28..<32]) == [0, 0, 0x1C, 0x20])            // 7200 s
        #expect(Array(b[32..<44]) == [192, 168, 1, 51, 192, 168, 1, 200, 192, 168, 1, 102])
    }

    @Test func templatesAndQuietConnectionsCarryTheirFlags() {
        let t = SyncMessage.Entry(Self.connection(template: true, expires: 3600), forward: SyncMessage.Flag.directRoute)
        #expect(t.flags == SyncMessage.Flag.template | SyncMessage.Flag.directRoute)
        let closing = SyncMessage.Entry(Self.connection(state: 4), forward: SyncMessage.Flag.directRoute)
        #expect(closing.flags == SyncMessage.Flag.inactive | SyncMessage.Flag.directRoute)
    }

    @Test func roundTripsAndSplitsIntoDatagramsThatFit() throws {
        let entries = (0..<1000).map { i in
            SyncMessage.Entry(Self.connection(port: UInt16(20000 + i)), forward: SyncMessage.Flag.directRoute)
        } + [SyncMessage.Entry(IPVSConnection(protocolNumber: 6, client: IPAddress("2001:db8::51")!, clientPort: 1, virtual: IPAddress("2001:db8::200")!,
                                              virtualPort: 443, destination: IPAddress("2001:db8::102")!, destinationPort: 443, state: 1,
                                              isTemplate: false, expiresSeconds: 5), forward: SyncMessage.Flag.tunnel)]
        let messages = SyncMessage.encode(entries, syncID: 0)
        #expect(messages.allSatisfy { $0.count <= 1196 })
        #expect(messages.count == 31)   // 33 entries of 36 bytes per datagram
        var back: [SyncMessage.Entry] = []
        for m in messages {
            let (id, e) = try SyncMessage.decode(m)
            #expect(id == 0)
            back += e
        }
        #expect(back == entries)
    }

    @Test func refusesWhatTheKernelWouldDrop() {
        let good = SyncMessage.encode([.init(Self.connection(), forward: 3)], syncID: 1)[0]
        var short = good; short.removeLast()
        #expect(throws: SyncMessage.Malformed.self) { try SyncMessage.decode(short) }          // size field disagrees
        var v0 = good; v0[0] = 1
        #expect(throws: SyncMessage.Malformed.self) { try SyncMessage.decode(v0) }             // version 0 header
        var count = good; count[4] = 2
        #expect(throws: SyncMessage.Malformed.self) { try SyncMessage.decode(count) }          // an entry missing
        var size = good; size[11] = 200
        #expect(throws: SyncMessage.Malformed.self) { try SyncMessage.decode(size) }           // entry longer than the message
        var type = good; type[8] = 7
        #expect(throws: SyncMessage.Malformed.self) { try SyncMessage.decode(type) }
        #expect(throws: SyncMessage.Malformed.self) { try SyncMessage.decode([0, 1]) }
    }
}

@Suite struct ConnectionListingTests {
    // As the lab's 6.1 kernel prints it (ipvsadm -Lcn reads the same file).
    static let listing = """
        Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
        TCP C0A80133 9C40 C0A801C8 0050 C0A80166 0050 ESTABLISHED    7199
        TCP C0A80133 0000 C0A801C8 0050 C0A80166 0050 ASSURED        3599
        TCP C0A80134 0000 C0A801C8 0050 C0A80167 0050 NONE             59
        TCP C0A80134 A001 C0A801C8 0050 C0A80167 0050 SYN_RECV           59
        UDP C0A80135 3039 C0A801C8 0035 C0A80166 0035 UDP             299
        TCP 2001:0db8:0000:0000:0000:0000:0000:0051 9C40 2001:0db8:0000:0000:0000:0000:0000:0200 01BB 2001:0db8:0000:0000:0000:0000:0000:0102 01BB ESTABLISHED      59

        """

    @Test func readsConnectionsAndTemplates() throws {
        let all = try ConnectionListing.parse(Array(Self.listing.utf8))
        #expect(all.count == 6)
        #expect(all[0] == SyncMessageTests.connection(port: 0x9C40, expires: 7199))
        #expect(all[0].isEstablished)
        #expect(all[1].isTemplate && all[1].state == 1 && all[1].expiresSeconds == 3599)
        #expect(all[2].isTemplate && all[2].state == 0 && all[2].destination == IPAddress("192.168.1.103")!)
        #expect(!all[3].isTemplate && all[3].state == 3 && !all[3].isEstablished)
        #expect(all[4].protocolNumber == 17 && all[4].virtualPort == 53)
        #expect(all[5].client == IPAddress("2001:db8::51")! && all[5].virtualPort == 443 && all[5].isEstablished)
    }

    @Test func saysWhichLineIsWrong() {
        let bad = Self.listing.replacingOccurrences(of: "SYN_RECV", with: "SYN_WHAT")
        #expect(throws: ConnectionListing.Malformed(line: 5, reason: "unknown TCP state SYN_WHAT")) {
            try ConnectionListing.parse(Array(bad.utf8))
        }
        #expect(throws: ConnectionListing.Malformed.self) { try ConnectionListing.parse(Array("TCP C0A8 0050\n".utf8)) }
    }
}
