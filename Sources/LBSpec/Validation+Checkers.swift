extension SpecValidator.Run {
    /// The keys of keepalived's checkers beyond tcp, one path and exec: several URLs with status ranges and
    /// digests, TLS (https), and exec's dynamic weight. Each is checked where it is written.
    mutating func checkCheckerKeys(_ hc: HealthCheck, at p: SpecPath) {
        if !hc.urls.isEmpty {
            if hc.kind != .http && hc.kind != .https {
                error(p["urls"], "urls is used by http and https health checks only, not \(hc.kind.rawValue)")
            }
            if hc.path != "/" { error(p["path"], "path and urls are two ways to say what to fetch: put the path in urls") }
            if hc.expectStatus != HealthCheck(kind: hc.kind).expectStatus {
                error(p["expect_status"], "expect_status and urls are two ways to say what passes: give each url its status")
            }
        }
        for (i, url) in hc.urls.enumerated() {
            let up = p["urls"][i]
            if !url.path.hasPrefix("/") { error(up["path"], "path '\(url.path)' must start with '/'") }
            if url.path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
                error(up["path"], "path contains spaces or control characters, which cannot be sent in a request line")
            }
            for range in url.status where !(100...599).contains(range.lowerBound) || !(100...599).contains(range.upperBound) {
                error(up["status"], "status \(range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)") is out of range: HTTP statuses are 100–599")
            }
            if let digest = url.digest, digest.utf8.count != 32 || !digest.utf8.allSatisfy(Self.isHexDigit) {
                error(up["digest"], "digest '\(digest)' is not an MD5 digest: 32 hexadecimal digits (md5sum of the body)")
            }
            if let host = url.host, host.isEmpty || host.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                error(up["host"], "host is empty or contains control characters")
            }
        }
        if hc.kind != .https {
            for (key, set) in [("sni", hc.sni), ("verify_certificate", hc.verifyCertificate), ("ca_file", hc.caFile != nil)] where set {
                error(p[key], "\(key) is used by https health checks only, not \(hc.kind.rawValue)")
            }
        } else {
            if let ca = hc.caFile {
                if !ca.hasPrefix("/") { error(p["ca_file"], "ca_file '\(ca)' must be an absolute path") }
                if !hc.verifyCertificate {
                    warning(p["ca_file"], "ca_file has no effect without verify_certificate: true (certificates are not checked by default, as keepalived does not)")
                }
            }
            if hc.sni && hc.host == nil && hc.urls.allSatisfy({ $0.host == nil }) {
                warning(p["sni"], "sni sends the host name, and this check has none (set host): no server name is sent")
            }
        }
        if hc.dynamicWeight && hc.kind != .exec {
            error(p["dynamic_weight"], "dynamic_weight is used by exec health checks only, not \(hc.kind.rawValue)")
        }
    }

    /// The keys of keepalived's UDP_CHECK, DNS_CHECK and SMTP_CHECK: each only on its own kind, each value
    /// one keepalived (and the probe) can use.
    mutating func checkProtocolCheckerKeys(_ hc: HealthCheck, at p: SpecPath) {
        let owners: [(String, Bool, HealthCheck.Kind)] = [
            ("payload", hc.payload != nil, .udp), ("require_reply", hc.requireReply, .udp), ("reply", hc.reply != nil, .udp),
            ("min_reply_length", hc.minReplyLength != nil, .udp), ("max_reply_length", hc.maxReplyLength != nil, .udp),
            ("query_type", hc.queryType != nil, .dns), ("query_name", hc.queryName != nil, .dns),
            ("helo_name", hc.heloName != nil, .smtp),
        ]
        for (key, set, kind) in owners where set && hc.kind != kind {
            error(p[key], "\(key) is used by \(kind.rawValue) health checks only, not \(hc.kind.rawValue)")
        }
        if let payload = hc.payload, HexPattern(payload, wildcards: false) == nil {
            error(p["payload"], "payload '\(payload)' is not hex: pairs of hexadecimal digits, blanks allowed between them (keepalived's notation)")
        }
        if let reply = hc.reply {
            if HexPattern(reply, wildcards: true) == nil {
                error(p["reply"], "reply '\(reply)' is not hex: pairs of hexadecimal digits, x for a digit that may be anything, blanks allowed between them")
            }
            if !hc.requireReply { error(p["reply"], "reply is matched only with require_reply: true; add it") }
        }
        for (key, value) in [("min_reply_length", hc.minReplyLength), ("max_reply_length", hc.maxReplyLength)] {
            guard let value else { continue }
            checkRange(value, 0...65535, at: p[key], what: key)
            if hc.kind == .udp && hc.reply == nil {
                warning(p[key], "\(key) has no effect without reply: keepalived, and lb with it, checks reply lengths only with reply data")
            }
        }
        let lengths = (hc.minReplyLength ?? HealthCheck.defaultReplyLengths.lowerBound, hc.maxReplyLength ?? HealthCheck.defaultReplyLengths.upperBound)
        if lengths.0 > lengths.1 {
            error(p[hc.minReplyLength != nil ? "min_reply_length" : "max_reply_length"],
                  "min_reply_length \(lengths.0) is more than max_reply_length \(lengths.1): every reply would fail")
        }
        if let type = hc.queryType, DNSQueryType(name: type) == nil {
            error(p["query_type"], "query_type '\(type)' is not a DNS type keepalived asks: \(DNSQueryType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let name = hc.queryName, let problem = HealthCheck.dnsNameProblem(name) {
            error(p["query_name"], "query_name '\(name)' \(problem)")
        }
        if let helo = hc.heloName, helo.isEmpty || helo.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            error(p["helo_name"], "helo_name must be one word of printable ASCII (it is sent as HELO NAME)")
        }
    }

    static func isHexDigit(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x46).contains(c) || (0x61...0x66).contains(c)
    }
}
