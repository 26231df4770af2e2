import Foundation
import LBKeepalived
import XCTest

/// Broken keepalived.conf files, as tutorials and hand edits leave them. For each, real `keepalived -t`
/// is asked first: every line it complains about must get a diagnostic from the import too (keepalived
/// reports a block's problem at its closing brace, the import at its keyword: both count). Messages
/// keepalived prints without a line are matched to the line the import names. A file keepalived runs
/// despite its complaints (exit status 5 of `keepalived -t`) imports with warnings, unless it holds
/// something lb cannot carry.
final class KeepalivedComparisonTests: XCTestCase {
    struct Case {
        var files: [String: String]
        var main: String
        /// A fragment of a keepalived message without a line number, and the line lbctl names for it.
        var unlocated: [(fragment: String, line: Int)] = []
        /// Whether the import succeeds (with warnings): nothing in the file is beyond lb.
        var imports = false
    }

    func testUnknownKeywords() throws {
        try compare(Case(files: ["unknown.conf": Corpus.unknown], main: "unknown.conf", imports: true))
    }

    func testInvalidValues() throws {
        try compare(Case(files: ["values.conf": Corpus.values], main: "values.conf", unlocated: [
            ("no protocol set - defaulting to UDP", 21), ("no scheduler set, setting default 'wlc'", 18),
            ("no forwarding method set, setting default NAT", 19), ("A unicast keyword has been specified without any unicast peers", 10),
        ], imports: true))
    }

    func testWhatLbKnowsAboutLVS() throws {
        try compare(Case(files: ["lbknows.conf": Corpus.lbknows], main: "lbknows.conf", unlocated: [
            ("ports don't match - resetting", 26), ("A unicast keyword has been specified without any unicast peers", 10),
        ]))
    }

    func testBraces() throws {
        try compare(Case(files: ["braces.conf": Corpus.braces], main: "braces.conf", unlocated: [
            ("There are 1 missing '}'s or extra '{'s", 5), ("A unicast keyword has been specified without any unicast peers", 9),
        ]))
    }

    func testHealthChecksAndServices() throws {
        try compare(Case(files: ["checks.conf": Corpus.checks], main: "checks.conf", unlocated: [
            ("is duplicated - removing second rs", 34), ("exceeds total weight of real servers 2, reducing quorum to 2", 19),
            ("zero port only valid for persistent services", 38), ("real server [192.168.1.104]:tcp:80 ports don't match", 38),
        ]))
    }

    func testProtocolCheckerValues() throws {
        try compare(Case(files: ["protocol.conf": Corpus.protocolCheckers], main: "protocol.conf", imports: true))
    }

    func testInhibitOnFailure() throws {
        try compare(Case(files: ["inhibit.conf": Corpus.inhibit], main: "inhibit.conf", imports: true))
    }

    func testVRRPValues() throws {
        try compare(Case(files: ["vrrp.conf": Corpus.vrrp], main: "vrrp.conf", unlocated: [
            ("Authentication specified but no password given", 16), ("A unicast keyword has been specified without any unicast peers", 26),
            ("VI_1 and VI_2 both use VRID 51", 22),
        ]))
    }

    func testGlobalDefinitions() throws {
        try compare(Case(files: ["globals.conf": Corpus.globals], main: "globals.conf", imports: true))
    }

    func testLexicalTraps() throws {
        try compare(Case(files: ["lexical.conf": Corpus.lexical], main: "lexical.conf", unlocated: [("the virtual router id must be set", 7)]))
    }

    func testIncludedFiles() throws {
        try compare(Case(files: [
            "include.conf": "global_defs {\n router_id lvs1\n}\ninclude conf.d/*.conf\n",
            "conf.d/a.conf": "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 5\n priority 100\n bogus 1\n mcast_src_ip 10.0.0.2\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n",
            "conf.d/b.conf": "\n\nbogus2\n",
        ], main: "include.conf", imports: true))
    }

