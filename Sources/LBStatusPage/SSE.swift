/// The page's live updates as Server-Sent Events (HTML Living Standard, "Server-sent events").
extension StatusPage {
    /// One `status` event carrying `fragment`: `event: status`, then each line of the fragment behind
    /// `data: ` (EventSource joins them back with LF), then the blank line that dispatches it. CR LF and
    /// a lone CR end a line in SSE as LF does, so all three are split on; a CR inside a message (from a
    /// node's error, say) comes out as LF, which HTML shows the same.
    public static func sseMessage(fragment: String) -> String {
        var out = "event: status\n"
        out.reserveCapacity(fragment.utf8.count + fragment.utf8.count / 16 + 32)
        let utf8 = fragment.utf8
        var line = utf8.startIndex
        var i = line
        while i != utf8.endIndex {
            let byte = utf8[i]
            guard byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") else {
                i = utf8.index(after: i)
                continue
            }
            out += "data: "
            out += fragment[line..<i]
            out += "\n"
            i = utf8.index(after: i)
            if byte == UInt8(ascii: "\r"), i != utf8.endIndex, utf8[i] == UInt8(ascii: "\n") { i = utf8.index(after: i) }
            line = i
        }
        out += "data: "
        out += fragment[line..<utf8.endIndex]
        out += "\n\n"
        return out
    }
}
