extension SealedTransport {
    /// A snapshot of what the transport did and dropped, so operators can tell a wrong key from a flood.
    public struct Counters: Sendable, Equatable {
        /// Datagrams handed to the kernel.
        public var datagramsSent = 0
        /// Datagrams that opened and were delivered (or offered to a full `inbound`).
        public var datagramsReceived = 0
        /// One-way stream messages written completely.
        public var streamsSent = 0
        /// One-way stream messages that opened and were delivered (or offered to a full `inbound`).
        public var streamsReceived = 0
        /// Requests this transport answered.
        public var requestsServed = 0
        /// Sealed input that did not authenticate: a wrong or unknown key, tampering or corruption.
        public var openFailed = 0
        /// Input that is not a sealed message or frame at all: too short, wrong version, unknown kind, truncated.
        public var malformed = 0
        /// Datagrams or frames over the limits, dropped without being read.
        public var oversized = 0
        /// Outbound messages and requests that could not be sent: bad address, refused, timed out, shut down.
        public var sendFailed = 0
        /// Messages dropped because the `inbound` consumer fell behind.
        public var inboundOverflow = 0
        /// Inbound connections closed on accept because `maxConnections` were already open.
        public var connectionsRefused = 0

        /// All zero.
        public init() {}
    }
}
