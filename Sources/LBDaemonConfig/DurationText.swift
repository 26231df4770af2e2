import LBSpecYAML

/// Durations as the configuration file writes them and its messages show them.
extension Duration {
    /// The duration in whole milliseconds, or nil when it has a fraction of one (or does not fit).
    package var wholeMilliseconds: Int? {
        let (s, atto) = components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        guard atto % perMillisecond == 0 else { return nil }
        let (scaled, overflow) = s.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return nil }
        let (total, overflow2) = scaled.addingReportingOverflow(atto / perMillisecond)
        return overflow2 ? nil : Int(total)
    }

    /// `250ms`, `1s`, `10m`, as the loader reads it back; a duration finer than a millisecond as
    /// fractional milliseconds (`1.5ms`), which the loader refuses.
    package var configText: String {
        if let ms = wholeMilliseconds { return SpecYAMLWriter.duration(milliseconds: ms) }
        let (s, atto) = components
        return "\(Double(s) * 1000 + Double(atto) / 1e15)ms"
    }
}

extension ClosedRange<Duration> {
    /// `50ms–1m`.
    package var configText: String { "\(lowerBound.configText)–\(upperBound.configText)" }
}
