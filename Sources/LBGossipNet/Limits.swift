extension SealedTransport {
    /// Bounds that keep a hostile or broken peer from exhausting memory, sockets or the consumer.
    public struct Limits: Sendable, Equatable {
        /// Datagrams longer than this (sealed) are dropped unread; below the 65,507-byte UDP maximum.
        public var maxDatagramBytes: Int
        /// Sealed frames longer than this close the connection before a byte of them is buffered.
        public var maxFrameBytes: Int
        /// An inbound connection that sends nothing for this long is closed, so silent peers cannot pin sockets.
        public var idleTimeout: Duration
        /// Inbound connections beyond this many at once are closed on accept and counted.
        public var maxConnections: Int
        /// Messages waiting for the `inbound` consumer; newer ones are dropped and counted once it is full.
        public var inboundBuffer: Int
        /// How long an outbound connection may take to establish before the send or request fails.
        public var connectTimeout: Duration

        /// Defaults sized for a LAN cluster: 65,000-byte datagrams, 64 MiB frames, 10 s idle, 256 connections.
        public init(
            maxDatagramBytes: Int = 65_000,
            maxFrameBytes: Int = 64 << 20,
            idleTimeout: Duration = .seconds(10),
            maxConnections: Int = 256,
            inboundBuffer: Int = 4096,
            connectTimeout: Duration = .seconds(5)
        ) {
            self.maxDatagramBytes = maxDatagramBytes
            self.maxFrameBytes = maxFrameBytes
            self.idleTimeout = idleTimeout
            self.maxConnections = maxConnections
            self.inboundBuffer = inboundBuffer
            self.connectTimeout = connectTimeout
        }
    }
}
