// libFuzzer driver for everything a VRRP speaker reads from the LAN: IPv4 and IPv6 headers, VRRPv2/v3
// advertisements over IPv4 and IPv6, and whole datagrams of both families through the state machine's
// receive path (all of section 7.1's checks, in Backup and in Master, on IPv4 and IPv6 instances). A malformed packet must be a counted discard, never
// a crash. Build and run with scripts/fuzz.sh vrrp.
#if FUZZ
import LBFuzzSupport
#if canImport(Glibc)
import Glibc
#endif
import LBSpec
@testable import LBVRRP

enum Decoders {
    static let source = IPAddress("10.99.0.1")!
    static let group = IPAddress("224.0.0.18")!
    static let v6Source = IPAddress("fe80::1")!
    static let v6Group = IPAddress("ff02::12")!

    static func configuration(_ version: VRRPVersion) -> VRRPConfiguration {
        VRRPConfiguration(interface: "eth0", virtualRouterID: 51, version: version, priority: 100,
                          advertisementIntervalCentiseconds: 100, authPassword: version == .v2 ? "s3cret" : nil,
                          virtualAddresses: [CIDR("10.99.0.200/24")!])
    }

    /// A backup and a master of each version, and of an IPv6 instance, so both states' receive rules run.
    static let instances: [VRRPInstance] = {
        var v6 = configuration(.v3)
        v6.virtualAddresses = [CIDR("2001:db8::200/64")!]
        let all = VRRPVersion.allCases.map { (configuration($0), IPAddress("10.99.0.2")!) } + [(v6, IPAddress("fe80::2")!)]
        return all.flatMap { c, primary -> [VRRPInstance] in
            var backup = VRRPInstance(configuration: c, primaryAddress: primary)
            _ = backup.start(now: .zero)
            var master = backup
            _ = master.timerFired(now: .seconds(10))
            return [backup, master]
        }
    }()

    /// Every decoder over one input; results are discarded, only crashes matter.
    static func run(_ bytes: [UInt8]) {
        _ = try? IPv4Header.decode(bytes)
        _ = try? IPv6Header.decode(bytes[...])
        _ = try? VRRPAdvertisement.decode(bytes[...], source: source, destination: group)
        _ = try? VRRPAdvertisement.decode(bytes[...], source: v6Source, destination: v6Group)
        if let advert = try? VRRPAdvertisement.decode(bytes[...], source: source, destination: group) {
            // What decodes must encode back to the same bytes, except what the RFCs let a receiver ignore:
            // v3's reserved bits, and a checksum of 0xffff (one's complement -0, the same sum as 0x0000).
            // (Reserved bits count in the checksum they came with, so the checksum is compared only without them.)
            var again = advert.encoded(source: source, destination: group)
            var original = bytes
            if advert.version == .v3 && original[4] & 0xF0 != 0 {
                original[4] &= 0x0F
                original[6] = again[6]; original[7] = again[7]
            }
            if advert.checksum == 0xFFFF { again[6] = 0xFF; again[7] = 0xFF }
            precondition(again == original, "re-encoding changed a valid advertisement")
        }
        // The same bytes as a VRRP message with valid checksums, from a peer with the TTL the first byte
        // chooses: past the decoder into the configuration checks and each state's rules.
        var body = bytes
        if body.count >= 8 {
            body[6] = 0; body[7] = 0
            let initial = body[0] >> 4 == 3 ? VRRPAdvertisement.pseudoHeaderSum(source: source, destination: group, length: body.count) : 0
            let sum = InternetChecksum.checksum(body, initial: initial)
            body[6] = UInt8(sum >> 8); body[7] = UInt8(sum & 0xFF)
        }
        let datagram = IPv4Header(timeToLive: bytes.first.map { $0 & 1 == 0 ? 255 : $0 } ?? 255, source: source, destination: group)
            .encoded(payload: body)
        // And over IPv6 (v3's checksum takes the IPv6 pseudo-header), as the transport rebuilds it.
        var body6 = bytes
        if body6.count >= 8 {
            body6[6] = 0; body6[7] = 0
            let sum = InternetChecksum.checksum(body6, initial: VRRPAdvertisement.pseudoHeaderSum(source: v6Source, destination: v6Group, length: body6.count))
            body6[6] = UInt8(sum >> 8); body6[7] = UInt8(sum & 0xFF)
        }
        let datagram6 = body6.count <= 0xFFFF ? IPv6Header(hopLimit: bytes.first.map { $0 & 1 == 0 ? 255 : $0 } ?? 255, source: v6Source, destination: v6Group)
            .encoded(payload: body6) : []
        for var instance in instances {
            _ = instance.receive(datagram: bytes, now: .seconds(11))
            _ = instance.receive(datagram: datagram, now: .seconds(11))
            _ = instance.receive(datagram: datagram6, now: .seconds(11))
            _ = instance.timerFired(now: .seconds(12))
            _ = instance.receive(datagram: datagram, now: .seconds(13))
            _ = instance.receive(datagram: datagram6, now: .seconds(13))
            _ = instance.shutdown(now: .seconds(14))
        }
        _ = GratuitousARPFrame.parseReply(bytes)
    }

    /// Valid datagrams of every kind, as keepalived and lb send them.
    static func seeds() -> [(String, [UInt8])] {
        let vip = [IPAddress("10.99.0.200")!]
        let v2 = VRRPAdvertisement(version: .v2, virtualRouterID: 51, priority: 150, intervalCentiseconds: 100, addresses: vip,
                                   authType: VRRPAdvertisement.AuthType.simpleText, authData: VRRPAdvertisement.passwordData("s3cret"))
        var v2Resign = v2
        v2Resign.priority = 0
        let v3 = VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: 150, intervalCentiseconds: 100, addresses: vip)
        let v3v6 = VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: 150, intervalCentiseconds: 10, addresses: [IPAddress("2001:db8::200")!])
        return [
            ("v2-datagram.bin", v2.datagram(source: source, destination: group, identification: 1)),
            ("v2-resign-datagram.bin", v2Resign.datagram(source: source, destination: group, identification: 5)),
            ("v3-datagram.bin", v3.datagram(source: source, destination: group, identification: 1)),
            ("v2-body.bin", v2.encoded(source: source, destination: group)),
            ("v3-body.bin", v3.encoded(source: source, destination: group)),
            ("v3-ipv6-body.bin", v3v6.encoded(source: v6Source, destination: v6Group)),
            ("v3-ipv6-datagram.bin", IPv6Header(source: v6Source, destination: v6Group).encoded(payload: v3v6.encoded(source: v6Source, destination: v6Group))),
        ]
    }
}

FuzzDriver.main(seeds: Decoders.seeds, body: Decoders.run)
#else
print("VRRPFuzz must be built with -sanitize=fuzzer -DFUZZ; run scripts/fuzz.sh vrrp")
#endif
