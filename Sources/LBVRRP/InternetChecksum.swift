/// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of 16-bit words
/// in network byte order, an odd final byte padded with zero. Used by the IPv4 header and by VRRP
/// (v2 over the VRRP message alone; v3 over an IP pseudo-header followed by the VRRP message).
public enum InternetChecksum {
    /// The running 32-bit sum of `bytes` as big-endian 16-bit words, added to `initial`; not folded.
    public static func sum<C: Collection>(_ bytes: C, initial: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        var acc = UInt64(initial)
        var iterator = bytes.makeIterator()
        while let high = iterator.next() {
            let low = iterator.next() ?? 0
            acc += UInt64(high) << 8 | UInt64(low)
        }
        while acc > 0xFFFF_FFFF { acc = (acc & 0xFFFF_FFFF) + (acc >> 32) }
        return UInt32(acc)
    }

    /// The checksum to put in a header whose checksum field was zero while summing.
    public static func finish(_ sum: UInt32) -> UInt16 {
        var s = sum
        while s > 0xFFFF { s = (s & 0xFFFF) + (s >> 16) }
        return ~UInt16(s)
    }

    /// The checksum of `bytes` (checksum field zeroed by the caller).
    public static func checksum<C: Collection>(_ bytes: C, initial: UInt32 = 0) -> UInt16 where C.Element == UInt8 {
        finish(sum(bytes, initial: initial))
    }

    /// True when `bytes`, checksum field included, sum to all ones: the receiver's check.
    public static func verifies<C: Collection>(_ bytes: C, initial: UInt32 = 0) -> Bool where C.Element == UInt8 {
        finish(sum(bytes, initial: initial)) == 0
    }
}
