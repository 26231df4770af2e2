import Foundation
import LBKeepalived
import LBSpec
import XCTest

/// What each keepalived keyword becomes in the spec, and what is said about it.
final class ImportTests: XCTestCase {
    func testTheReferenceDirectorsMergeIntoTheReferenceScenario() throws {
        let result = Fixtures.importing([("lvs1.conf", Fixtures.lvs1), ("lvs2.conf", Fixtures.lvs2)])
        XCTAssertEqual(result.diagnostics.map(\.description), [])
        var expected = try Fixtures.reference()
        expected.vips[0].name = "192.168.1.200"  // keepalived.conf has no VIP names
        expected.vips[0].vrrp.unicast = true
        expected.notifications.email = EmailNotification(to: ["ops@example.com"], from: "lvs@example.com", smtpServer: "192.168.1.25")
        XCTAssertEqual(result.spec, expected)
        XCTAssertEqual(result.locations[SpecPath.root["vips"][0]["vrrp"]["directors"][1]["priority"]]?.description, "lvs2.conf:19")
    }

    func testKeepalivedDefaultsAreWrittenOutNotLbDefaults() throws {
        // Without lb_kind keepalived forwards by NAT, without protocol it makes a UDP service, without
        // lb_algo it schedules wlc; checks default to delay_loop 60, connect_timeout 5, retry 1.
        let text = Fixtures.director(servers: """
        virtual_server 192.168.1.200 80 {
            real_server 192.168.1.102 8080 {
                TCP_CHECK {
                }
            }
        }
        """)
        let result = Fixtures.importing([("a.conf", text)])
        let s = try XCTUnwrap(result.spec?.vips[0].services[0], "\(result.diagnostics)")
        XCTAssertEqual(s.forwarding, .nat)
        XCTAssertEqual(s.protocol, .udp)
        XCTAssertEqual(s.scheduler, .wlc)
        XCTAssertEqual(s.realServers, [RealServer(node: "rs1", port: 8080, weight: 1)])
        XCTAssertEqual(s.healthCheck, HealthCheck(kind: .tcp, intervalMilliseconds: 60_000, connectTimeoutMilliseconds: 5_000, retries: 2, retryDelayMilliseconds: 1_000))
        let messages = result.diagnostics.map(\.description)
        XCTAssertTrue(messages.contains("a.conf:20: warning: no lb_algo: keepalived uses wlc; imported as that"), "\(messages)")
        XCTAssertTrue(messages.contains("a.conf:20: warning: no lb_kind: keepalived forwards by NAT then; imported as forwarding: nat"), "\(messages)")
        XCTAssertTrue(messages.contains("a.conf:20: warning: no protocol: keepalived 2.2.7 then creates a UDP service; imported as protocol: udp (write protocol TCP if you meant TCP)"), "\(messages)")
    }

    /// Every entry form keepalived reads in a virtual_server_group, and what it skips or lb refuses.
    func testVirtualServerGroupEntries() throws {
        let text = Fixtures.director() + """
            virtual_server_group G {
                192.168.1.200-202 80
                192.168.1.210-192.168.1.211 80
                192.168.1.220/31 80
                2001:db8::a-c 443
                192.168.1.200 80
                fwmark 1
                192.168.1.230
                192.168.0.0/16 80
                192.168.1.241-240 80
            }
            virtual_server group G {
                lb_algo rr
                lb_kind DR
                protocol TCP
                real_server 192.168.1.102 80 {
                    weight 1
                }
            }
            virtual_server group MISSING {
                lb_algo rr
            }
            """
        let (file, messages) = Fixtures.interpret(text)
        let skips = "keepalived -t reports it, and keepalived, when it runs, skips the entry; imported as that"
        let start = text.components(separatedBy: "\n").firstIndex { $0.hasPrefix("virtual_server_group") }! + 1
        XCTAssertEqual(messages, [
            "k.conf:\(start + 5): warning: virtual_server_group G: 192.168.1.200:80 is listed twice; imported once",
            "k.conf:\(start + 6): error: virtual_server_group G: fwmark entries are not supported by lb; list each VIP:port",
            "k.conf:\(start + 7): error: virtual_server_group G: '192.168.1.230' has no port: lb services are VIP:port (keepalived allows that only for persistent services)",
            "k.conf:\(start + 8): error: virtual_server_group G: 192.168.0.0/16 holds more than 256 addresses; lb makes one service per address, so list at most 256",
            "k.conf:\(start + 9): warning: virtual_server_group G: the range 192.168.1.241-240 does not end above its start: \(skips)",
            "k.conf:\(start + 19): warning: virtual_server group MISSING: no virtual_server_group MISSING in this file: keepalived -t reports it, and keepalived, when it runs, ignores the virtual_server; imported as that",
        ])
        XCTAssertEqual(file.services.map(\.key), [
            "192.168.1.200:80/tcp", "192.168.1.201:80/tcp", "192.168.1.202:80/tcp", "192.168.1.210:80/tcp", "192.168.1.211:80/tcp",
            "192.168.1.220:80/tcp", "192.168.1.221:80/tcp", "[2001:db8::a]:443/tcp", "[2001:db8::b]:443/tcp", "[2001:db8::c]:443/tcp",
        ])
    }

