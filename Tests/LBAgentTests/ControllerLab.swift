import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LBClusterView
import LBControllerAPI
import LBControllerConfig
import LBCrypto
import LBSpec
import LBSpecYAML
import LBTestKit
import LBVRRPLab

/// `lb-controller run` in a lab host's namespace, with `lbctl` run there too: the API listens on that
/// namespace's loopback, as it does by default on a real controller host.
extension AgentLab {
    static var controllerBinary: String { binaries.appendingPathComponent("lb-controller").path }
    static let apiPort = 9120
    static let pagePort = 9121

    var operatorKeyPath: String { "\(lab.directory)/operator.key" }
    func controllerDirectory(_ host: String) -> String { "\(lab.directory)/\(host)" }
    func controllerLogPath(_ host: String) -> String { "\(lab.directory)/controller-\(host).log" }
    func controllerLog(_ host: String) -> String { Lab.read(controllerLogPath(host)) ?? "" }

    /// The controller's configuration on `host`: gossip on its lab address (fast profile), joining
    /// through `seeds`, API and page on the namespace's loopback.
    func controllerConfig(_ host: String, seeds: [String], webhook: ControllerConfig.Webhook? = nil, tls: ControllerConfig.TLS? = nil) -> ControllerConfig {
        ControllerConfig(name: host, cluster: Self.cluster,
                         gossip: .init(listen: Endpoint(address: address(host), port: Self.gossipPort),
                                       seeds: seeds.map { Endpoint(address: address($0), port: Self.gossipPort) }, profile: .fast),
                         keyring: keyring, trust: .init(keys: trust), stateDirectory: controllerDirectory(host) + "/state",
                         api: .init(listen: Endpoint(address: IPAddress("127.0.0.1")!, port: Self.apiPort), tls: tls),
                         status: .init(listen: Endpoint(address: IPAddress("127.0.0.1")!, port: Self.pagePort)),
                         notifications: .init(webhook: webhook))
    }

    /// Starts `lb-controller run` on `host` and waits until its API answers.
    @discardableResult
    func startController(_ host: String, seeds: [String], webhook: ControllerConfig.Webhook? = nil, tls: ControllerConfig.TLS? = nil) throws -> Daemon {
        mkdir(controllerDirectory(host), 0o755)
        let path = controllerDirectory(host) + "/controller.yaml"
        try Lab.write(path, ControllerConfigWriter.yaml(controllerConfig(host, seeds: seeds, webhook: webhook, tls: tls)))
        if !FileManager.default.fileExists(atPath: operatorKeyPath) { try KeyFile.writeSigningKey(signer, to: operatorKeyPath) }
        let daemon = try lab.start("controller-\(host)", on: host, [Self.controllerBinary, "run", "--config", path])
        let up = lab.wait(timeout: 20) { daemon.hasExited || (try? page(host, "/healthz"))?.status == 200 }
        guard up != nil, !daemon.hasExited else { throw LabError("lb-controller on \(host) did not come up:\n\(controllerLog(host))") }
        return daemon
    }

    /// `lbctl ARGS --controller http://127.0.0.1:9120 --key operator.key`, run on `host`.
    @discardableResult
    func lbctl(_ host: String, _ arguments: [String]) -> (status: Int32, output: String) {
        exec(host, [Self.lbctl] + arguments + ["--controller", "http://127.0.0.1:\(Self.apiPort)", "--key", operatorKeyPath])
    }

    /// `spec` as a YAML file for lbctl apply.
    func specFile(_ spec: ClusterSpec, _ name: String) throws -> String {
        let path = "\(lab.directory)/\(name).yaml"
        try Lab.write(path, SpecYAMLWriter.yaml(spec))
        return path
    }

    /// GET from the controller's page listener (no signature needed).
    func page(_ host: String, _ path: String, timeout: Double = 3) throws -> HTTPResponse {
        try request(host, port: Self.pagePort, "GET", path, headers: [], body: [], timeout: timeout)
    }

    /// One HTTP/1.1 request to `port` on `host`'s loopback, headers as given (signed or not).
    func request(_ host: String, port: Int, _ method: String, _ path: String, headers: [(String, String)], body: [UInt8],
                 timeout: Double = 5) throws -> HTTPResponse {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (n, v) in headers { text += "\(n): \(v)\r\n" }
        text += "\r\n"
        let bytes = try Netns.exchange(namespace(host), "127.0.0.1", port, Array(text.utf8) + body, timeout: timeout,
                                       closeWrite: false, until: HTTPResponse.isComplete)
        guard let response = HTTPResponse(bytes) else { throw LabError("not an HTTP response: \(String(decoding: bytes.prefix(200), as: UTF8.self))") }
        return response
    }

    /// `lbctl status -o json`, decoded.
    func clusterStatus(_ host: String) throws -> ClusterStatus {
        let r = lbctl(host, ["status", "-o", "json"])
        guard r.status == 0 else { throw LabError("lbctl status exited \(r.status): \(r.output)") }
        return try APIJSON.decoder().decode(ClusterStatus.self, from: Data(r.output.utf8))
    }

    /// The status page as headless Chromium shows it, loaded inside `host`'s namespace; with `screenshot`,
    /// a PNG of it is kept there too (a test artifact).
    func browse(_ host: String, screenshot: String? = nil) throws -> String {
        final class Outcome: @unchecked Sendable { var value: Result<String, any Error> = .failure(LabError("not run")) }
        let result = Outcome()
        let done = DispatchSemaphore(value: 0)
        let (url, namespace) = ("http://127.0.0.1:\(Self.pagePort)/", self.namespace(host))
        Task {
            do {
                if let screenshot { try await Chromium.screenshot(url: url, to: screenshot, namespace: namespace) }
                result.value = .success(try await Chromium.dumpDOM(url: url, namespace: namespace))
            } catch {
                result.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        return try result.value.get()
    }

    /// aiosmtpd on `smtpPort` and a webhook receiver on `webhookPort`, on `host`'s loopback, each writing
    /// what it receives into its directory under the lab's; returns those directories.
    func startNotificationSinks(on host: String, smtpPort: Int, webhookPort: Int) throws -> (mail: String, hooks: String) {
        let (mail, hooks) = ("\(lab.directory)/mail", "\(lab.directory)/hooks")
        for d in [mail, hooks] { mkdir(d, 0o755) }
        try Lab.write("\(lab.directory)/smtp-sink.py", NotificationSinks.smtp)
        try Lab.write("\(lab.directory)/webhook-sink.py", NotificationSinks.webhook)
        _ = try lab.start("smtp-sink", on: host, ["/usr/bin/python3", "\(lab.directory)/smtp-sink.py", mail, "", "", "\(smtpPort)"])
        _ = try lab.start("webhook-sink", on: host, ["/usr/bin/python3", "\(lab.directory)/webhook-sink.py", hooks, "\(webhookPort)"])
        guard lab.wait(timeout: 10, until: { FileManager.default.fileExists(atPath: mail + "/port") }) != nil else {
            throw LabError("aiosmtpd did not start (is python3-aiosmtpd installed? run `make deps`):\n\(Lab.read("\(lab.directory)/smtp-sink.log") ?? "")")
        }
        return (mail, hooks)
    }

    /// The JSON files a sink wrote, decoded as dictionaries, oldest first.
    func received(_ directory: String) -> [[String: Any]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }
        return names.sorted { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }.compactMap {
            (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0)))) as? [String: Any]
        }
    }
}
