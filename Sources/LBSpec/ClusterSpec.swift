#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The whole cluster, as the operator declares it: nodes, VIPs with their VRRP groups and services.
public struct ClusterSpec: Codable, Sendable, Equatable {
    public var cluster: String
    public init(cluster: String) { self.cluster = cluster }
}

/// The one JSON form of specs and plans: snake_case keys, sorted, so equal values give equal bytes.
public enum SpecJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}