    func testVRRPSettingsMapToTheGroup() throws {
        let text = Fixtures.director(global: "    vrrp_version 3\n    vrrp_garp_master_delay 10\n", instance: """
            advert_int 0.5
            nopreempt
            preempt_delay 30
            garp_master_repeat 2
            garp_master_refresh 60
            notify /usr/local/bin/vrrp-notify
        """ + "\n", vip: "192.168.1.200")
        let (file, messages) = Fixtures.interpret(text)
        XCTAssertEqual(messages, [])
        let g = try XCTUnwrap(file.instances.first).settings
        XCTAssertEqual(g.version, 3)
        XCTAssertEqual(g.advertIntervalCentiseconds, 50)
        XCTAssertFalse(g.preempt)
        XCTAssertEqual(g.preemptDelaySeconds, 30)
        XCTAssertTrue(g.unicast)
        XCTAssertEqual(g.gratuitousARP, GratuitousARP(count: 2, repeatDelaySeconds: 10, refreshSeconds: 60))
        XCTAssertEqual(file.instances[0].vips.map(\.value.description), ["192.168.1.200/32"], "no prefix in keepalived means a host address")
        XCTAssertEqual(file.notifyScript?.value, "/usr/local/bin/vrrp-notify")
    }

    func testAuthenticationVariants() {
        func auth(_ block: String) -> (String?, [String]) {
            let (file, messages) = Fixtures.interpret(Fixtures.director(instance: "    authentication {\n\(block)    }\n"))
            return (file.instances.first?.settings.authPassword, messages)
        }
        XCTAssertEqual(auth("        auth_type PASS\n        auth_pass \"p#ss w\"\n").0, "p#ss w")
        let long = auth("        auth_type PASS\n        auth_pass verysecretpassword\n")
        XCTAssertEqual(long.0, "verysecr")
        XCTAssertEqual(long.1, ["k.conf:18: warning: auth_pass is 18 bytes; VRRPv2 carries 8 and keepalived sends only 'verysecr': imported as that"])
        let cut = auth("        auth_type PASS\n        auth_pass geheimnisß\n")
        XCTAssertEqual(cut.0, "geheimni")
        let split = auth("        auth_type PASS\n        auth_pass abcdefgß\n")
        XCTAssertNil(split.0)
        XCTAssertEqual(split.1, ["k.conf:18: error: auth_pass is 9 bytes; VRRPv2 carries 8 and keepalived cuts it inside a character: choose a password of at most 8 bytes"])
        XCTAssertEqual(auth("        auth_type AH\n        auth_pass x\n").1, ["k.conf:17: error: auth_type AH (IPsec authentication header) is not supported by lb; use PASS, or no authentication"])
        XCTAssertEqual(auth("        auth_type pass\n        auth_pass x\n").1, ["k.conf:17: warning: unknown auth_type 'pass'; keepalived knows PASS and AH (in capitals): keepalived -t reports it, and keepalived, when it runs, ignores the line and sends no authentication; imported without it"])
        XCTAssertEqual(auth("        auth_type PASS\n").1, ["k.conf:17: warning: auth_type PASS without auth_pass: keepalived -t reports it, and keepalived, when it runs, sends no authentication; imported without it"])
        XCTAssertEqual(auth("        auth_pass x\n").1, ["k.conf:17: warning: ignored: auth_pass without auth_type (keepalived then sends no authentication)"])
    }

