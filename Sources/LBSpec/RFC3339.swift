/// RFC 3339 timestamps as whole seconds since the Unix epoch, read and written here because LBSpec keeps
/// to FoundationEssentials and a deadline in a spec needs no calendar beyond the proleptic Gregorian one.
///
/// Accepted is RFC 3339 §5.6 `date-time` with whole seconds: `YYYY-MM-DDTHH:MM:SS` followed by `Z` or a
/// numeric offset `+HH:MM` / `-HH:MM` (`-00:00` is UTC too). `T` and `Z` may be lower case, as §5.6 allows.
/// Refused, each with its reason: a fraction of a second (a deadline is kept in whole seconds), the leap
/// second `:60` (Unix time has none), a missing zone (local time would differ per director), a space for
/// `T`, days that do not exist (`2026-02-29`), and years outside 0000–9999 once in UTC.
/// `format` writes UTC with `Z`, which `parse` reads back to the same value.
public enum RFC3339 {
    /// Why a text is not a timestamp, as a phrase for "'TEXT' is not …: PROBLEM".
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// 0000-01-01T00:00:00Z through 9999-12-31T23:59:59Z: the instants `format` writes as four-digit years.
    public static let range: ClosedRange<Int64> = -62_167_219_200...253_402_300_799

    /// The instant `text` names, in seconds since 1970-01-01T00:00:00Z.
    public static func parse(_ text: String) throws(ParseError) -> Int64 {
        let b = Array(text.utf8)
        let shape = ParseError("expected YYYY-MM-DDTHH:MM:SS followed by Z or an offset such as +01:00")
        guard b.count >= 19 else {
            // "2026-12-02" alone is a date, not an instant.
            if b.count == 10, digits(b, 0, 4) != nil, b[4] == dash, b[7] == dash { throw ParseError("a date without a time; write e.g. \(text)T00:00:00Z") }
            throw shape
        }
        guard let year = digits(b, 0, 4), b[4] == dash, let month = digits(b, 5, 2), b[7] == dash, let day = digits(b, 8, 2) else { throw shape }
        if b[10] == space { throw ParseError("separate the date and the time with T, not a space") }
        guard b[10] == upperT || b[10] == lowerT else { throw shape }
        guard let hour = digits(b, 11, 2), b[13] == colon, let minute = digits(b, 14, 2), b[16] == colon, let second = digits(b, 17, 2) else { throw shape }

        guard (1...12).contains(month) else { throw ParseError("month \(two(month)) is not 01–12") }
        let length = daysIn(month: month, year: year)
        guard (1...length).contains(day) else {
            throw ParseError("day \(two(day)) does not exist in \(four(year))-\(two(month)), which has \(length) days")
        }
        guard hour <= 23 else { throw ParseError("hour \(two(hour)) is not 00–23") }
        guard minute <= 59 else { throw ParseError("minute \(two(minute)) is not 00–59") }
        if second == 60 { throw ParseError("second 60 is a leap second, which Unix time cannot represent; write :59") }
        guard second <= 59 else { throw ParseError("second \(two(second)) is not 00–59") }

        var offset: Int64 = 0
        let zone = b[19...]
        switch zone.first {
        case nil:
            throw ParseError("no time zone: end with Z for UTC, or an offset such as +01:00")
        case dot:
            throw ParseError("fractions of a second are not supported; write whole seconds")
        case upperZ, lowerZ:
            guard zone.count == 1 else { throw ParseError("nothing may follow the Z") }
        case plus, dash:
            guard zone.count == 6, let h = digits(b, 20, 2), b[22] == colon, let m = digits(b, 23, 2) else {
                throw ParseError("the offset must be +HH:MM or -HH:MM")
            }
            guard h <= 23 else { throw ParseError("offset hour \(two(h)) is not 00–23") }
            guard m <= 59 else { throw ParseError("offset minute \(two(m)) is not 00–59") }
            offset = Int64(h * 3600 + m * 60) * (zone.first == plus ? 1 : -1)
        default:
            throw ParseError("the time zone must be Z or an offset such as +01:00")
        }

        let local = daysFromCivil(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        // 14:00+02:00 is 12:00Z: the offset is how far local time is ahead of UTC.
        let utc = local - offset
        guard range.contains(utc) else { throw ParseError("in UTC it falls outside the years 0000–9999") }
        return utc
    }

    /// `seconds` as `YYYY-MM-DDTHH:MM:SSZ`. Outside `range` the year has more digits or a sign, which
    /// `parse` refuses; the validator reports such values before anything writes them.
    public static func format(_ seconds: Int64) -> String {
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civilFromDays(days)
        let h = Int(secondOfDay / 3600), m = Int(secondOfDay / 60 % 60), s = Int(secondOfDay % 60)
        return "\(four(year))-\(two(month))-\(two(day))T\(two(h)):\(two(m)):\(two(s))Z"
    }

    // MARK: the calendar

    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level Date
    /// Algorithms", days_from_civil: eras of 400 years, years starting in March so the leap day comes last).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDivide(y, 400).quotient
        let yearOfEra = y - era * 400                                       // 0...399
        let m = Int64(month), d = Int64(day)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1     // 0...365, from March 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468                           // 719468: 0000-03-01 to 1970-01-01
    }

    /// The inverse of `daysFromCivil` (Hinnant's civil_from_days).
    static func civilFromDays(_ days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097).quotient
        let dayOfEra = z - era * 146_097                                                   // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    // MARK: characters

    private static let dash = UInt8(ascii: "-"), colon = UInt8(ascii: ":"), dot = UInt8(ascii: "."), plus = UInt8(ascii: "+")
    private static let space = UInt8(ascii: " "), upperT = UInt8(ascii: "T"), lowerT = UInt8(ascii: "t")
    private static let upperZ = UInt8(ascii: "Z"), lowerZ = UInt8(ascii: "z")

    /// `count` ASCII digits at `start` as a number, or nil.
    private static func digits(_ b: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start + count <= b.count else { return nil }
        var v = 0
        for c in b[start..<(start + count)] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else { return nil }
            v = v * 10 + Int(c - UInt8(ascii: "0"))
        }
        return v
    }

    private static func two(_ v: Int) -> String { v < 10 && v >= 0 ? "0\(v)" : "\(v)" }

    private static func four(_ v: Int) -> String {
        guard (0...999).contains(v) else { return "\(v)" }
        return String(repeating: "0", count: 4 - "\(v)".count) + "\(v)"
    }
}
