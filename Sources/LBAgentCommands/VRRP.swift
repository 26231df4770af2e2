import ArgumentParser
import Dispatch
import LBHost
import LBSpec
import LBVRRP
import LBVRRPRuntime

#if canImport(Glibc)
import Glibc
#endif

extension Agent {
    /// `lb-agent vrrp`: one VRRP instance in the foreground, wire-compatible with keepalived, so a director
    /// can move from keepalived to lb one machine at a time. The agent runs the same speaker from the signed
    /// document; this command runs it standalone.
    struct VRRP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vrrp",
            abstract: "Run one VRRP instance (v2 or v3, keepalived-compatible) in the foreground.",
            discussion: """
            Logs every state change with a timestamp. On SIGTERM or SIGINT a master sends a priority-0 \
            advertisement (the backup takes over after Skew_Time), removes its virtual addresses and the \
            command exits 0.
            """
        )

        @Option(help: "The interface adverts go out of and the virtual addresses are added to.")
        var interface: String

        @Option(help: "Virtual router id, 1...255 (keepalived's virtual_router_id).")
        var vrid: Int

        @Option(help: "Priority, 1...255; 255 owns the addresses and is master at once.")
        var priority: Int

        @Option(name: .customLong("vip"), help: "A virtual address with its prefix, e.g. 192.168.1.200/24 (repeatable).")
        var vips: [String]

        @Option(help: "Advertisement interval in seconds: whole seconds for v2, 0.01...40.95 for v3.")
        var advertInterval: String = "1"

        @Option(help: "VRRP version: 2 (RFC 3768) or 3 (RFC 5798).")
        var version: Int = 2

        @Option(help: "VRRPv2 simple text password, at most 8 bytes (keepalived's auth_type PASS).")
        var authPass: String?

        @Flag(help: "Do not take over from a lower-priority master (keepalived's nopreempt).")
        var nopreempt = false

        @Option(help: "Seconds to keep accepting a lower-priority master before preempting it.")
        var preemptDelay: Int = 0

        @Option(name: .customLong("unicast-peer"), help: "Send adverts to this peer instead of multicast 224.0.0.18 (repeatable).")
        var unicastPeers: [String] = []

        @Option(help: "Instance name for logs and the notify script (default VI_<vrid>).")
        var name: String?

        @Option(help: "Script run on every transition with keepalived's arguments: INSTANCE NAME MASTER|BACKUP|STOP PRIORITY.")
        var notify: String?

        @Option(help: "Gratuitous ARPs per address on becoming master (keepalived's garp_master_repeat).")
        var garpCount: Int = 5

        @Option(help: "Seconds until the second burst of gratuitous ARPs, 0 for none (garp_master_delay).")
        var garpRepeatDelay: Int = 5

        @Option(help: "Seconds between gratuitous ARP refreshes while master, 0 for none (garp_master_refresh).")
        var garpRefresh: Int = 0

        func validate() throws {
            let problems = try vrrpConfiguration().problems
            if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
            if let notify, access(notify, X_OK) != 0 { throw ValidationError("--notify \(notify) is not an executable file") }
        }

        func vrrpConfiguration() throws -> VRRPConfiguration {
            guard let v = VRRPVersion(rawValue: version) else { throw ValidationError("--version must be 2 or 3, not \(version)") }
            guard let centiseconds = Self.centiseconds(advertInterval) else {
                throw ValidationError("--advert-interval must be a number of seconds with at most two decimals, not '\(advertInterval)'")
            }
            let cidrs = try vips.map { text -> CIDR in
                guard let c = CIDR(text) else { throw ValidationError("--vip \(text) is not an address/prefix such as 192.168.1.200/24") }
                return c
            }
            let peers = try unicastPeers.map { text -> IPAddress in
                guard let a = IPAddress(text) else { throw ValidationError("--unicast-peer \(text) is not an IP address") }
                return a
            }
            guard garpRepeatDelay >= 0, garpRefresh >= 0 else { throw ValidationError("gratuitous ARP delays cannot be negative") }
            return VRRPConfiguration(
                name: name, interface: interface, virtualRouterID: vrid, version: v, priority: priority,
                advertisementIntervalCentiseconds: centiseconds, authPassword: authPass, preempt: !nopreempt,
                preemptDelay: .seconds(preemptDelay), unicastPeers: peers, virtualAddresses: cidrs,
                gratuitousARP: GratuitousARPSettings(count: garpCount, repeatDelay: garpRepeatDelay > 0 ? .seconds(garpRepeatDelay) : nil,
                                                     refreshInterval: garpRefresh > 0 ? .seconds(garpRefresh) : nil))
        }

        /// "1" → 100, "0.1" → 10, "2.55" → 255; nil for anything finer than a centisecond or not a number.
        static func centiseconds(_ text: String) -> Int? {
            let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard let whole = Int(parts[0]), whole >= 0, parts[0].allSatisfy(\.isNumber) else { return nil }
            var fraction = 0
            if parts.count == 2 {
                let f = parts[1]
                guard (1...2).contains(f.count), f.allSatisfy(\.isNumber), let v = Int(f) else { return nil }
                fraction = f.count == 1 ? v * 10 : v
            }
            return whole * 100 + fraction
        }

        func run() async throws {
            let configuration = try vrrpConfiguration()
            let speaker = VRRPSpeaker(
                configuration: configuration, host: LinuxHost(), notifyScript: notify.map(NotifyScript.init(path:)),
                log: { level, message in VRRPLog.write(level, message) })

            // SIGTERM and SIGINT end the run: the speaker resigns, removes its addresses, and we exit 0.
            signal(SIGTERM, SIG_IGN)
            signal(SIGINT, SIG_IGN)
            let running = Task { try await speaker.run() }
            let sources = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    VRRPLog.write(.info, "\(configuration.name): \(number == SIGTERM ? "SIGTERM" : "SIGINT"): resigning")
                    running.cancel()
                }
                source.resume()
                return source
            }
            defer { sources.forEach { $0.cancel() } }
            do {
                try await running.value
            } catch {
                VRRPLog.write(.error, "\(configuration.name): \(error)")
                throw ExitCode(1)
            }
            VRRPLog.write(.info, "\(configuration.name): stopped")
        }
    }
}

/// One line per event on standard output: UTC timestamp to the millisecond, level, message.
enum VRRPLog {
    static func write(_ level: VRRPSpeaker.LogLevel, _ message: String) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = time_t(ts.tv_sec)
        var tm = tm()
        gmtime_r(&seconds, &tm)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &tm)
        let ms = Int(ts.tv_nsec / 1_000_000)
        let date = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let stamp = date + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + String(ms) + "Z"
        // One write(2) per line: lines from the signal handler's thread never interleave with others.
        let line = Array("\(stamp) \(level.rawValue) \(message)\n".utf8)
        _ = line.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
    }
}