    func testVirtualAddressesTakeDevAndIgnoreLabels() {
        let (file, messages) = Fixtures.interpret(Fixtures.director(vip: "192.168.1.200/24 dev eth0 label eth0:1\n        192.168.1.201 dev eth1\n        2001:db8::1/64\n        192.168.1.202/33"))
        XCTAssertEqual(file.instances.first?.vips.map(\.value.description), ["192.168.1.200/24", "192.168.1.201/32", "192.168.1.202/32"])
        // dev naming the instance's own interface is no device of its own; another one is kept.
        XCTAssertEqual(file.instances.first?.vipDevices.mapValues(\.value), [IPAddress("192.168.1.201")!: "eth1"])
        XCTAssertEqual(file.instances.first?.device(of: IPAddress("192.168.1.200")!), "eth0")
        XCTAssertEqual(messages, [
            "k.conf:17: warning: ignored: label eth0:1 (lb adds the VIP with the prefix only, without label)",
            "k.conf:20: warning: prefix /33 is longer than /32: keepalived uses /32; imported as that",
            "k.conf:19: warning: ignored: 2001:db8::1/64 is not of the instance's address family (keepalived skips it)",
        ])
    }

    /// vrrp_sync_group as keepalived's vrrp_sync_set_group reads it: members found anywhere in the file,
    /// one that does not exist or is already in a group skipped, a group of one or of none reported.
    func testSyncGroups() {
        let second = "vrrp_instance VI_2 {\n    interface eth0\n    virtual_router_id 52\n    priority 100\n    virtual_ipaddress {\n        192.168.1.201/24\n    }\n}\n"
        let groups = """
        vrrp_sync_group VG_1 {
            group {
                VI_1 VI_2
                VI_3
            }
        }
        vrrp_sync_group VG_2 {
            group {
                VI_2
            }
            smtp_alert
            track_script {
                chk
            }
            nonsense 1
        }
        vrrp_sync_group VG_3 {
        }

        """
        let (file, messages) = Fixtures.interpret(groups + Fixtures.director(servers: second))
        XCTAssertEqual(file.instances.map(\.settings.syncGroup), ["VG_1", "VG_1"])
        XCTAssertEqual(file.instances.map { $0.settingPositions["sync_group"]?.line }, [3, 3])
        XCTAssertEqual(messages, [
            "k.conf:11: warning: ignored: smtp_alert (lb has no settings for a sync group beyond its members and their tracking)",
            "k.conf:13: warning: track script chk of vrrp_sync_group VG_2 is no vrrp_script of this file: keepalived -t reports it, and keepalived, when it runs, ignores the line; not imported",
            "k.conf:15: warning: unknown keyword 'nonsense' in vrrp_sync_group: keepalived ignores the line when it runs (keepalived -t reports it); not imported",
            "k.conf:17: warning: vrrp_sync_group VG_3 lists no instance (group { … }): keepalived removes it; not imported",
            "k.conf:4: warning: vrrp_sync_group VG_1 names VI_3, which is no vrrp_instance of this file (did you mean 'VI_1'?): keepalived ignores it; not imported",
            "k.conf:9: warning: VI_2 is already in vrrp_sync_group VG_1: an instance is in one sync group, and keepalived ignores it in VG_2",
        ])
    }

