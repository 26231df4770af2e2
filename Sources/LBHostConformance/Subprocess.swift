#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion and captures its output (both streams), without Foundation
/// (posix_spawnp and a pipe). Shared by the conformance witness, lb-hostcheck and the namespace lab.
public enum Subprocess {
    public struct Result: Sendable { public var status: Int32; public var output: String }

    /// Why a program could not be started.
    public struct SpawnError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Runs `program` (a path, or a name looked up in PATH) with `arguments`; the exit status is 128 + the
    /// signal number when a signal ended it.
    public static func run(_ program: String, _ arguments: [String]) throws(SpawnError) -> Result {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw SpawnError(description: "pipe failed: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
        posix_spawn_file_actions_addclose(&actions, pipeFDs[1])
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, program, &actions, nil, argv, environ)
        close(pipeFDs[1])
        guard spawned == 0 else {
            close(pipeFDs[0])
            throw SpawnError(description: "cannot run \(program): \(String(cString: strerror(spawned)))")
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
            if n > 0 { output += buffer[0..<n] } else if n < 0 && errno == EINTR { continue } else { break }
        }
        close(pipeFDs[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Result(status: exited, output: String(decoding: output, as: UTF8.self))
    }
}
