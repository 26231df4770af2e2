import LBSpec
import LBSpecYAML

/// A configuration file being written: keys under comments, and the shared sections as both daemons'
/// files have them, so the two read alike and a change to one section's wording reaches both.
package struct DaemonConfigText {
    package private(set) var text = ""

    package init() {}

    package mutating func comment(_ comment: String, indent: Int = 0) {
        text += String(repeating: " ", count: indent) + "# \(comment)\n"
    }

    /// `key: value`, or `key:` alone to open a mapping.
    package mutating func line(_ key: String, _ value: String, indent: Int = 0) {
        text += String(repeating: " ", count: indent) + key + ":" + (value.isEmpty ? "" : " \(value)") + "\n"
    }

    package mutating func blank() { text += "\n" }

    package static func endpoint(_ e: Endpoint) -> String { SpecYAMLWriter.scalar(e.description) }

    package static func string(_ s: String) -> String { SpecYAMLWriter.scalar(s) }

    package mutating func gossip(_ g: DaemonConfig.Gossip) {
        line("gossip", "")
        comment("UDP and TCP on one port. A wildcard (0.0.0.0, \"[::]\") needs advertise.", indent: 2)
        line("listen", Self.endpoint(g.listen), indent: 2)
        if let advertise = g.advertise {
            comment("The address peers are told to use.", indent: 2)
            line("advertise", Self.endpoint(advertise), indent: 2)
        } else {
            comment("advertise: ADDRESS:PORT  (the address peers are told to use; default: listen)", indent: 2)
        }
        comment("Members to join through; none for the first member.", indent: 2)
        line("seeds", g.seeds.isEmpty ? "[]" : "", indent: 2)
        for seed in g.seeds { text += "    - \(Self.endpoint(seed))\n" }
        comment("lan (memberlist's LAN timing) or fast (one rack or a lab).", indent: 2)
        line("profile", g.profile.rawValue, indent: 2)
    }

    /// `keyring` and `trust`, each after a blank line.
    package mutating func keys(keyring: String, trust: DaemonConfig.Trust) {
        blank()
        comment("The cluster keyring that seals gossip (secret, mode 0600).")
        line("keyring", Self.string(keyring))
        blank()
        line("trust", "")
        comment("Trusted operator public keys, one lb-public-key line each.", indent: 2)
        line("keys", Self.string(trust.keys), indent: 2)
        comment("How many of them must have signed a document.", indent: 2)
        line("threshold", "\(trust.threshold)", indent: 2)
    }

    package mutating func status(_ listen: Endpoint) {
        line("status", "")
        comment("Status and /metrics over HTTP without authentication: keep it on loopback.", indent: 2)
        line("listen", Self.endpoint(listen), indent: 2)
    }

    package mutating func logLevel(_ level: DaemonConfig.LogLevel) {
        comment("trace, debug, info, notice, warning, error or critical.")
        line("log_level", level.rawValue)
    }
}
