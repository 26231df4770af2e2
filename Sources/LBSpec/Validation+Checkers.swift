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

    static func isHexDigit(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x46).contains(c) || (0x61...0x66).contains(c)
    }
}
