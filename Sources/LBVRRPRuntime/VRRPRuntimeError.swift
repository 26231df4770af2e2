#if canImport(Glibc)
import Glibc
#endif

/// Why a speaker cannot run or a packet cannot be sent, worded for the operator: the interface, address
/// or socket call involved and, for system calls, errno's text. The one error type of LBVRRPRuntime.
public struct VRRPRuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }

    /// `what` failed with the current errno.
    static func errno(_ what: String) -> VRRPRuntimeError {
        VRRPRuntimeError("\(what): \(String(cString: strerror(Glibc.errno)))")
    }
}
