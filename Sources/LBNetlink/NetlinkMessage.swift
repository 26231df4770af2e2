/// One netlink message as it travels: header fields plus the payload after the 16-byte header.
public struct NetlinkMessage: Sendable, Equatable {
    public var type: UInt16
    public var flags: UInt16
    public var sequence: UInt32
    public var portID: UInt32
    public var payload: [UInt8]

    public init(type: UInt16, flags: UInt16, sequence: UInt32 = 0, portID: UInt32 = 0, payload: [UInt8]) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
        self.payload = payload
    }

    /// The message on the wire, padded to 4 bytes. Header fields are host byte order.
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(NL.headerSize + payload.count + 3)
        out.appendHost(UInt32(NL.headerSize + payload.count))
        out.appendHost(type)
        out.appendHost(flags)
        out.appendHost(sequence)
        out.appendHost(portID)
        out += payload
        out.padTo4()
        return out
    }

    /// Splits a datagram into messages. Throws on any length that does not fit, never reads past the end.
    public static func parseAll(_ bytes: [UInt8]) throws(NetlinkError) -> [NetlinkMessage] {
        var messages: [NetlinkMessage] = []
        var offset = 0
        while bytes.count - offset >= NL.headerSize {
            let length = Int(bytes.readHost(UInt32.self, at: offset))
            guard length >= NL.headerSize, length <= bytes.count - offset else {
                throw .malformed("message length \(length) at offset \(offset) does not fit the \(bytes.count - offset) bytes left")
            }
            messages.append(NetlinkMessage(
                type: bytes.readHost(UInt16.self, at: offset + 4),
                flags: bytes.readHost(UInt16.self, at: offset + 6),
                sequence: bytes.readHost(UInt32.self, at: offset + 8),
                portID: bytes.readHost(UInt32.self, at: offset + 12),
                payload: Array(bytes[(offset + NL.headerSize)..<(offset + length)])))
            offset += (length + 3) & ~3
        }
        guard offset >= bytes.count || bytes.count - offset == 0 else {
            throw .malformed("\(bytes.count - offset) trailing bytes after the last message")
        }
        return messages
    }
}

/// A netlink attribute (struct nlattr + value). `type` has the nested and byte-order flags removed.
public struct NetlinkAttribute: Sendable, Equatable {
    public var type: UInt16
    public var value: ArraySlice<UInt8>

    /// Parses a run of attributes; a length that overruns the buffer is malformed.
    public static func parseAll(_ bytes: ArraySlice<UInt8>) throws(NetlinkError) -> [NetlinkAttribute] {
        var attributes: [NetlinkAttribute] = []
        var offset = bytes.startIndex
        while bytes.endIndex - offset >= NL.attributeHeaderSize {
            let length = Int(bytes.readHost(UInt16.self, at: offset))
            let type = bytes.readHost(UInt16.self, at: offset + 2) & NL.attrTypeMask
            guard length >= NL.attributeHeaderSize, length <= bytes.endIndex - offset else {
                throw .malformed("attribute \(type) length \(length) overruns its \(bytes.endIndex - offset)-byte container")
            }
            attributes.append(NetlinkAttribute(type: type, value: bytes[(offset + NL.attributeHeaderSize)..<(offset + length)]))
            offset += (length + 3) & ~3
        }
        return attributes
    }

    public func nested() throws(NetlinkError) -> [NetlinkAttribute] { try Self.parseAll(value) }

    public func u8() throws(NetlinkError) -> UInt8 { try fixed(UInt8.self) }
    public func u16() throws(NetlinkError) -> UInt16 { try fixed(UInt16.self) }
    public func u32() throws(NetlinkError) -> UInt32 { try fixed(UInt32.self) }
    public func u64() throws(NetlinkError) -> UInt64 { try fixed(UInt64.self) }
    /// A network-order 16-bit value (IPVS ports).
    public func be16() throws(NetlinkError) -> UInt16 { UInt16(bigEndian: try fixed(UInt16.self)) }
    /// A network-order 32-bit value (the IPv4 persistence netmask).
    public func be32() throws(NetlinkError) -> UInt32 { UInt32(bigEndian: try fixed(UInt32.self)) }

    /// A NUL-terminated string; without a NUL, the whole value.
    public func string() -> String {
        let end = value.firstIndex(of: 0) ?? value.endIndex
        return String(decoding: value[value.startIndex..<end], as: UTF8.self)
    }

    private func fixed<T: FixedWidthInteger>(_: T.Type) throws(NetlinkError) -> T {
        guard value.count >= MemoryLayout<T>.size else {
            throw .malformed("attribute \(type) has \(value.count) bytes, expected \(MemoryLayout<T>.size)")
        }
        return value.readHost(T.self, at: value.startIndex)
    }
}

extension Array where Element == NetlinkAttribute {
    public func first(_ type: UInt16) -> NetlinkAttribute? { first { $0.type == type } }
}

/// Builds attribute payloads; nesting is a closure so lengths are always patched.
public struct AttributeWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(prefix: [UInt8] = []) { bytes = prefix }

    public mutating func put(_ type: UInt16, _ value: [UInt8]) {
        bytes.appendHost(UInt16(NL.attributeHeaderSize + value.count))
        bytes.appendHost(type)
        bytes += value
        bytes.padTo4()
    }

    public mutating func put<T: FixedWidthInteger>(_ type: UInt16, host value: T) {
        var b: [UInt8] = []
        b.appendHost(value)
        put(type, b)
    }

    public mutating func put(_ type: UInt16, string: String) {
        put(type, Array(string.utf8) + [0])
    }

    public mutating func nest(_ type: UInt16, _ body: (inout AttributeWriter) -> Void) {
        let start = bytes.count
        bytes += [0, 0, 0, 0]
        body(&self)
        let length = UInt16(bytes.count - start)
        bytes.writeHost(length, at: start)
        bytes.writeHost(type | NL.attrNested, at: start + 2)
    }
}

extension Array where Element == UInt8 {
    mutating func appendHost<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value) { append(contentsOf: $0) }
    }

    mutating func padTo4() {
        while count % 4 != 0 { append(0) }
    }

    mutating func writeHost<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value) { raw in
            for (i, b) in raw.enumerated() { self[offset + i] = b }
        }
    }
}

extension Collection where Element == UInt8, Index == Int {
    /// Reads a host-order integer; callers have checked the bounds.
    func readHost<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value: T = 0
        Swift.withUnsafeMutableBytes(of: &value) { raw in
            for i in 0..<MemoryLayout<T>.size { raw[i] = self[offset + i] }
        }
        return value
    }
}