    /// Writes the files, runs keepalived -t and the import, and checks that the import covers keepalived.
    /// keepalived's preprocessor against keepalived itself: the corpus file written with definitions, `@`
    /// lines, ~SEQ and an include is run by the real keepalived (`-n -l -d` in a namespace) for each
    /// director, and what it dumps (router id, the instance's state and priority, its VIP, the real
    /// servers it would remove on the way out, the sync daemon's interface) is what lb imports.
    func testPreprocessorReadsWhatKeepalivedReads() throws {
        let corpus = try CorpusTests.corpus
        let file = corpus.appendingPathComponent("definitions.conf")
        for name in ["lvs1", "lvs2"] {
            let dump = try KeepalivedTool.dump(file, configID: name)
            func values(_ label: String) -> [String] {
                dump.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix(label) }.map { String($0.dropFirst(label.count)) }
            }
            let result = KeepalivedImporter.importDirectors([(file.path, name)], options: .init(cluster: "web"))
            let spec = try XCTUnwrap(result.spec, result.diagnostics.map(\.description).joined(separator: "\n"))
            let vip = try XCTUnwrap(spec.vips.first)
            let director = try XCTUnwrap(vip.vrrp.directors.first)
            XCTAssertEqual(values("Router ID = "), [director.node], dump)
            XCTAssertEqual(values("Priority = "), [String(director.priority)], dump)
            XCTAssertEqual(values("Wantstate = "), [name == "lvs1" ? "MASTER" : "BACKUP"], dump)
            XCTAssertEqual(values("LVS syncd interface = "), [spec.ipvs.sync.interface ?? spec.node(named: director.node)?.interface ?? "none"], dump)
            XCTAssertEqual(dump.split(separator: "\n").filter { $0.hasSuffix(" dev eth0 scope global") }.map { String($0.split(separator: " ")[0]) },
                           [vip.address.description], dump)
            let servers = vip.services.flatMap { service in
                service.realServers.map { rs in
                    let address = rs.address ?? spec.node(named: rs.node ?? "")?.address.address
                    return "[\(address.map(String.init(describing:)) ?? "?")]:tcp:\(rs.port ?? service.port) from VS [\(vip.address.address)]:tcp:\(service.port)"
                }
            }
            XCTAssertEqual(values("Shutting down service "), servers, dump)
            XCTAssertEqual(servers.count, 3)
        }
    }

    func compare(_ c: Case, file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try KeepalivedTool.temporaryDirectory(self)
        for (path, text) in c.files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let main = dir.appendingPathComponent(c.main)
        let keepalived = try KeepalivedTool.check(main)
        XCTAssertNotEqual(keepalived.status, 0, "keepalived -t accepted the broken file", file: file, line: line)
        let result = KeepalivedImporter.importFiles([main.path], options: .init(cluster: "t"))
        if c.imports {
            XCTAssertEqual(keepalived.status, KeepalivedTool.runsDespiteErrors, "keepalived would not run the file:\n\(keepalived.output)", file: file, line: line)
            XCTAssertNotNil(result.spec, "the file keepalived runs must import:\n\(result.diagnostics.map(\.description).joined(separator: "\n"))", file: file, line: line)
        } else {
            XCTAssertNil(result.spec, "a file with what lb cannot carry must not import", file: file, line: line)
        }
        let mine = result.diagnostics
        let report = "lbctl said:\n" + mine.map(\.description).joined(separator: "\n") + "\nkeepalived said:\n" + keepalived.output
        for missing in KeepalivedTool.uncovered(keepalived, by: mine, in: KeepalivedParser.parse(file: main.path)) {
            XCTFail("keepalived -t: \(missing) — lbctl reports nothing there\n\(report)", file: file, line: line)
        }
        for (fragment, myLine) in c.unlocated {
            XCTAssertTrue(keepalived.unlocated.contains { $0.contains(fragment) }, "keepalived no longer says '\(fragment)'\n\(report)", file: file, line: line)
            XCTAssertTrue(mine.contains { $0.line == myLine && ($0.file as NSString).lastPathComponent == c.main }, "lbctl says nothing at line \(myLine) for '\(fragment)'\n\(report)", file: file, line: line)
        }
        for message in keepalived.unlocated where !c.unlocated.contains(where: { message.contains($0.fragment) }) {
            XCTFail("keepalived -t said '\(message)' without a line; map it to the line lbctl names\n\(report)", file: file, line: line)
        }
    }
}

/// The broken files (each reported by keepalived 2.2.7 -t as the tests above show).
enum Corpus {
    static let unknown = #"""
        ! Configuration File for keepalived (from a tutorial)
        global_defs {
           router_id lvs1
           vrrp_skip_check_adv_addr
        }

        frobnicate {
            x 1
        }

        vrrp_instance VI_1 {
            state MASTER
            interface eth0
            virtual_router_id 51
            priorty 100
            advert_int 1
            unicast_src_ip 192.168.1.100
            unicast_peer {
                192.168.1.101
            }
            virtual_ipaddress {
                192.168.1.200/24
            }
        }

