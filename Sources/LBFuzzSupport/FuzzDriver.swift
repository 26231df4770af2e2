// The libFuzzer plumbing every fuzz target shares: seed writing and starting libFuzzer's driver.
// Compiled only into fuzz builds (-DFUZZ, see scripts/fuzz.sh).
#if FUZZ
#if canImport(Glibc)
import Glibc
#endif

/// Runs a fuzz target: with LB_FUZZ_WRITE_SEEDS=DIR it writes `seeds` there and exits; otherwise it
/// hands every input libFuzzer generates to `body`, which must crash only on a real finding.
public enum FuzzDriver {
    nonisolated(unsafe) static var body: ([UInt8]) -> Void = { _ in }

    public static func main(seeds: () throws -> [(String, [UInt8])], body: @escaping ([UInt8]) -> Void) -> Never {
        if let directory = getenv("LB_FUZZ_WRITE_SEEDS") {
            do {
                for (name, bytes) in try seeds() {
                    guard let file = fopen(String(cString: directory) + "/" + name, "wb") else { fatalError("cannot create seed \(name)") }
                    precondition(fwrite(bytes, 1, bytes.count, file) == bytes.count, "short write to \(name)")
                    fclose(file)
                }
            } catch {
                fatalError("cannot build seed inputs: \(error)")
            }
            exit(0)
        }
        // The callback is a C function pointer and cannot capture, so the body waits in a global.
        Self.body = body
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(llvmFuzzerRunDriver(&argc, &argv) { data, size in fuzzerTestOneInput(data, size) })
    }
}

// libFuzzer's runtime refers to this symbol, so every fuzz executable must define it; this library does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzDriver.body(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

// libFuzzer's documented entry point for programs that own `main`:
//   int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *, size_t));
// SwiftPM links its own `main` into executables, which keeps libFuzzer's `main` out, so the driver is
// started explicitly. No Swift module declares it; for integer and pointer arguments the Swift and C
// calling conventions agree on x86-64 and arm64, so binding the symbol by name is sound here.
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32
#endif
