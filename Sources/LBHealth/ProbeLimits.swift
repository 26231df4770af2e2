/// The bounds on what a probe reads from a real server or a command, so that nothing a server sends (a
/// flood, an endless header, a slowloris) can cost more than this much memory or the check's timeout.
public enum ProbeLimits {
    /// Bytes read before an HTTP or WebSocket answer's head is decided. Past it the answer fails as too large
    /// even if the decoder has not objected yet: the head is all a probe needs.
    public static let responseBytes = 80 * 1024
    /// Body bytes hashed for an http check's `digest`, beyond `responseBytes`. The body is hashed as it
    /// arrives, not kept; the bound is on the time a server can keep the probe reading.
    public static let digestBodyBytes = 4 * 1024 * 1024
    /// One header line (name and value) of an answer. Health endpoints send short heads; 16 KiB still admits
    /// a large cookie.
    public static let headerFieldBytes = 16 * 1024
    /// All header lines of an answer together.
    public static let headerListBytes = 64 * 1024
    /// Header lines in an answer.
    public static let headerFieldCount = 256
    /// Combined stdout and stderr kept from an exec command; the rest is read and dropped, so a chatty
    /// command cannot stall on a full pipe.
    public static let execOutputBytes = 4 * 1024
}