        virtual_server 192.168.1.200 80 {
            delay_loop 6
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server 192.168.1.102 80 {
                weight 1
                TCP_CHECK {
                    connect_timeout 3
                    nb_get_retry 3
                    delay_before_retry 3
                }
            }
        }
        """#

    static let values = #"""
        global_defs {
            router_id lvs1
        }
        vrrp_instance VI_1 {
            state master
            interface eth0
            virtual_router_id 51
            priority 300
            advert_int abc
            unicast_src_ip 192.168.1.100
            virtual_ipaddress {
                192.168.1.300/24
                192.168.1.200/33
            }
        }
        virtual_server 192.168.1.200 80 {
            delay_loop abc
            lb_algo foo
            lb_kind FOO
            persistence_timeout -5
            protocol XYZ
            quorum 0
            real_server 192.168.1.102 80 {
                weight -3
                TCP_CHECK {
                    connect_timeout x
                    retry y
                    delay_before_retry z
                    connect_port 70000
                }
            }
            real_server 192.168.1.999 80 {
                weight 1
            }
        }
        """#

    static let lbknows = #"""
        global_defs {
            router_id lvs1
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 51
            priority 100
            advert_int 1
            unicast_src_ip 192.168.1.100
            authentication {
                auth_type PASS
                auth_pass verysecretpassword
            }
            virtual_ipaddress {
                192.168.1.200/24
            }
        }
        virtual_server 192.168.1.200 80 {
            delay_loop 5
            lb_algo wrr
            lb_kind DR
            protocol TCP
            persistence_timeout 3600
            persistence_granularity 24
            real_server 192.168.1.102 8080 {
                weight 1
                TCP_CHECK {
                    connect_timeout 3
                }
            }
        }
        virtual_server 192.168.1.200 443 {
            lb_algo lblc
            lb_kind DR
            protocol TCP
            real_server 192.168.1.102 443 {
                weight 1
            }
        }
        """#

    static let braces = #"""
        global_defs {
            router_id lvs1
        }
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 100
            unicast_src_ip 192.168.1.100
            virtual_ipaddress {
                192.168.1.200/24
            }
        """#

    static let checks = #"""
        global_defs {
            router_id lvs1
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 100
            mcast_src_ip 192.168.1.100
            virtual_ipaddress {
                192.168.1.200/24
            }
        }
        virtual_server 192.168.1.200 80 {
            lb_algo rr
            lb_kind DR
            protocol TCP
            delay_loop 0
            sorry_server 1.2.3 80
            quorum 5
            real_server 192.168.1.102 80 {
                HTTP_GET {
                    url {
                        path /
                        status_code 999
                    }
                    connect_timeout 0
                }
            }
            real_server 192.168.1.103 80 {
                MISC_CHECK {
                    misc_timeout 3
                }
            }
            real_server 192.168.1.103 80 {
                weight 2
            }
        }
        virtual_server 192.168.1.200 {
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server 192.168.1.104 80 {
            }
        }
        """#

    /// Values UDP_CHECK, DNS_CHECK and SMTP_CHECK reject: bad hex, lengths out of range, an unknown DNS
    /// type, names with an empty label or given twice, a helo_name without its value.
    static let protocolCheckers = #"""
        global_defs {
            router_id lvs1
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 100
            mcast_src_ip 192.168.1.100
            virtual_ipaddress {
                192.168.1.200/24
            }
        }
        virtual_server 192.168.1.200 5060 {
            lb_algo rr
            lb_kind DR
            protocol UDP
            real_server 192.168.1.102 5060 {
                UDP_CHECK {
                    payload 0g
                    require_reply zz
                    min_reply_length 70000
                    max_reply_length abc
                }
            }
        }
        virtual_server 192.168.1.200 53 {
            lb_algo rr
            lb_kind DR
            protocol UDP
            real_server 192.168.1.102 53 {
                DNS_CHECK {
                    type AXFR
                    name a..b
                    name ok.example
                    name again.example
                }
            }
        }
        virtual_server 192.168.1.200 25 {
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server 192.168.1.102 25 {
                SMTP_CHECK {
                    helo_name
                }
            }
        }
        """#

    /// keepalived's real_server inhibit_on_failure takes lower-case true/false words only; the
    /// virtual_server one takes no value at all (and says nothing about one).
    static let inhibit = #"""
        global_defs {
            router_id lvs1
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 100
            mcast_src_ip 192.168.1.100
            virtual_ipaddress {
                192.168.1.200/24
            }
        }
        virtual_server 192.168.1.200 80 {
            lb_algo rr
            lb_kind DR
            protocol TCP
            inhibit_on_failure false
            real_server 192.168.1.102 80 {
                inhibit_on_failure True
                TCP_CHECK {
                }
            }
            real_server 192.168.1.103 80 {
                inhibit_on_failure maybe
                TCP_CHECK {
                }
            }
            real_server 192.168.1.104 80 {
                inhibit_on_failure yes please
                TCP_CHECK {
                }
            }
        }
        """#

    static let vrrp = #"""
        global_defs {
            router_id lvs1
            vrrp_version 4
        }
        vrrp_instance VI_1 {
            state master
            interface eth0
            virtual_router_id 51
            priority 0
            advert_int 300
            preempt_delay 2000
            garp_master_delay 5000
            garp_master_repeat 0
            mcast_src_ip 192.168.1.100
            authentication {
                auth_type PASS
            }
            virtual_ipaddress {
                192.168.1.200/24
            }
        }
        vrrp_instance VI_2 {
            interface eth0
            virtual_router_id 51
            priority 100
            unicast_peer {
                192.168.1.999
            }
            virtual_ipaddress {
                192.168.1.201/24
            }
        }
        """#

    static let globals = #"""
        global_defs {
            router_id lvs1
            notification_email {
                not-an-email
            }
            notification_email_from lb@example.com
            smtp_server 192.168.1.25 99999
            smtp_connect_timeout x
            lvs_timeouts tcp 7260 tcpfin x udp 99999999999
            lvs_sync_daemon eth0 id 300
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 100
            mcast_src_ip 192.168.1.100
            virtual_ipaddress {
                192.168.1.200/24
            }
        }
        """#

    static let lexical = #"""
        global_defs {
            router_id "lvs1
            smtp_helo_name x
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51 \
            priority 100
            virtual_ipaddress {
                192.168.1.200/24
            }
        }
        """#
}