    func testServiceSettings() throws {
        let text = Fixtures.director(servers: Fixtures.service("""
            lb_algo mh
            mh-port
            mh-fallback
            persistence_timeout
            persistence_granularity 255.255.255.0
            sorry_server 192.168.1.150 80
            quorum 2
            hysteresis 1
            delay_loop 3

        """, servers: ["192.168.1.102", "192.168.1.103", "192.168.1.104"],
        check: "        HTTP_GET {\n            url {\n                path /health\n                status_code 204\n            }\n            virtualhost www.example.com\n            connect_port 8080\n            nb_get_retry 4\n        }\n"))
        let result = Fixtures.importing([("a.conf", text)])
        let s = try XCTUnwrap(result.spec?.vips[0].services[0], "\(result.diagnostics)")
        XCTAssertEqual(s.scheduler, .mh)
        XCTAssertEqual(s.schedulerFlags, [.fallback, .port])
        XCTAssertEqual(s.persistence, Persistence(timeoutSeconds: 360, netmask: IPAddress("255.255.255.0")!))
        XCTAssertEqual(s.sorryServer, Endpoint(address: IPAddress("192.168.1.150")!, port: 80))
        XCTAssertEqual(s.quorum, 2)
        XCTAssertEqual(s.healthCheck, HealthCheck(kind: .http, port: 8080, path: "/health", expectStatus: 204, host: "www.example.com",
                                                  intervalMilliseconds: 3_000, connectTimeoutMilliseconds: 5_000, retries: 5, retryDelayMilliseconds: 3_000))
        XCTAssertEqual(s.hysteresis, 1)
        XCTAssertFalse(result.diagnostics.map(\.description).contains { $0.contains("hysteresis") }, "\(result.diagnostics)")
    }

    /// quorum_up, quorum_down (the rest of the line, as keepalived runs it), alpha, omega and ops; a second
    /// quorum_up is refused as keepalived refuses it; ops on a TCP service does nothing in IPVS.
    func testQuorumFamilyAndOps() throws {
        let udp = Fixtures.service("""
            quorum_up /usr/bin/logger -t lb "quorum up"
            quorum_up /bin/false
            quorum_down /usr/bin/logger quorum down
            alpha
            omega
            ops

        """, port: 53).replacingOccurrences(of: "protocol TCP", with: "protocol UDP")
        let result = Fixtures.importing([("a.conf", Fixtures.director(servers: udp + Fixtures.service("    ops\n", port: 80)))])
        let services = try XCTUnwrap(result.spec?.vips[0].services, "\(result.diagnostics)")
        let s = try XCTUnwrap(services.first { $0.port == 53 })
        XCTAssertEqual(s.quorumUp, "/usr/bin/logger -t lb quorum up")
        XCTAssertEqual(s.quorumDown, "/usr/bin/logger quorum down")
        XCTAssertTrue(s.alpha)
        XCTAssertTrue(s.omega)
        XCTAssertTrue(s.ops)
        XCTAssertEqual(services.first { $0.port == 80 }?.ops, false)
        let messages = result.diagnostics.map(\.description)
        XCTAssertTrue(messages.contains { $0.contains("quorum_up is written twice") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("ignored: ops on a TCP service") }, "\(messages)")
    }

    /// alpha at its three levels, as keepalived resolves it per checker: the checker's, else the real
    /// server's, else the virtual_server's; lb's service takes the one they agree on.
    func testAlphaInRealServersAndCheckers() throws {
        func servers(_ vs: String, _ rs1: String, _ check1: String, _ rs2: String, _ check2: String) -> String {
            """
            virtual_server 192.168.1.200 80 {
                lb_algo wrr
                lb_kind DR
                protocol TCP
            \(vs)    real_server 192.168.1.102 80 {
            \(rs1)        TCP_CHECK {
            \(check1)        }
                }
                real_server 192.168.1.103 80 {
            \(rs2)        TCP_CHECK {
            \(check2)        }
                }
            }

            """
        }
        func imported(_ text: String) throws -> (alpha: Bool, messages: [String]) {
            let result = Fixtures.importing([("a.conf", Fixtures.director(servers: text))])
            // The fixture's own warnings (a single director with a unicast peer) are no business of this test.
            let messages = result.diagnostics.map(\.description).filter { $0.contains("alpha") }
            return (try XCTUnwrap(result.spec?.vips[0].services.first, "\(messages)").alpha, messages)
        }
        // Every checker says it: on, with nothing to warn about.
        var r = try imported(servers("", "", "            alpha\n", "", "            alpha true\n"))
        XCTAssertTrue(r.alpha)
        XCTAssertEqual(r.messages, [])
        // The real servers' own, over a virtual_server without it.
        r = try imported(servers("", "        alpha\n", "", "        alpha yes\n", ""))
        XCTAssertTrue(r.alpha)
        XCTAssertEqual(r.messages, [])
        // The virtual_server's, turned off by one checker: they differ, the first server's wins.
        r = try imported(servers("    alpha\n", "", "", "", "            alpha off\n"))
        XCTAssertTrue(r.alpha)
        XCTAssertEqual(r.messages.count, 1)
        XCTAssertTrue(r.messages[0].contains("alpha is off for real server 192.168.1.103 but on at a.conf:"), "\(r.messages)")
        // A word keepalived refuses sets nothing: off, as without the line.
        r = try imported(servers("", "", "            alpha maybe\n", "", ""))
        XCTAssertFalse(r.alpha)
        XCTAssertEqual(r.messages.count, 1)
        XCTAssertTrue(r.messages[0].contains("alpha 'maybe' is not true/false"), "\(r.messages)")
    }

