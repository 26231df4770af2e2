// swift-tools-version: 6.0
import PackageDescription

// Core modules (LBSpec, LBCrypto, LBDocument) use FoundationEssentials only, so the agent binary stays
// small enough to boot quickly inside the qemu lab; YAML and the CLI may use full Foundation.
let package = Package(
    name: "lb",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lbctl", targets: ["lbctl"]),
        .executable(name: "lb-agent", targets: ["lb-agent"]),
        .executable(name: "lb-controller", targets: ["lb-controller"]),
        .library(name: "LBSpec", targets: ["LBSpec"]),
        .library(name: "LBDocument", targets: ["LBDocument"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // Already in the graph through swift-nio-ssl; the http checks' digest is its Insecure.MD5.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"6.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // sys/epoll.h and sys/eventfd.h, which Glibc's Swift module leaves out (the tcp checks' epoll thread).
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        // libsodium wrappers: Ed25519, DSSE envelopes, XChaCha20-Poly1305 keyring, key files.
        .target(name: "LBCrypto", dependencies: ["CSodium"]),
        // The cluster spec as plain values: model, validation, per-host plan. No YAML, no I/O.
        .target(name: "LBSpec"),
        // Reading a spec from YAML with file/line/column for every diagnostic.
        .target(name: "LBSpecYAML", dependencies: ["LBSpec", .product(name: "Yams", package: "Yams")]),
        // sd_notify without libsystemd (READY, STATUS, WATCHDOG, STOPPING over NOTIFY_SOCKET), and the Service
        // that tells systemd how a daemon is doing.
        .target(name: "LBSystemd", dependencies: [.product(name: "Logging", package: "swift-log"),
                                                  .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        // What the agent's and the controller's configuration files share (gossip, keyring, trust, log_level):
        // the types, and how they are read, checked and written, once for both; and the locked state directory.
        .target(name: "LBDaemonConfig", dependencies: ["LBSpec", "LBSpecYAML", .product(name: "Yams", package: "Yams")]),
        // The agent's own configuration (/etc/lb/agent.yaml): read with the spec's YAML reader, checked, written.
        .target(name: "LBAgentConfig", dependencies: ["LBDaemonConfig", "LBSpec", "LBSpecYAML", .product(name: "Yams", package: "Yams")]),
        // The controller's configuration (/etc/lb/controller.yaml), the same way.
        .target(name: "LBControllerConfig", dependencies: ["LBDaemonConfig", "LBSpec", "LBSpecYAML", .product(name: "Yams", package: "Yams")]),
        // keepalived.conf: parse, interpret and merge into a spec (import); write one from a spec (export).
        .target(name: "LBKeepalived", dependencies: ["LBSpec"]),
        // Typed netlink over Glibc sockets: rtnetlink links/addresses/events, generic netlink IPVS.
        .target(name: "LBNetlink", dependencies: ["LBSpec"]),
        // The IPVS connection table: as /proc/net/ip_vs_conn lists it (LBHost reads the file), and carried in the
        // kernel's sync format (encode, decode, multicast) so a master can hand a backup every entry, idle ones included.
        .target(name: "LBConnSync", dependencies: ["LBSpec"]),
        // This host's state that lb manages, as one protocol: Linux (netlink, /proc/sys) and in-memory.
        .target(
            name: "LBHost",
            dependencies: ["LBConnSync", "LBNetlink", "LBSpec", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]
        ),
        // The behaviour every HostControl shares with the kernel; run by tests, lb-hostcheck and the lab.
        .target(name: "LBHostConformance", dependencies: ["LBHost", "LBNetlink", "LBSpec"]),
        // Signed desired-state documents: build, sign, verify against a trust policy.
        .target(name: "LBDocument", dependencies: ["LBSpec", "LBCrypto"]),
        // The operator's commands; a library so tests can drive them without a subprocess.
        .target(
            name: "LBCtl",
            dependencies: [
                "LBSpec", "LBSpecYAML", "LBCrypto", "LBDocument", "LBKeepalived", "LBGossip", "LBGossipService",
                "LBClusterView", "LBControllerAPI", "LBAgentConfig", "LBControllerConfig", "LBDaemonConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(name: "lbctl", dependencies: ["LBCtl"]),
        // The node agent as a daemon: the reconciler (pure engine + shell), the VRRP supervisor, the drift
        // watcher, reports, metrics and the local status listener, each a Service under one ServiceGroup.
        .target(
            name: "LBAgent",
            dependencies: [
                "LBHost", "LBNetlink", "LBSpec", "LBVRRP", "LBVRRPRuntime", "LBGossip", "LBGossipService", "LBDocument", "LBCrypto",
                "LBAgentConfig", "LBDaemonConfig", "LBHealth", "LBReport", "LBConnSync", "LBSystemd", "LBProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The agent's commands; a library so tests can drive them.
        .target(
            name: "LBAgentCommands",
            dependencies: [
                "LBHost", "LBNetlink", "LBSpec", "LBVRRP", "LBVRRPRuntime", "LBGossip", "LBGossipService", "LBDocument", "LBCrypto",
                "LBAgent", "LBAgentConfig", "LBDaemonConfig", "LBSpecYAML", "LBConnSync",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "lb-agent", dependencies: ["LBAgentCommands"]),
        // VRRP v2/v3 as values: codec, the RFC state machine fed events and the time. No sockets, no clock.
        .target(name: "LBVRRP", dependencies: ["LBSpec"]),
        // The VRRP speaker: an actor driving LBVRRP with raw sockets, a monotonic clock and HostControl.
        .target(name: "LBVRRPRuntime", dependencies: ["LBVRRP", "LBHost", "LBSpec", "LBProcess"]),
        // Running a child program under a deadline: its own process group, killed whole at the deadline or on
        // cancellation, output capped, never a zombie. Shared by the exec health check and the notify script.
        .target(name: "LBProcess", dependencies: [.product(name: "Subprocess", package: "swift-subprocess")]),
        // Health checks: the pure checker (when each is due, rise and fall, transitions) and the probes, the
        // I/O: TCP, HTTP(S) and WebSocket over SwiftNIO (TLS by swift-nio-ssl), exec as a child process.
        .target(
            name: "LBHealth",
            dependencies: [
                "LBSpec", "CEpoll", .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "LBProcess",
            ]
        ),
        // The lab's WebSocket scenario tools: an echo server and a load client (pure tracker, schedules and
        // summary; a thin SwiftNIO shell), run as `lb-bench websocket serve|clients`.
        .target(
            name: "LBWebSocketLoad",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Network namespaces on a bridge with keepalived and lb-agent in them, for interop tests and benchmarks.
        .target(name: "LBVRRPLab", dependencies: ["LBVRRP", "LBSpec", "LBHostConformance"]),
        // Failover time of lb-agent against keepalived in namespaces (scripts/bench-vrrp.sh).
        .executableTarget(name: "lb-vrrp-bench", dependencies: ["LBVRRPLab", "LBVRRP", "LBSpec"]),
        // Benchmarks anyone can rerun (README): `lb-bench ipvs` in the lab, `lb-bench gossip` in the simulator,
        // `lb-bench drift` against real agents in network namespaces, `lb-bench health` with real listeners,
        // `lb-bench status-page` in headless Chromium, `lb-bench websocket` for the lab's WebSocket scenario.
        .executableTarget(
            name: "lb-bench",
            dependencies: ["LBHost", "LBNetlink", "LBSpec", "LBGossip", "LBGossipSim", "LBVRRPLab", "LBCrypto", "LBDocument", "LBAgentConfig",
                           "LBAgent", "LBHealth", "LBClusterView", "LBStatusPage", "LBTestKit", "LBController", "LBControllerAPI",
                           "LBControllerConfig", "LBHistory", "LBReport", "LBSpecYAML", "LBWebSocketLoad",
                           .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        // Runs LBHostConformance against the kernel, inside a scratch network namespace or the qemu lab.
        .executableTarget(name: "lb-hostcheck", dependencies: ["LBHostConformance", "LBHost", "LBNetlink", "LBSpec"]),
        // libFuzzer driver for document decoding and verification (built with -DFUZZ, see Makefile).
        // Seed writing and libFuzzer's driver, shared by the fuzz targets.
        .target(name: "LBFuzzSupport"),
        // What a node tells the cluster about itself over gossip (AgentReport): written by agents, read by the controller.
        .target(name: "LBReport"),
        // The cluster as the controller sees it: membership, reports and versions folded into status, events and
        // alarms (split brain), as plain values fed events and the time. No I/O.
        .target(name: "LBClusterView", dependencies: ["LBSpec", "LBReport", "LBGossip"]),
        // The controller's HTTP API as both ends see it: routes, bodies, server-sent events, and request signing.
        .target(name: "LBControllerAPI", dependencies: ["LBClusterView", "LBCrypto"]),
        // The controller daemon: its state (history + cluster view), the signed API, the status listener, the
        // gossip feed, each a Service under one ServiceGroup.
        .target(
            name: "LBController",
            dependencies: [
                "LBClusterView", "LBControllerAPI", "LBControllerConfig", "LBDaemonConfig", "LBHistory", "LBReport", "LBSpec", "LBDocument",
                "LBCrypto", "LBGossip", "LBGossipService", "LBStatusPage", "LBNotify", "LBSystemd",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "lb-controller",
            dependencies: ["LBController", "LBControllerConfig", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        // The controller's read-only status page: one self-contained HTML document drawn from ClusterStatus,
        // and the SSE fragments that keep it live. Strings only, no I/O: the controller serves them.
        .target(name: "LBStatusPage", dependencies: ["LBClusterView"]),
        // The controller's notifications: each event to e-mail (a small SMTP client over SwiftNIO), webhooks
        // (signed JSON POSTs) and a local script, each channel on its own, as one Service.
        .target(
            name: "LBNotify",
            dependencies: [
                "LBClusterView", "LBSpec", "LBCrypto", "LBProcess",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The controller's history in SQLite (GRDB): accepted versions with their envelopes, and the event timeline.
        .target(name: "LBHistory", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // What tests share: a seeded generator for random input that replays, and a headless Chromium runner.
        .target(name: "LBTestKit", dependencies: ["LBClusterView"]),
        .executableTarget(name: "DocumentFuzz", dependencies: ["LBDocument", "LBCrypto", "LBFuzzSupport"]),
        // libFuzzer driver for the netlink reply decoders (same build flags as DocumentFuzz).
        .executableTarget(name: "NetlinkFuzz", dependencies: ["LBNetlink", "LBSpec", "LBFuzzSupport"]),
        // libFuzzer driver for health-probe answers (the probe's HTTP pipeline) and gossiped node reports.
        .executableTarget(
            name: "HealthFuzz",
            dependencies: ["LBHealth", "LBAgent", "LBReport", "LBSpec", "LBFuzzSupport", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")]
        ),
        // libFuzzer driver for what reaches the controller and lbctl: signature headers, reports, events, API bodies.
        .executableTarget(name: "ControllerFuzz", dependencies: ["LBClusterView", "LBControllerAPI", "LBCrypto", "LBReport", "LBSpec", "LBFuzzSupport"]),
        // libFuzzer driver for the VRRP decoders and the state machine's receive path (same build flags).
        .executableTarget(name: "VRRPFuzz", dependencies: ["LBVRRP", "LBSpec", "LBFuzzSupport"]),
        // libFuzzer driver for IPVS sync messages and the connection listing (same build flags).
        .executableTarget(name: "ConnSyncFuzz", dependencies: ["LBConnSync", "LBSpec", "LBFuzzSupport"]),
        // SWIM membership with Lifeguard as a value fed events and the time, plus its packet codec. No NIO, no I/O.
        .target(name: "LBGossip"),
        // Test kit: a deterministic in-process network (virtual clock, seeded loss, latency, partitions).
        .target(name: "LBGossipSim", dependencies: ["LBGossip"]),
        // The default GossipTransport: SwiftNIO UDP and TCP on one port, every datagram and frame sealed
        // with the cluster keyring; what fails to open, is malformed or oversized is dropped and counted.
        .target(
            name: "LBGossipNet",
            dependencies: [
                "LBGossip", "LBCrypto", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // A running gossip member for the agent and the controller: engine + transport + clock, documents
        // fetched and verified with the trust policy, reports, all as async sequences.
        .target(name: "LBGossipService", dependencies: ["LBGossip", "LBGossipNet", "LBDocument", "LBCrypto",
                                                   .product(name: "Logging", package: "swift-log"),
                                                   .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        // libFuzzer driver for the gossip packet decoder and the engine's receive path (same build flags).
        .executableTarget(name: "GossipFuzz", dependencies: ["LBGossip", "LBFuzzSupport"]),
        // libFuzzer driver for what LBGossipNet reads off the network: frame splitting, opening, decoding (same build flags).
        .executableTarget(
            name: "GossipNetFuzz",
            dependencies: [
                "LBGossipNet", "LBGossip", "LBCrypto", "LBFuzzSupport",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),

        .testTarget(name: "LBSpecTests", dependencies: ["LBTestKit", "LBSpec", "LBSpecYAML"]),
        .testTarget(name: "LBAgentConfigTests", dependencies: ["LBTestKit", "LBAgentConfig", "LBSpec", "LBSpecYAML"]),
        .testTarget(name: "LBControllerConfigTests", dependencies: ["LBTestKit", "LBControllerConfig", "LBDaemonConfig", "LBSpec", "LBSpecYAML"]),
        .testTarget(name: "LBCryptoTests", dependencies: ["LBCrypto"]),
        .testTarget(
            name: "LBSystemdTests",
            dependencies: ["LBSystemd", "LBTestKit", .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle")]
        ),
        .testTarget(name: "LBDocumentTests", dependencies: ["LBDocument", "LBCrypto", "LBSpec"]),
        .testTarget(name: "LBNetlinkTests", dependencies: ["LBNetlink", "LBSpec"]),
        .testTarget(name: "LBConnSyncTests", dependencies: ["LBConnSync", "LBSpec"]),
        .testTarget(name: "LBHostTests", dependencies: ["LBHost", "LBHostConformance", "LBNetlink", "LBSpec", "lb-agent", "lb-hostcheck"]),
        .testTarget(
            name: "LBKeepalivedTests",
            dependencies: ["LBTestKit", "LBKeepalived", "LBSpec", "LBSpecYAML"],
            resources: [.copy("Resources")]
        ),
        .testTarget(name: "LBCtlTests", dependencies: ["LBCtl", "lbctl", "LBAgentConfig", "LBControllerConfig", "LBCrypto", "LBSpec"]),
        .testTarget(
            name: "LBVRRPTests",
            dependencies: ["LBTestKit", "LBVRRP", "LBVRRPRuntime", "LBVRRPLab", "LBHost", "LBNetlink", "LBSpec", "lb-agent"],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "LBHealthTests",
            dependencies: ["LBTestKit",
                "LBHealth", "LBSpec", "LBProcess",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "LBHistoryTests", dependencies: ["LBHistory"]),
        .testTarget(
            name: "LBControllerTests",
            dependencies: ["LBClusterView", "LBControllerAPI", "LBController", "LBHistory", "LBReport", "LBSpec", "LBCrypto", "LBDocument",
                           "LBTestKit", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")]
        ),
        .testTarget(
            name: "LBStatusPageTests",
            dependencies: ["LBStatusPage", "LBClusterView", "LBTestKit", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "LBNotifyTests",
            dependencies: [
                "LBNotify", "LBClusterView", "LBSpec", "LBCrypto", "LBProcess", "LBTestKit",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "LBWebSocketLoadTests",
            dependencies: ["LBWebSocketLoad", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(name: "LBGossipTests", dependencies: ["LBGossip", "LBGossipSim"]),
        .testTarget(name: "LBGossipNetTests", dependencies: ["LBGossipNet", "LBGossip", "LBCrypto"]),
        .testTarget(
            name: "LBGossipServiceTests",
            dependencies: ["LBGossipService", "LBGossipNet", "LBGossip", "LBDocument", "LBCrypto", "LBSpec", "LBVRRPLab", "lb-agent"]
        ),
        .testTarget(
            name: "LBAgentTests",
            dependencies: ["LBTestKit", "LBAgent", "LBReport", "LBHost", "LBNetlink", "LBSpec", "LBVRRP", "LBDocument", "LBCrypto", "LBGossipService", "LBVRRPLab",
                           "LBAgentConfig", "lb-agent", "lbctl", "lb-controller", "LBControllerConfig", "LBClusterView", "LBControllerAPI",
                           "LBSpecYAML", .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// scripts/fuzz.sh sets LB_FUZZ=1: lb's own modules are then compiled for libFuzzer (coverage and the address
// sanitizer; -DFUZZ turns on the drivers) in the same scratch path as the debug build, whose objects of the
// dependencies are reused as they are. A separate instrumented build of SwiftNIO, BoringSSL and the rest took
// a tenth of CI's run; coverage of lb's own code is what guides the fuzzer anyway.
if Context.environment["LB_FUZZ"] == "1" {
    let fuzzer: [String] = ["-sanitize=fuzzer,address"]
    for target in package.targets where target.type == .regular || target.type == .executable {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(fuzzer), .define("FUZZ")]
        if target.type == .executable {
            target.linkerSettings = (target.linkerSettings ?? []) + [.unsafeFlags(fuzzer)]
        }
    }
}
