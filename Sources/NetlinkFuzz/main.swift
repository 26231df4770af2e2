// libFuzzer driver for the decoders of kernel replies: whole datagrams, attributes, rtnetlink links
// and addresses, IPVS services/destinations/daemons/timeouts, and NLMSG_ERROR. A malformed reply must
// be an error, never a crash. Build and run with scripts/fuzz.sh netlink.
#if FUZZ
import LBFuzzSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import LBNetlink
import LBSpec

enum Decoders {
    static let ipvs = IPVSMessages(family: 0x1C)

    /// Every decoder over one input; results are discarded, only crashes matter.
    static func run(_ bytes: [UInt8]) {
        guard let messages = try? NetlinkMessage.parseAll(bytes) else {
            // Also treat the input as a bare payload, which reaches deeper on short inputs.
            decode(NetlinkMessage(type: 0x1C, flags: 0, payload: bytes))
            return
        }
        messages.forEach(decode)
    }

    static func decode(_ m: NetlinkMessage) {
        _ = try? RouteEvent.decode(m)
        _ = try? RouteMessages.parseLink(m)
        _ = try? RouteMessages.parseAddress(m)
        _ = try? NetlinkSocket.parseError(m)
        _ = try? ipvs.parseService(m)
        _ = try? ipvs.parseDestination(m, family: .ipv4)
        _ = try? ipvs.parseDestination(m, family: .ipv6)
        _ = try? ipvs.parseDaemon(m)
        _ = try? ipvs.parseTimeouts(m)
        _ = try? ipvs.parseVersion(m)
        _ = try? GenericNetlink.parseFamilyID(m)
        if let attributes = try? NetlinkAttribute.parseAll(m.payload[...]) {
            for a in attributes {
                _ = try? a.nested()
                _ = a.string()
            }
        }
    }

    /// Valid replies of every kind, as the kernel would send them.
    static func seeds() -> [(String, [UInt8])] {
        let key = IPVSServiceKey(address: IPAddress("192.168.1.200")!, port: 80, protocol: .tcp)
        let service = IPVSService(key: key, scheduler: "wrr", flags: 1, timeout: 3600, netmask: 0xFFFF_FF00)
        let dest = IPVSDestination(address: IPAddress("192.168.1.102")!, port: 80, forwarding: .dr, weight: 1)
        let address = InterfaceAddress(interfaceIndex: 1, address: CIDR("192.168.1.200/32")!, label: "lo:0")
        func wrap(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
            NetlinkMessage(type: type, flags: 2, sequence: 1, portID: 1, payload: payload).encoded()
        }
        return [
            ("ipvs-service.bin", wrap(0x1C, ipvs.newService(service).payload)),
            ("ipvs-dest.bin", wrap(0x1C, ipvs.newDestination(dest, of: key).payload)),
            ("ipvs-daemon.bin", wrap(0x1C, ipvs.startDaemon(IPVSSyncDaemon(state: .master, interface: "eth0", syncID: 1)).payload)),
            ("ipvs-timeouts.bin", wrap(0x1C, ipvs.setTimeouts(IPVSTimeoutConfig(tcp: 900, tcpFin: 120, udp: 300)).payload)),
            ("route-address.bin", wrap(RT.newAddr, RouteMessages.addAddress(address, interfaceName: "lo").payload)),
            ("two-messages.bin", wrap(RT.newAddr, RouteMessages.addAddress(address, interfaceName: "lo").payload) + wrap(NL.msgDone, [0, 0, 0, 0])),
        ]
    }
}

FuzzDriver.main(seeds: Decoders.seeds, body: Decoders.run)
#else
print("NetlinkFuzz must be built with -sanitize=fuzzer -DFUZZ; run scripts/fuzz.sh netlink")
#endif
