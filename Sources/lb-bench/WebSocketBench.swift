import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LBWebSocketLoad
import NIOCore
import NIOPosix

/// `lb-bench websocket serve|clients`: the real server and the clients of the lab's WebSocket scenario.
enum WebSocketBench {
    static let usage = """
        usage: lb-bench websocket serve --listen ADDR:PORT [--name TEXT]
        usage: lb-bench websocket clients --target ADDR:PORT --connections N [--sources IP,IP,...] [--duration SECONDS] [--mix fast:0.1,heartbeat:0.8,idle:0.1] [--seed S] [--parallel-opens P]
        """

    static func main(_ args: [String]) async -> Int32 {
        switch args.first {
        case "serve": return await serve(args)
        case "clients": return await clients(args)
        default:
            print(usage)
            return 2
        }
    }

    static func serve(_ args: [String]) async -> Int32 {
        guard let listen = Bench.value("--listen", args).flatMap(hostPort) else {
            print("lb-bench websocket serve: --listen ADDR:PORT is required")
            return 2
        }
        let name = Bench.value("--name", args) ?? "lb-bench"
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let stop = signals()
        var status: Int32 = 0
        do {
            let server = try await WebSocketEchoServer.start(host: listen.host, port: listen.port, name: name, group: group)
            print("lb-bench websocket serve: listening on \(server.localAddress.ipAddress ?? listen.host):\(server.localAddress.port ?? listen.port) as \(name)")
            fflush(nil)  // A supervisor reading a pipe waits for this line.
            for await _ in stop { break }
            await server.stop(.goingAway)
        } catch {
            print("lb-bench websocket serve: \(error)")
            status = 1
        }
        try? await group.shutdownGracefully()
        return status
    }

    static func clients(_ args: [String]) async -> Int32 {
        guard let target = Bench.value("--target", args).flatMap(hostPort),
              let connections = Bench.value("--connections", args).flatMap({ Int($0) }), connections > 0 else {
            print("lb-bench websocket clients: --target ADDR:PORT and --connections N (N > 0) are required")
            return 2
        }
        guard let seconds = Double(Bench.value("--duration", args) ?? "10"), seconds >= 0 else {
            print("lb-bench websocket clients: --duration is a number of seconds")
            return 2
        }
        guard let mix = LoadMix(parsing: Bench.value("--mix", args) ?? "fast:0.1,heartbeat:0.8,idle:0.1") else {
            print("lb-bench websocket clients: --mix is kind:fraction,... with kinds fast, heartbeat, idle")
            return 2
        }
        guard let parallel = Int(Bench.value("--parallel-opens", args) ?? "16"), parallel > 0 else {
            print("lb-bench websocket clients: --parallel-opens is a number of opens in flight at once (P > 0)")
            return 2
        }
        let sources = (Bench.value("--sources", args) ?? "").split(separator: ",").map(String.init)
        let config = LoadConfiguration(host: target.host, port: target.port, connections: connections, sources: sources,
                                       duration: .milliseconds(Int64(seconds * 1000)), mix: mix,
                                       seed: UInt64(Bench.value("--seed", args) ?? "") ?? 1, maxPendingOpens: parallel)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let run = Task { try await WebSocketLoad.run(config, group: group) }
        // SIGTERM or SIGINT ends the run early; the connections still finish and the summary is printed.
        let watcher = Task {
            for await _ in signals() {
                run.cancel()
                break
            }
        }
        let status: Int32
        do {
            let summary = try await run.value
            print(summary.json)
            status = summary.passed ? 0 : 1
        } catch {
            print("lb-bench websocket clients: \(error)")
            status = 2
        }
        watcher.cancel()
        try? await group.shutdownGracefully()
        return status
    }

    /// `ADDR:PORT`, `[v6]:PORT`.
    static func hostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// SIGTERM and SIGINT as they arrive; the default action (dying) is off while this is in use.
    static func signals() -> AsyncStream<Int32> {
        AsyncStream { continuation in
            // Dispatch sources are thread-safe to cancel, but not marked Sendable.
            nonisolated(unsafe) let sources = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            }
            continuation.onTermination = { _ in sources.forEach { $0.cancel() } }
        }
    }
}
