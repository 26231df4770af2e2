// libFuzzer driver for what reaches the controller or lbctl off the network: a request's signature
// headers through the verifier, gossiped reports through the cluster view (events, split brain,
// status), and what lbctl reads back: the event stream's framing and the API's JSON bodies. Any
// input must end in an answer or an error, never a crash. Build and run with scripts/fuzz.sh controller.
#if FUZZ
import Foundation
import LBClusterView
import LBControllerAPI
import LBCrypto
import LBFuzzSupport
import LBReport
import LBSpec

enum Inputs {
    static let key = try! SigningKey(seedBytes: [UInt8](repeating: 7, count: 32))
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let spec = ClusterSpec(
        cluster: "web",
        nodes: [Node(name: "lvs1", address: CIDR("192.168.1.100/24")!), Node(name: "lvs2", address: CIDR("192.168.1.101/24")!),
                Node(name: "rs1", address: CIDR("192.168.1.102/24")!)],
        vips: [VIP(name: "web", address: CIDR("192.168.1.200/24")!,
                   vrrp: VRRPGroup(routerID: 51, directors: [Director(node: "lvs1", priority: 100), Director(node: "lvs2", priority: 99)]),
                   services: [VirtualService(port: 80, realServers: [RealServer(node: "rs1")])])])

    static func run(_ bytes: [UInt8]) {
        // Header lines up to a blank line, then the body, as a request would carry them.
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\n\n")
        var headers: [String: String] = [:]
        for line in parts[0].split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[String(line[..<colon])] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        let body = Array(parts.dropFirst().joined(separator: "\n\n").utf8)
        var verifier = RequestVerifier(trustedKeys: [key.publicKey], window: .seconds(30))
        for method in ["POST", "GET"] {
            _ = verifier.verify(method: method, path: APIRoute.documents, body: body, now: now) { headers[$0] }
        }

        var view = ClusterView(cluster: "web", controller: "ctl", splitBrainHold: .zero)
        _ = view.version(VersionSummary(version: 1, digest: "sha256:00", previous: nil, acceptedAt: now, signers: [], summary: ""), spec: spec, now: now)
        if let report = AgentReport.decode(bytes) {
            _ = view.report(report, now: now)
            var twin = report
            twin.node = report.node == "lvs1" ? "lvs2" : "lvs1"
            _ = view.report(twin, now: now.addingTimeInterval(1))
            _ = view.tick(now: now.addingTimeInterval(5))
            _ = view.status(now: now)
        }

        var parser = ServerSentEvents.Parser()
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        for message in parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...]) {
            _ = try? APIJSON.decoder().decode(ClusterEvent.self, from: Data(message.data.utf8))
        }
        let data = Data(bytes)
        let decoder = APIJSON.decoder()
        _ = try? decoder.decode(ClusterStatus.self, from: data)
        _ = try? decoder.decode(APIError.self, from: data)
        _ = try? decoder.decode(HistoryPage.self, from: data)
        _ = try? decoder.decode(VersionRecord.self, from: data)
        _ = try? decoder.decode(SubmitResult.self, from: data)
    }

    static func seeds() throws -> [(String, [UInt8])] {
        let body = Array(#"{"payload":"e30=","payloadType":"x","signatures":[]}"#.utf8)
        let signed = RequestSigning.headers(method: "POST", path: APIRoute.documents, body: body, key: key, now: now, nonce: String(repeating: "ab", count: 16))
        let request = signed.map { "\($0.0): \($0.1)" }.joined(separator: "\n") + "\n\n" + String(decoding: body, as: UTF8.self)
        let report = AgentReport(node: "lvs1", at: 1_800_000_000, version: 1, digest: "0123456789abcdef", converged: true, roles: ["director"],
                                 vrrp: [.init(name: "VI_51", vrid: 51, state: "MASTER", priority: 100)],
                                 services: [.init(key: "192.168.1.200:80/tcp", active: 1, inactive: 0,
                                                  destinations: [.init(endpoint: "192.168.1.102:80", weight: 1, active: 1, inactive: 0, health: "down")])],
                                 repairs: ["address": 1], error: nil, refused: nil)
        let event = ServerSentEvents.message(ClusterEvent(id: 3, at: now, kind: .serverDown, node: "lvs1", version: 1, message: "down"))
        let status = try APIJSON.encoder().encode(ClusterStatus(cluster: "web", controller: "ctl", generatedAt: now))
        return [("request.bin", Array(request.utf8)), ("report.bin", report.encoded()), ("event.bin", Array(event.utf8)),
                ("status.bin", Array(status))]
    }
}

FuzzDriver.main(seeds: Inputs.seeds, body: Inputs.run)
#else
print("ControllerFuzz must be built with -sanitize=fuzzer -DFUZZ; run scripts/fuzz.sh controller")
#endif
