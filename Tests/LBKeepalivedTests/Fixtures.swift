import Foundation
import LBKeepalived
import LBSpec
import LBSpecYAML
import XCTest

/// keepalived.conf files as operators have them, and helpers to import them from memory.
enum Fixtures {
    /// The reference scenario's first director, written the way tutorials write it.
    static let lvs1 = """
    ! Configuration File for keepalived
    global_defs {
       notification_email {
         ops@example.com
       }
       notification_email_from lvs@example.com
       smtp_server 192.168.1.25
       smtp_connect_timeout 30
       smtp_alert
       router_id lvs1
       lvs_timeouts tcp 7260 tcpfin 120 udp 300
       lvs_sync_daemon eth0 id 0
    }

    vrrp_instance VI_1 {
        state MASTER
        interface eth0
        virtual_router_id 51
        priority 100
        advert_int 1
        unicast_src_ip 192.168.1.100
        unicast_peer {
            192.168.1.101
        }
        authentication {
            auth_type PASS
            auth_pass s3cret
        }
        virtual_ipaddress {
            192.168.1.200/24 dev eth0
        }
    }

    virtual_server 192.168.1.200 80 {
        delay_loop 5
        lb_algo wrr
        lb_kind DR
        persistence_timeout 3600
        persistence_granularity 255.255.255.255
        protocol TCP

        real_server 192.168.1.102 80 {
            weight 1
            TCP_CHECK {
                connect_timeout 3
                retry 2
                delay_before_retry 1
            }
        }
        real_server 192.168.1.103 80 {
            weight 1
            TCP_CHECK {
                connect_timeout 3
                retry 2
                delay_before_retry 1
            }
        }
    }

    """

    /// The second director: the same file with its own name, state, priority and addresses.
    static let lvs2 = lvs1
        .replacingOccurrences(of: "router_id lvs1", with: "router_id lvs2")
        .replacingOccurrences(of: "state MASTER", with: "state BACKUP")
        .replacingOccurrences(of: "priority 100", with: "priority 99")
        .replacingOccurrences(of: "unicast_src_ip 192.168.1.100", with: "unicast_src_ip 192.168.1.101")
        .replacingOccurrences(of: "        192.168.1.101\n", with: "        192.168.1.100\n")

    /// examples/reference.yaml.
    static var referenceURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/reference.yaml")
    }

    static func reference() throws -> ClusterSpec {
        let loaded = SpecLoader.load(file: referenceURL.path)
        return try XCTUnwrap(loaded.spec, "\(loaded.diagnostics)")
    }

    /// Imports files held in memory, named as given.
    static func importing(_ files: [(name: String, text: String)], options: KeepalivedImportOptions = .init(cluster: "web")) -> KeepalivedImportResult {
        KeepalivedImporter.importTrees(files.map { KeepalivedParser.parse(text: $0.text, file: $0.name) }, options: options)
    }

    /// Interprets one file alone.
    static func interpret(_ text: String, file: String = "k.conf") -> (file: KeepalivedFile, diagnostics: [String]) {
        let tree = KeepalivedParser.parse(text: text, file: file)
        let (f, d) = KeepalivedInterpreter.interpret(tree)
        return (f, (tree.diagnostics + d).map(\.description))
    }

    /// A director's file around the given parts, so tests state only what they are about.
    static func director(_ id: String = "lvs1", address: String = "192.168.1.100", peer: String? = "192.168.1.101",
                         priority: Int = 100, global: String = "", instance: String = "", vip: String = "192.168.1.200/24",
                         servers: String = "") -> String {
        """
        global_defs {
            router_id \(id)
            lvs_timeouts tcp 7260 tcpfin 120 udp 300
            lvs_sync_daemon eth0 id 0
        \(global)}
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 51
            priority \(priority)
            advert_int 1
            unicast_src_ip \(address)
        \(peer.map { "    unicast_peer {\n        \($0)\n    }\n" } ?? "")\(instance)    virtual_ipaddress {
                \(vip)
            }
        }
        \(servers)
        """
    }

    /// A DR web service on the VIP with the given real servers and settings.
    static func service(_ settings: String = "", port: Int = 80, servers: [String] = ["192.168.1.102", "192.168.1.103"], check: String = "") -> String {
        var s = "virtual_server 192.168.1.200 \(port) {\n    lb_algo wrr\n    lb_kind DR\n    protocol TCP\n\(settings)"
        for rs in servers {
            s += "    real_server \(rs) \(port) {\n        weight 1\n\(check)    }\n"
        }
        return s + "}\n"
    }
}
