/// What docs tests read from a Markdown page, so the tables they check against the code are parsed once.
public enum MarkdownTable {
    /// The first column's `code` of each row of the tables under `## heading`, up to the next `## `;
    /// nil when the page has no such section.
    public static func codeKeys(in page: String, section heading: String) -> [String]? {
        guard let section = page.components(separatedBy: "\n## \(heading)\n").dropFirst().first?.components(separatedBy: "\n## ").first else { return nil }
        return section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            return line.dropFirst(3).prefix { $0 != "`" }.description
        }
    }
}
