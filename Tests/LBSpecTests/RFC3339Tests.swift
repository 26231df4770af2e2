import XCTest
@testable import LBSpec

/// The spec's own RFC 3339 reader and writer (drain deadlines), checked against values `date -u +%s` gives.
final class RFC3339Tests: XCTestCase {
    func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Int64? {
        do { return try RFC3339.parse(text) } catch {
            XCTFail("'\(text)': \(error)", file: file, line: line)
            return nil
        }
    }

    func assertRefused(_ text: String, _ problem: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try RFC3339.parse(text), text, file: file, line: line) { error in
            XCTAssertEqual("\(error)", problem, text, file: file, line: line)
        }
    }

    func testKnownInstants() {
        let known: [(String, Int64)] = [
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59Z", -1),
            ("2000-02-29T00:00:00Z", 951_782_400),
            ("2024-02-29T23:59:59Z", 1_709_251_199),
            ("2026-12-02T03:00:00Z", 1_796_180_400),
            ("0001-01-01T00:00:00Z", -62_135_596_800),
            ("0000-01-01T00:00:00Z", -62_167_219_200),
            ("9999-12-31T23:59:59Z", 253_402_300_799),
        ]
        for (text, seconds) in known {
            XCTAssertEqual(parse(text), seconds, text)
            XCTAssertEqual(RFC3339.format(seconds), text, "\(seconds)")
        }
        XCTAssertEqual(RFC3339.range, -62_167_219_200...253_402_300_799)
    }

    func testOffsetsAndLowerCaseAreUTCOnceRead() {
        XCTAssertEqual(parse("2026-12-02T04:00:00+01:00"), 1_796_180_400)
        XCTAssertEqual(parse("2026-12-01T21:30:00-05:30"), 1_796_180_400)
        XCTAssertEqual(parse("2026-12-02T03:00:00-00:00"), 1_796_180_400)
        XCTAssertEqual(parse("2026-12-02T03:00:00+00:00"), 1_796_180_400)
        XCTAssertEqual(parse("2026-12-02t03:00:00z"), 1_796_180_400)
        // An offset may carry the instant into another day, month or year.
        XCTAssertEqual(parse("2027-01-01T00:30:00+01:00"), parse("2026-12-31T23:30:00Z"))
    }

    func testLeapYears() {
        for year in [2000, 2024, 1600, 2400, 0] { XCTAssertTrue(RFC3339.isLeapYear(year), "\(year)") }
        for year in [1900, 2023, 2100, 2200, 1] { XCTAssertFalse(RFC3339.isLeapYear(year), "\(year)") }
        XCTAssertNotNil(parse("2000-02-29T12:00:00Z"))
        XCTAssertNotNil(parse("2024-02-29T12:00:00Z"))
        assertRefused("2023-02-29T12:00:00Z", "day 29 does not exist in 2023-02, which has 28 days")
        assertRefused("1900-02-29T12:00:00Z", "day 29 does not exist in 1900-02, which has 28 days")
        assertRefused("2100-02-29T12:00:00Z", "day 29 does not exist in 2100-02, which has 28 days")
        assertRefused("2024-02-30T12:00:00Z", "day 30 does not exist in 2024-02, which has 29 days")
    }

    func testMonthsAndDays() {
        assertRefused("2026-00-10T00:00:00Z", "month 00 is not 01–12")
        assertRefused("2026-13-10T00:00:00Z", "month 13 is not 01–12")
        assertRefused("2026-04-31T00:00:00Z", "day 31 does not exist in 2026-04, which has 30 days")
        assertRefused("2026-12-00T00:00:00Z", "day 00 does not exist in 2026-12, which has 31 days")
        assertRefused("2026-12-32T00:00:00Z", "day 32 does not exist in 2026-12, which has 31 days")
        for month in 1...12 {
            let last = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
            let m = month < 10 ? "0\(month)" : "\(month)"
            XCTAssertNotNil(parse("2026-\(m)-\(last)T00:00:00Z"))
        }
    }

    func testTimeOfDay() {
        assertRefused("2026-12-02T24:00:00Z", "hour 24 is not 00–23")
        assertRefused("2026-12-02T03:60:00Z", "minute 60 is not 00–59")
        assertRefused("2026-12-02T03:00:61Z", "second 61 is not 00–59")
        assertRefused("2016-12-31T23:59:60Z", "second 60 is a leap second, which Unix time cannot represent; write :59")
        assertRefused("2026-12-02T03:00:00.5Z", "fractions of a second are not supported; write whole seconds")
    }

    func testZones() {
        let noZone = "no time zone: end with Z for UTC, or an offset such as +01:00"
        assertRefused("2026-12-02T03:00:00", noZone)
        assertRefused("2026-12-02T03:00:00 UTC", "the time zone must be Z or an offset such as +01:00")
        assertRefused("2026-12-02T03:00:00ZZ", "nothing may follow the Z")
        assertRefused("2026-12-02T03:00:00+0100", "the offset must be +HH:MM or -HH:MM")
        assertRefused("2026-12-02T03:00:00+01", "the offset must be +HH:MM or -HH:MM")
        assertRefused("2026-12-02T03:00:00+24:00", "offset hour 24 is not 00–23")
        assertRefused("2026-12-02T03:00:00+01:60", "offset minute 60 is not 00–59")
        assertRefused("0000-01-01T00:30:00+01:00", "in UTC it falls outside the years 0000–9999")
        assertRefused("9999-12-31T23:30:00-01:00", "in UTC it falls outside the years 0000–9999")
    }

    func testGarbage() {
        let shape = "expected YYYY-MM-DDTHH:MM:SS followed by Z or an offset such as +01:00"
        for text in ["", "tomorrow", "1796180400", "2026-12-2T03:00:00Z", "26-12-02T03:00:00Z", "2026/12/02T03:00:00Z",
                     "2026-12-02T3:00:00Z", "2026-12-02T03:00Z", "2026-12-02T03-00-00Z", "+2026-12-02T03:00:00Z",
                     "２０２６-12-02T03:00:00Z", "2026-12-02X03:00:00Z", " 2026-12-02T03:00:00Z"] {
            assertRefused(text, shape)
        }
        assertRefused("2026-12-02 03:00:00Z", "separate the date and the time with T, not a space")
        assertRefused("2026-12-02", "a date without a time; write e.g. 2026-12-02T00:00:00Z")
    }

    /// Every day of four centuries, and seconds on both sides of midnight, read back to what was written.
    func testFormatAndParseAreInverses() throws {
        var day = RFC3339.daysFromCivil(year: 1800, month: 1, day: 1)
        let end = RFC3339.daysFromCivil(year: 2200, month: 12, day: 31)
        var previous: (Int, Int, Int)? = nil
        while day <= end {
            let civil = RFC3339.civilFromDays(day)
            XCTAssertEqual(RFC3339.daysFromCivil(year: civil.year, month: civil.month, day: civil.day), day)
            if let p = previous {
                // Consecutive days: the next day of the month, or the first of the next month.
                let next = p.2 < RFC3339.daysIn(month: p.1, year: p.0) ? (p.0, p.1, p.2 + 1) : p.1 < 12 ? (p.0, p.1 + 1, 1) : (p.0 + 1, 1, 1)
                XCTAssertTrue(next == civil, "\(p) then \(civil)")
            }
            previous = civil
            day += 1
        }
        for seconds: Int64 in [-86_401, -86_400, -86_399, -1, 0, 1, 86_399, 86_400, 1_796_180_400, RFC3339.range.lowerBound, RFC3339.range.upperBound] {
            XCTAssertEqual(try RFC3339.parse(RFC3339.format(seconds)), seconds)
        }
    }
}
