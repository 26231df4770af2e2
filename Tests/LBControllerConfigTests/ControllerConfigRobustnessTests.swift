import Foundation
import LBControllerConfig
import LBSpec
import LBSpecYAML
import LBTestKit
import XCTest

/// Thousands of broken, truncated and mutated files through the loader: it must never crash or hang,
/// and what it returns must keep its promises, as the agent's loader does.
final class ControllerConfigRobustnessTests: XCTestCase {
    static let alphabet: [Character] = Array(":-[]{}&*!|>'\"#%@`?,\\ \t\n0123456789abcxyz.é/") + ["\u{0}", "\u{7}", "\u{FEFF}", "\u{2028}", "\r\n"]
    static let fragments = ["name: ", "cluster: ", "gossip:", "\n  listen: ", "api:", "\n  tls: {certificate: /c, key: ", "insecure_without_tls: true",
                            "clock_window: ", "notifications: {webhook: {url: ", "secret_file: /s", "retries: ", "script: /n", "notifications: {script: ", "status: {listen: ",
                            "&a ", "*a", "[", "]", "{", "}", ", ", "0.0.0.0:9120", "\"[::]:9120\"", "10.0.0.1", "250ms", "~", "true", "https://h/",
                            "!!str ", "<<: *a", "? ", "--- ", "|\n  x", "'q'", "#c", "\n", "\t"]

    func testLoaderSurvivesMalformedInput() throws {
        var rng = SplitMix64(seed: 0xC0471)
        let inputs = TextMutations.inputs(from: ctl1YAML, alphabet: Self.alphabet, fragments: Self.fragments, rng: &rng)
        XCTAssertGreaterThan(inputs.count, 4000)
        let outcome = try XCTUnwrap(finishes(within: 300) { () -> (accepted: Int, failures: [String]) in
            var failures: [String] = []
            var accepted = 0
            for input in inputs {
                let loaded = ControllerConfigLoader.load(yaml: input, file: "fuzz.yaml", defaultName: hostDefaultName)
                if let problem = Self.broken(loaded, input: input) { failures.append(problem) }
                if loaded.config != nil { accepted += 1 }
            }
            return (accepted, failures)
        }, "the loader must get through every input")
        XCTAssertEqual(outcome.failures.prefix(10).joined(separator: "\n\n"), "")
        XCTAssertGreaterThan(outcome.accepted, 100)
        XCTAssertLessThan(outcome.accepted, inputs.count / 2)
    }

    /// What is wrong with `loaded` as the outcome of loading `input`, if anything.
    static func broken(_ loaded: LoadedControllerConfig, input: String) -> String? {
        let lineCount = input.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count
        var problems = loaded.diagnostics.compactMap { d -> String? in
            d.file == "fuzz.yaml" && (1...lineCount + 1).contains(d.location.line) && d.location.column >= 1 && !d.diagnostic.message.isEmpty
                ? nil : "bad diagnostic \(d)"
        }
        if (loaded.config != nil) == loaded.hasErrors || (loaded.config == nil && loaded.diagnostics.isEmpty) {
            problems.append("a configuration must come back exactly when there is no error")
        }
        let order = loaded.diagnostics.map { [$0.location.line, $0.location.column] }
        if order != order.sorted(by: { $0.lexicographicallyPrecedes($1) }) { problems.append("diagnostics out of file order") }
        if let config = loaded.config {
            if ControllerConfigValidator.validate(config).contains(where: { $0.severity == .error }) { problems.append("accepted what the validator refuses") }
            let again = ControllerConfigLoader.load(yaml: ControllerConfigWriter.yaml(config), file: "again.yaml", defaultName: "unused")
            if again.config != config { problems.append("written and read back differs: \(again.diagnostics.map(\.description))") }
        }
        return problems.isEmpty ? nil : "input \(input.debugDescription):\n  " + problems.joined(separator: "\n  ")
    }
}