    /// inhibit_on_failure on the virtual_server is keepalived's default for its real servers, wherever in the
    /// block it stands; a real server's own setting overrides it. A weight 0 stays a weight, not a drain.
    func testInhibitOnFailureAtBothLevels() throws {
        let servers = """
        virtual_server 192.168.1.200 80 {
            lb_algo wrr
            lb_kind DR
            protocol TCP
            real_server 192.168.1.102 80 {
                weight 1
                inhibit_on_failure
                TCP_CHECK {
                }
            }
            real_server 192.168.1.103 80 {
                weight 0
                inhibit_on_failure off
                TCP_CHECK {
                }
            }
            inhibit_on_failure
        }
        virtual_server 192.168.1.200 443 {
            lb_algo wrr
            lb_kind DR
            protocol TCP
            real_server 192.168.1.102 443 {
                inhibit_on_failure yes
                TCP_CHECK {
                }
            }
            real_server 192.168.1.103 443 {
                inhibit_on_failure no
                TCP_CHECK {
                }
            }
        }
        """
        let result = Fixtures.importing([
            ("a.conf", Fixtures.director(servers: servers)),
            ("b.conf", Fixtures.director("lvs2", address: "192.168.1.101", peer: "192.168.1.100", priority: 99, servers: servers)),
        ])
        XCTAssertEqual(result.diagnostics.map(\.description), [])
        let services = try XCTUnwrap(result.spec, "\(result.diagnostics)").vips[0].services
        XCTAssertTrue(services[0].inhibitOnFailure)
        XCTAssertEqual(services[0].realServers.map(\.inhibitOnFailure), [nil, false], "the first says what the service says")
        XCTAssertEqual(services[0].realServers.map(\.weight), [1, 0])
        XCTAssertEqual(services[0].realServers.map(\.drain), [false, false])
        XCTAssertEqual(result.locations[SpecPath.root["vips"][0]["services"][0]["inhibit_on_failure"]]?.description, "a.conf:36")
        XCTAssertFalse(services[1].inhibitOnFailure)
        XCTAssertEqual(services[1].realServers.map(\.inhibitOnFailure), [true, nil])
    }

    /// keepalived's virtual_server handler reads no value: "inhibit_on_failure false" there turns it on. On a
    /// real server the value is keepalived's check_true_false, lower case only.
    func testInhibitOnFailureValuesAsKeepalivedReadsThem() throws {
        let text = Fixtures.director(servers: Fixtures.service("    inhibit_on_failure false\n", servers: []) + """
        virtual_server 192.168.1.200 443 {
            lb_algo wrr
            lb_kind DR
            protocol TCP
            inhibit_on_failure sometimes
            real_server 192.168.1.102 443 {
                inhibit_on_failure True
            }
            real_server 192.168.1.103 443 {
                inhibit_on_failure yes please
            }
        }
        """)
        let (file, messages) = Fixtures.interpret(text)
        XCTAssertEqual(messages, [
            "k.conf:24: warning: virtual_server inhibit_on_failure takes no value: keepalived turns it on even when written 'false'; imported as inhibit_on_failure: true (remove the line to leave it off)",
            "k.conf:20: warning: virtual_server 192.168.1.200:80 has no real servers: keepalived ignores it; imported with none (IPVS drops its connections)",
            "k.conf:30: warning: ignored: 'sometimes' after inhibit_on_failure",
            "k.conf:32: warning: inhibit_on_failure 'True' is not true/false, on/off or yes/no in lower case: keepalived -t reports it, and keepalived, when it runs, ignores the line and keeps the virtual_server's setting; imported as that",
            "k.conf:35: warning: ignored: 'please' after inhibit_on_failure",
        ])
        XCTAssertEqual(file.services.map(\.service.inhibitOnFailure), [true, true])
        // 'True' is refused, so that server keeps the virtual_server's setting.
        XCTAssertEqual(file.services[1].service.realServers.map(\.inhibitOnFailure), [nil, nil])
    }

