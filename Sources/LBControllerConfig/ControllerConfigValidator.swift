import LBDaemonConfig
import LBSpec

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks a `ControllerConfig`'s values: names, addresses, paths, ranges and the API's TLS rule. Every
/// problem is reported, none stops the others; each diagnostic's path is the YAML key (`api.listen`),
/// so the loader can show it at its position. Use it on a configuration built in code before writing it.
public enum ControllerConfigValidator {
    public static func validate(_ config: ControllerConfig) -> [Diagnostic] {
        validate(config, broken: [])
    }

    /// The files the controller will read that the configuration names but this process cannot read:
    /// the TLS certificate and key, and the webhook's secret; and the notify script, if this process cannot
    /// run it. Not part of `validate`, which never looks at the disk, so a file written on one host can be
    /// checked for another.
    public static func fileProblems(_ config: ControllerConfig) -> [Diagnostic] {
        let root = SpecPath.root
        var files: [(String, SpecPath, String)] = []
        if let tls = config.api.tls {
            files.append((tls.certificate, root["api"]["tls"]["certificate"], "TLS certificate"))
            files.append((tls.key, root["api"]["tls"]["key"], "TLS key"))
        }
        if let webhook = config.notifications.webhook {
            files.append((webhook.secretFile, root["notifications"]["webhook"]["secret_file"], "webhook secret file"))
        }
        var problems: [Diagnostic] = files.compactMap { path, at, what in
            guard path.hasPrefix("/"), !path.contains("\0") else { return nil }  // validate reports those
            return readProblem(path).map { .error(at, "\(what) \(path) cannot be read: \($0)") }
        }
        if let script = config.notifications.script, script.hasPrefix("/"), !script.contains("\0"), let problem = runProblem(script) {
            problems.append(.error(root["notifications"]["script"], "notify script \(script) cannot be run: \(problem)"))
        }
        return problems
    }

    /// Why `path` cannot be run as a program by this process, or nil when it can.
    static func runProblem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return errno == ENOENT ? "no such file" : String(cString: strerror(errno)) }
        if (info.st_mode & S_IFMT) == S_IFDIR { return "it is a directory" }
        if access(path, X_OK) != 0 { return "it is not executable; run chmod +x \(path)" }
        return nil
    }

    /// Why `path` cannot be opened for reading as a file, or nil when it can.
    static func readProblem(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOENT: return "no such file"
            case EACCES: return "permission denied"
            default: return String(cString: strerror(errno))
            }
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { return "it is a directory" }
        return nil
    }

    /// `broken`: paths the reader could not read (their values are placeholders); nothing at, inside or
    /// depending on them is checked.
    static func validate(_ config: ControllerConfig, broken: [SpecPath]) -> [Diagnostic] {
        var checks = DaemonConfigChecks(broken: broken)
        let root = checks.root
        checks.checkName(config.name, at: root["name"], what: "controller name")
        checks.checkShared(cluster: config.cluster, gossip: config.gossip, keyring: config.keyring, trust: config.trust)
        checks.checkPath(config.stateDirectory, at: root["state_dir"], what: "state directory", example: ControllerConfig.defaultStateDirectory)
        checkAPI(config.api, &checks)
        checks.checkStatusListen(config.status.listen)
        if let webhook = config.notifications.webhook {
            let p = root["notifications"]["webhook"]
            if checks.readable(p["url"]), let problem = urlProblem(webhook.url) {
                checks.error(p["url"], problem)
            }
            checks.checkPath(webhook.secretFile, at: p["secret_file"], what: "webhook secret file", example: "/etc/lb/webhook.secret")
            checks.checkRange(webhook.retries, ControllerConfig.Webhook.retriesRange, at: p["retries"])
        }
        if let script = config.notifications.script {
            checks.checkPath(script, at: root["notifications"]["script"], what: "notify script", example: "/etc/lb/notify.sh")
        }
        return checks.diagnostics
    }

    /// The TLS rule: off loopback the API carries operators' requests across the network, so plain HTTP
    /// there must be asked for by name (`insecure_without_tls`) and is still a warning.
    static func checkAPI(_ api: ControllerConfig.API, _ checks: inout DaemonConfigChecks) {
        let p = checks.root["api"]
        if let tls = api.tls {
            checks.checkPath(tls.certificate, at: p["tls"]["certificate"], what: "TLS certificate path", example: "/etc/lb/controller.crt")
            checks.checkPath(tls.key, at: p["tls"]["key"], what: "TLS key path", example: "/etc/lb/controller.key")
        }
        let listen = api.listen
        if checks.checkListen(listen, at: p["listen"], what: "API listen address"), checks.readable(p["tls"]["certificate"]),
           checks.readable(p["tls"]["key"]), checks.readable(p["insecure_without_tls"]) {
            if api.tls != nil {
                if api.insecureWithoutTLS {
                    checks.warning(p["insecure_without_tls"], "insecure_without_tls: true has no effect: the API has TLS; remove it")
                }
            } else if !listen.address.isLoopback {
                if api.insecureWithoutTLS {
                    checks.warning(p["insecure_without_tls"], "the API is reachable without TLS: \(listen) is not loopback, so operators' requests and the answers cross the network in clear; set api.tls unless something else encrypts the path")
                } else {
                    checks.error(p["listen"], "API listen address \(listen) is not loopback and the API has no TLS; set api.tls.certificate and api.tls.key, listen on 127.0.0.1:\(listen.port), or write insecure_without_tls: true if something else encrypts the path")
                }
            }
        }
        checks.checkDuration(api.clockWindow, ControllerConfig.API.clockWindowRange, at: p["clock_window"])
    }

    /// Nil for `http://HOST…` or `https://HOST…` without spaces or control characters.
    static func urlProblem(_ url: String) -> String? {
        let fix = "write an http or https URL, e.g. https://hooks.example.com/lb"
        let lower = url.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lower.hasPrefix($0) }) else {
            return "webhook url '\(url)' is not an http or https URL; \(fix)"
        }
        if url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            return "webhook url '\(url)' contains a space or control character; \(fix)"
        }
        let host = url.dropFirst(scheme.count).prefix { !"/?#".contains($0) }
        if host.isEmpty || host.hasPrefix(":") || host.hasPrefix("@") {
            return "webhook url '\(url)' has no host; \(fix)"
        }
        return nil
    }
}
