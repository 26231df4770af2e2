import Foundation
import LBSpec
@testable import LBVRRP

/// The frames of a classic libpcap file (little-endian, microsecond, Ethernet link type).
enum PCAP {
    static func frames(_ name: String) throws -> [[UInt8]] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "pcap", subdirectory: "Resources") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Resources/\(name).pcap"])
        }
        let data = [UInt8](try Data(contentsOf: url))
        precondition(Array(data[0..<4]) == [0xD4, 0xC3, 0xB2, 0xA1], "little-endian microsecond pcap expected")
        precondition(data[20] == 1, "Ethernet link type expected")
        func u32(_ at: Int) -> Int { Int(data[at]) | Int(data[at + 1]) << 8 | Int(data[at + 2]) << 16 | Int(data[at + 3]) << 24 }
        var frames: [[UInt8]] = []
        var offset = 24
        while offset + 16 <= data.count {
            let length = u32(offset + 8)
            frames.append(Array(data[(offset + 16)..<(offset + 16 + length)]))
            offset += 16 + length
        }
        return frames
    }
}

extension Array where Element == VRRPAction {
    var advertisements: [VRRPAdvertisement] {
        compactMap { if case .sendAdvertisement(let a) = $0 { return a } else { return nil } }
    }
    var transitions: [VRRPTransition] {
        compactMap { if case .notify(let t) = $0 { return t } else { return nil } }
    }
    var discards: [VRRPDiscard] {
        compactMap { if case .discard(let d) = $0 { return d } else { return nil } }
    }
    /// The last timer request, if the actions contain one.
    var timer: Duration?? {
        for action in reversed() { if case .scheduleTimer(let at) = action { return .some(at) } }
        return .none
    }
}

let vip = CIDR("10.99.0.200/24")!
let vip2 = CIDR("10.99.0.201/24")!
let group = IPAddress("224.0.0.18")!

func ms(_ n: Int64) -> Duration { .milliseconds(n) }