    func testTheMostSpecificVirtualhostWins() throws {
        let check = "        HTTP_GET {\n            url {\n                path /\n                status_code 200\n                virtualhost url.example.com\n            }\n            virtualhost checker.example.com\n        }\n"
        let text = Fixtures.director(servers: Fixtures.service("    virtualhost service.example.com\n", check: check))
        let result = Fixtures.importing([("a.conf", text)])
        XCTAssertEqual(try XCTUnwrap(result.spec, "\(result.diagnostics)").vips[0].services[0].healthCheck?.host, "url.example.com")
        let plain = Fixtures.director(servers: Fixtures.service("    virtualhost service.example.com\n", check: "        HTTP_GET {\n            url {\n                path /\n                status_code 200\n            }\n        }\n"))
        XCTAssertEqual(Fixtures.importing([("a.conf", plain)]).spec?.vips[0].services[0].healthCheck?.host, "service.example.com")
    }

    func testMiscCheckCommandLosesTheServerArgumentsLbAppends() throws {
        let text = Fixtures.director(servers: """
        virtual_server 192.168.1.200 80 {
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server 192.168.1.102 80 {
                MISC_CHECK {
                    misc_path "/usr/local/bin/check 192.168.1.102 80"
                    misc_timeout 3
                }
            }
            real_server 192.168.1.103 80 {
                MISC_CHECK {
                    misc_path "/usr/local/bin/check 192.168.1.103"
                    misc_timeout 3
                }
            }
        }
        """)
        let result = Fixtures.importing([("a.conf", text)])
        XCTAssertEqual(try XCTUnwrap(result.spec, "\(result.diagnostics)").vips[0].services[0].healthCheck,
                       HealthCheck(kind: .exec, command: "/usr/local/bin/check", intervalMilliseconds: 60_000, connectTimeoutMilliseconds: 3_000, retries: 1, retryDelayMilliseconds: 1_000))
    }

    func testWhatLbKnowsIsWrongForLVS() {
        let text = Fixtures.director(servers: Fixtures.service("    persistence_timeout 600\n    persistence_granularity 24\n", servers: []) + """
        virtual_server 192.168.1.200 443 {
            lb_algo lblc
            lb_kind DR
            protocol TCP
            real_server 192.168.1.102 8443 {
            }
            real_server 192.168.1.102 8443 {
            }
        }
        """)
        let (_, messages) = Fixtures.interpret(text)
        XCTAssertEqual(messages, [
            "k.conf:25: warning: persistence_granularity is a netmask, not a prefix length: imported 24 as 255.255.255.0",
            "k.conf:20: warning: virtual_server 192.168.1.200:80 has no real servers: keepalived ignores it; imported with none (IPVS drops its connections)",
            "k.conf:28: error: scheduler lblc is not supported by lb; use one of rr, wrr, lc, wlc, sh, mh",
            "k.conf:31: warning: real server 192.168.1.102 port 8443 differs from the service port 443: direct routing cannot change ports, and keepalived resets it to 443; imported as 443 (a server listening only on 8443 receives nothing)",
            "k.conf:33: warning: real server 192.168.1.102 port 8443 differs from the service port 443: direct routing cannot change ports, and keepalived resets it to 443; imported as 443 (a server listening only on 8443 receives nothing)",
            "k.conf:33: warning: real server 192.168.1.102:443 is listed twice (first at k.conf:31); keepalived drops the second: imported once",
        ])
    }

