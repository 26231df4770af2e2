import NIOCore

/// Converts between the "host:port" strings gossip carries and NIO socket addresses.
enum PeerAddress {
    /// A numeric IPv4 "a.b.c.d:port" or IPv6 "[addr]:port"; nil for anything else, so a bad address from
    /// a peer or config is a counted failure instead of a trap or a blocking DNS lookup on an event loop.
    static func parse(_ text: String) -> SocketAddress? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            // An unbracketed IPv6 address cannot be told apart from its port.
            guard !host.contains(":") else { return nil }
        }
        guard !host.isEmpty, let port = Int(portText), (1...65_535).contains(port) else { return nil }
        return try? SocketAddress(ipAddress: String(host), port: port)
    }

    /// "host:port", bracketing IPv6 so `parse` reads it back.
    static func format(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "unknown" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}
