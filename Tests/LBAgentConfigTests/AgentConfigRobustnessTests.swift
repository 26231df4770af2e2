import Foundation
import LBAgentConfig
import LBSpec
import LBSpecYAML
import LBTestKit
import XCTest

/// Thousands of broken, truncated and mutated files through the loader: it must never crash or hang, and
/// what it returns must keep its promises (a configuration exactly when there is no error, positions
/// inside the file and in order, and any configuration it accepts written and read back unchanged).
final class AgentConfigRobustnessTests: XCTestCase {
    /// Characters YAML gives meaning to, and some it refuses.
    static let alphabet: [Character] = Array(":-[]{}&*!|>'\"#%@`?,\\ \t\n0123456789abcxyz.é/") + ["\u{0}", "\u{7}", "\u{FEFF}", "\u{2028}", "\r\n"]
    /// Fragments that make the parser and the schema reader take more interesting paths.
    static let fragments = ["node: ", "cluster: ", "gossip:", "\n  listen: ", "  seeds:", "\n    - ", "advertise: ", "profile: fast",
                            "trust: {keys: /k, threshold: ", "drift:", "\n  retry_max: ", "status: {listen: ", "log_level: ", "&a ", "*a",
                            "[", "]", "{", "}", ", ", "0.0.0.0:7946", "\"[::]:7946\"", "[::]:7946", "10.0.0.1", "250ms", "1h30m", "~",
                            "!!str ", "<<: *a", "? ", "--- ", "...", "|\n  x", ">-\n  y", "'q'", "\"\\x00\"", "#c", "\n", "\t"]

    func testLoaderSurvivesMalformedInput() throws {
        var rng = SplitMix64(seed: 0xA6E17)
        let inputs = TextMutations.inputs(from: rs1YAML, alphabet: Self.alphabet, fragments: Self.fragments, rng: &rng)
        XCTAssertGreaterThan(inputs.count, 4000)

        let all = inputs
        let outcome = try XCTUnwrap(finishes(within: 300) { () -> (accepted: Int, failures: [String]) in
            var failures: [String] = []
            var accepted = 0
            for input in all {
                let loaded = AgentConfigLoader.load(yaml: input, file: "fuzz.yaml")
                failures += Self.broken(loaded, input: input)
                if loaded.config != nil { accepted += 1 }
            }
            return (accepted, failures)
        }, "the loader must get through every input")
        XCTAssertEqual(outcome.failures.prefix(10).joined(separator: "\n\n"), "")
        // Some mutations (a changed comment, a changed port) leave a valid file; most do not.
        XCTAssertGreaterThan(outcome.accepted, 100)
        XCTAssertLessThan(outcome.accepted, all.count / 2)
    }

    /// What is wrong with `loaded` as the outcome of loading `input`, if anything.
    static func broken(_ loaded: LoadedAgentConfig, input: String) -> [String] {
        var problems: [String] = []
        let lines = input.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count
        if loaded.diagnostics.isEmpty && loaded.config == nil { problems.append("neither a configuration nor a diagnostic") }
        if (loaded.config != nil) == loaded.hasErrors { problems.append("a configuration must come back exactly when there is no error") }
        for d in loaded.diagnostics {
            if d.file != "fuzz.yaml" { problems.append("wrong file in \(d)") }
            if d.location.line < 1 || d.location.line > lines + 1 || d.location.column < 1 { problems.append("position outside the file: \(d)") }
            if d.diagnostic.message.isEmpty { problems.append("empty message at \(d.location)") }
        }
        let positions = loaded.diagnostics.map { [$0.location.line, $0.location.column] }
        if positions != positions.sorted(by: { $0.lexicographicallyPrecedes($1) }) { problems.append("diagnostics out of file order") }
        if let config = loaded.config {
            if AgentConfigValidator.validate(config).contains(where: { $0.severity == .error }) { problems.append("accepted a configuration the validator refuses") }
            let again = AgentConfigLoader.load(yaml: AgentConfigWriter.yaml(config), file: "again.yaml")
            if again.config != config { problems.append("written and read back differs: \(again.diagnostics.map(\.description))") }
        }
        return problems.isEmpty ? [] : ["input \(input.debugDescription):\n  " + problems.joined(separator: "\n  ")]
    }
}
