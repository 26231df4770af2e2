import LBSpec

/// The Ethernet frame of a gratuitous ARP, as keepalived sends it: an ARP request (op 1) broadcast to
/// ff:ff:ff:ff:ff:ff, sender and target protocol address both the virtual address, sender hardware
/// address the interface's MAC, target hardware address broadcast. Every host that has the address in
/// its neighbour table updates it to the new master's MAC; switches learn the port.
public enum GratuitousARPFrame {
    public static let etherTypeARP: UInt16 = 0x0806
    public static let broadcast: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]

    /// 42 bytes: 14 of Ethernet header, 28 of ARP.
    public static func frame(senderMAC mac: [UInt8], address: IPAddress) -> [UInt8] {
        precondition(mac.count == 6 && address.family == .ipv4, "gratuitous ARP is for IPv4 over Ethernet")
        let ip = address.bytes
        return broadcast + mac + [0x08, 0x06]
            + [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]  // Ethernet, IPv4, hlen 6, plen 4, request
            + mac + ip + broadcast + ip
    }

    /// The ARP request a prober sends for `target` ("who has target? tell source").
    public static func request(senderMAC mac: [UInt8], sender: IPAddress, target: IPAddress) -> [UInt8] {
        broadcast + mac + [0x08, 0x06] + [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]
            + mac + sender.bytes + [0, 0, 0, 0, 0, 0] + target.bytes
    }

    /// An ARP reply in `frame` (Ethernet header included): who answered for which address.
    public static func parseReply(_ frame: [UInt8]) -> (senderMAC: [UInt8], sender: IPAddress)? {
        guard frame.count >= 42, frame[12] == 0x08, frame[13] == 0x06, frame[20] == 0, frame[21] == 2 else { return nil }
        return (Array(frame[22..<28]), IPAddress(bytes: Array(frame[28..<32]))!)
    }
}
