// Logarithms come from the C library: the engine stays free of Foundation, and Glibc/Darwin add no I/O.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always) func cLog(_ x: Double) -> Double { log(x) }
@inline(__always) func cLog10(_ x: Double) -> Double { log10(x) }
