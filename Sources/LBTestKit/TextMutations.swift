/// Broken versions of a good text file for robustness tests: every truncation, random character and line
/// edits, spliced fragments, and soups with no file to start from. The same generator gives the same list.
public enum TextMutations {
    public static func inputs(from base: String, alphabet: [Character], fragments: [String], rng: inout SplitMix64,
                              mutations: Int = 2500, soups: Int = 500) -> [String] {
        var inputs: [String] = []
        let chars = Array(base)
        for n in 0...chars.count { inputs.append(String(chars[..<n])) }
        for _ in 0..<mutations {
            var text = chars
            for _ in 0..<(1 + rng.below(4)) {
                switch rng.next() % 7 {
                case 0: if !text.isEmpty { text[rng.below(text.count)] = rng.pick(alphabet) }
                case 1: text.insert(rng.pick(alphabet), at: rng.below(text.count + 1))
                case 2:
                    if !text.isEmpty {
                        let start = rng.below(text.count)
                        text.removeSubrange(start..<min(text.count, start + 1 + rng.below(8)))
                    }
                case 3: text.insert(contentsOf: rng.pick(fragments), at: rng.below(text.count + 1))
                default:
                    var lines = String(text).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                    let i = rng.below(lines.count), j = rng.below(lines.count)
                    switch rng.next() % 4 {
                    case 0: lines.insert(lines[i], at: j)
                    case 1: lines.remove(at: i)
                    case 2: lines.swapAt(i, j)
                    default: lines[i] = String(repeating: " ", count: rng.below(6)) + lines[i].drop { $0 == " " }
                    }
                    text = Array(lines.joined(separator: "\n"))
                }
            }
            inputs.append(String(text))
        }
        for _ in 0..<soups {
            var text = ""
            for _ in 0..<(1 + rng.below(30)) { text += rng.next() % 2 == 0 ? rng.pick(fragments) : String(rng.pick(alphabet)) }
            inputs.append(text)
        }
        return inputs
    }
}
