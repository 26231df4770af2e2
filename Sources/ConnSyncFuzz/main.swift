// libFuzzer driver for what the connection handover reads: IPVS sync datagrams as a backup's kernel
// receives them (a director's agent may listen on the same group), and the kernel's connection listing.
// A malformed input must be an error, never a crash; what decodes must encode back to the same bytes.
// Build and run with scripts/fuzz.sh connsync.
#if FUZZ
import LBFuzzSupport
import LBSpec
@testable import LBConnSync

enum Decoders {
    static func run(_ bytes: [UInt8]) {
        if let (syncID, entries) = try? SyncMessage.decode(bytes) {
            let again = SyncMessage.encode(entries, syncID: syncID, maxBytes: 1 << 16)
            precondition(entries.isEmpty || again == [bytes], "re-encoding changed a valid sync message")
        }
        _ = try? ConnectionListing.parse(bytes)
    }

    static func seeds() -> [(String, [UInt8])] {
        let c = IPVSConnection(protocolNumber: 6, client: IPAddress("192.168.1.51")!, clientPort: 40000, virtual: IPAddress("192.168.1.200")!,
                               virtualPort: 80, destination: IPAddress("192.168.1.102")!, destinationPort: 80, state: 1, isTemplate: false,
                               expiresSeconds: 7200)
        var t = c
        t.clientPort = 0; t.state = 1; t.isTemplate = true; t.expiresSeconds = 3600
        let v6 = IPVSConnection(protocolNumber: 6, client: IPAddress("2001:db8::51")!, clientPort: 40000, virtual: IPAddress("2001:db8::200")!,
                                virtualPort: 443, destination: IPAddress("2001:db8::102")!, destinationPort: 443, state: 1, isTemplate: false,
                                expiresSeconds: 60)
        let message = SyncMessage.encode([.init(c, forward: SyncMessage.Flag.directRoute), .init(t, forward: SyncMessage.Flag.directRoute),
                                          .init(v6, forward: SyncMessage.Flag.directRoute)], syncID: 7)
        let listing = """
            Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
            TCP C0A80133 9C40 C0A801C8 0050 C0A80166 0050 ESTABLISHED    7199
            TCP C0A80133 0000 C0A801C8 0050 C0A80166 0050 ASSURED        3599
            TCP 2001:0db8:0000:0000:0000:0000:0000:0051 9C40 2001:0db8:0000:0000:0000:0000:0000:0200 01BB 2001:0db8:0000:0000:0000:0000:0000:0102 01BB ESTABLISHED      59

            """
        return [("message.bin", message[0]), ("listing.txt", Array(listing.utf8))]
    }
}

FuzzDriver.main(seeds: Decoders.seeds, body: Decoders.run)
#else
print("ConnSyncFuzz must be built with -sanitize=fuzzer -DFUZZ; run scripts/fuzz.sh connsync")
#endif
