import Foundation

/// Writes a line to standard error, where diagnostics go when standard output carries a result.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
