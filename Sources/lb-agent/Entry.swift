import LBAgentCommands

// Not main.swift: an async entry point there is skipped by this toolchain (LAB-NOTES).
@main
enum Entry {
    static func main() async { await Agent.main() }
}