    func testUnknownAndIgnoredKeywords() {
        let text = Fixtures.director(global: "    vrrp_strict\n    bogus_global 1\n", instance: "    priorty 100\n    track_script {\n        chk_haproxy\n    }\n    dont_track_primary\n") + """
        vrrp_script chk_haproxy {
            script "killall -0 haproxy"
            interval 2
            wieght 2
        }
        frobnicate {
            x 1
        }
        """
        let (file, messages) = Fixtures.interpret(text)
        XCTAssertEqual(messages, [
            "k.conf:5: warning: ignored: vrrp_strict (lb has no equivalent)",
            "k.conf:6: warning: unknown keyword 'bogus_global' in global_defs: keepalived ignores the line when it runs (keepalived -t reports it); not imported",
            "k.conf:30: warning: unknown keyword 'wieght' in vrrp_script (did you mean 'weight'?): keepalived ignores the line when it runs (keepalived -t reports it); not imported",
            "k.conf:18: warning: unknown keyword 'priorty' in vrrp_instance (did you mean 'priority'?): keepalived ignores the line when it runs (keepalived -t reports it); not imported",
            "k.conf:22: warning: ignored: dont_track_primary (lb has no equivalent)",
            "k.conf:32: warning: unknown keyword 'frobnicate' in the top level: keepalived ignores the line when it runs, and its block (line 33) as unknown top-level keywords too (keepalived -t reports them); not imported",
        ])
        // vrrp_script is read before the instances, so this director tracks a script written after its instance.
        XCTAssertEqual(file.instances.first?.settings.trackScripts, [TrackScript(name: "chk_haproxy", command: "killall -0 haproxy", intervalSeconds: 2)])
    }

    /// Values keepalived's UDP_CHECK, DNS_CHECK and SMTP_CHECK handlers reject: each a warning naming what
    /// keepalived runs instead, and the spec holds that.
    func testProtocolCheckerValuesKeepalivedRejects() throws {
        let udp = "        UDP_CHECK {\n            payload 0g\n            require_reply zz\n            min_reply_length 70000\n            max_reply_length 9\n        }\n"
        let dns = "        DNS_CHECK {\n            type AXFR\n            name a..b\n            name ok.example\n        }\n"
        let smtp = "        SMTP_CHECK {\n            host {\n                connect_ip 192.168.1.102\n            }\n        }\n        PING_CHECK {\n        }\n"
        let text = Fixtures.director(servers: Fixtures.service(port: 5060, servers: ["192.168.1.102"], check: udp)
            + Fixtures.service(port: 53, servers: ["192.168.1.102"], check: dns) + Fixtures.service(port: 25, servers: ["192.168.1.102"], check: smtp))
        let (file, messages) = Fixtures.interpret(text)
        let rejects = "keepalived -t reports it, and keepalived, when it runs,"
        XCTAssertEqual(messages, [
            "k.conf:27: warning: Invalid hex string for UDP_CHECK payload '0g': \(rejects) sends its default payload; imported without it",
            "k.conf:28: warning: Invalid hex string for UDP_CHECK reply 'zz': \(rejects) requires a reply and accepts any; imported as require_reply without reply data",
            "k.conf:29: warning: UDP_CHECK min_reply_length 70000 is out of range 0–65535: \(rejects) ignores the line; imported as that",
            "k.conf:26: warning: ignored: min_reply_length and max_reply_length without reply data after require_reply (keepalived checks lengths only against reply data)",
            "k.conf:41: warning: Unknown DNS check type AXFR (keepalived knows A NS CNAME SOA MX TXT AAAA RRSIG DNSKEY): \(rejects) ignores the line; imported as SOA",
            "k.conf:42: warning: DNS_CHECK name 'a..b' has an empty label: \(rejects) ignores the line and asks about the root; imported without it",
            "k.conf:54: warning: ignored: host (deprecated in keepalived; lb checks the real server itself, at connect_port)",
            "k.conf:58: warning: ignored: a second health check (PING_CHECK) on this real server; lb runs one per service, the SMTP_CHECK at line 53",
        ])
        let checks = file.services.map { $0.service.healthCheck }
        XCTAssertEqual(checks[0], HealthCheck(kind: .udp, intervalMilliseconds: 60_000, connectTimeoutMilliseconds: 5_000, retries: 2, retryDelayMilliseconds: 1_000, requireReply: true))
        XCTAssertEqual(checks[1], HealthCheck(kind: .dns, intervalMilliseconds: 60_000, connectTimeoutMilliseconds: 5_000, retries: 4, retryDelayMilliseconds: 60_000, queryName: "ok.example"))
        XCTAssertEqual(checks[2], HealthCheck(kind: .smtp, intervalMilliseconds: 60_000, connectTimeoutMilliseconds: 5_000, retries: 2, retryDelayMilliseconds: 1_000))
    }
}
