/// The sysctls lb sets somewhere, so `inspect` and drift checks read exactly these.
public enum ManagedSysctls {
    public static let global = [
        "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding",
        "net.ipv4.vs.sloppy_tcp", "net.ipv4.vs.expire_nodest_conn", "net.ipv4.vs.conntrack",
        "net.ipv4.vs.expire_quiescent_template",
    ]
    public static let perInterface = ["arp_ignore", "arp_announce", "rp_filter"]

    /// Global keys plus the ARP and reverse-path keys of `all` and each interface.
    public static func keys(interfaces: [String]) -> [String] {
        global + (["all"] + interfaces).flatMap { scope in perInterface.map { "net.ipv4.conf.\(scope).\($0)" } }
    }
}
