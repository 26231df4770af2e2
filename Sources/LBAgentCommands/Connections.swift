import ArgumentParser
import LBConnSync
import LBHost
import LBSpec

extension Agent {
    /// `lb-agent connections`: the IPVS connection table (ipvsadm -Lcn's view), and `--send` to multicast
    /// it to the backups in the sync daemon's format, as the handover does when a director returns.
    struct Connections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show this director's IPVS connection table; with --send, multicast all of it to the backup directors' sync threads now.",
            discussion: """
                The kernel's sync daemon sends a connection only when its packets cross sync_threshold, so idle \
                connections may be missing on a backup; the agent hands its whole table over by itself when a \
                director returns (docs/connection-sync.md). --send does the same by hand, for every entry: \
                templates, established TCP and UDP, to 224.0.0.81:8848 on --interface.
                """
        )

        @Flag(help: "Multicast the table to the backups instead of printing it.")
        var send = false

        @Option(help: "The sync interface (the one the backup's sync daemon listens on).")
        var interface = "eth0"

        @Option(help: "The sync id the backups expect (0: any).")
        var syncID: UInt8 = 0

        func run() async throws {
            guard let table = ProcIPVS.connections() else {
                throw ValidationError("cannot read \(ConnectionListing.path): no IPVS in this kernel or namespace")
            }
            guard send else {
                for c in table { print(c) }
                print("\(table.count) entries")
                return
            }
            let entries = table.filter { $0.isTemplate || $0.isEstablished || $0.protocolNumber == IPVSConnection.udp }
                .map { SyncMessage.Entry($0, forward: SyncMessage.Flag.directRoute) }
            let datagrams = SyncMessage.encode(entries, syncID: syncID)
            do {
                let sent = try await SyncSender(interface: interface).send(datagrams)
                print("sent \(entries.count) entries in \(sent) datagrams on \(interface)")
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }
}
