import Foundation

/// Times as the page prints them, always UTC. Computed with integer arithmetic (Hinnant's days-to-civil)
/// because a page of 1,000 nodes prints a few thousand times, and a date formatter for each costs more
/// than the rest of the row.
enum UTCTime {
    struct Parts {
        var year: Int
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int
    }

    static func parts(_ date: Date) -> Parts {
        let t = Int(date.timeIntervalSince1970.rounded(.down))
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secs = t - days * 86_400
        // howardhinnant.github.io/date_algorithms.html, civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return Parts(year: yoe + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day,
                     hour: secs / 3600, minute: secs / 60 % 60, second: secs % 60)
    }

    /// `2026-03-01T12:03:04Z`, for `datetime` attributes and titles.
    static func iso(_ date: Date) -> String {
        let p = parts(date)
        return "\(p.year)-\(two(p.month))-\(two(p.day))T\(two(p.hour)):\(two(p.minute)):\(two(p.second))Z"
    }

    /// `12:03:04`, for the event list, where the day is rarely in doubt.
    static func clock(_ date: Date) -> String {
        let p = parts(date)
        return "\(two(p.hour)):\(two(p.minute)):\(two(p.second))"
    }

    /// `12:03`, or `03-01 12:03` when the axis spans more than a day.
    static func tick(_ date: Date, withDay: Bool) -> String {
        let p = parts(date)
        return (withDay ? "\(two(p.month))-\(two(p.day)) " : "") + "\(two(p.hour)):\(two(p.minute))"
    }

    /// `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`; `in the future` for a clock that runs ahead.
    static func age(_ date: Date, now: Date) -> String {
        let s = Int(now.timeIntervalSince(date).rounded(.down))
        switch s {
        case ..<(-1): return "in the future"
        case ..<60: return "\(max(s, 0)) s ago"
        case ..<3600: return "\(s / 60) min ago"
        case ..<86_400: return "\(s / 3600) h ago"
        default: return "\(s / 86_400) d ago"
        }
    }

    private static func two(_ n: Int) -> String {
        n < 10 ? "0\(n)" : String(n)
    }
}
