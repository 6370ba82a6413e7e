extension ManifestDecoder {
    /// The annotation the endpoints and endpointslice controllers set to when the change a
    /// slice (or Endpoints object) carries was triggered, e.g. a pod becoming ready. It is what
    /// CoreDNS's `dns_programming_duration_seconds` measures from.
    static let lastChangeTriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time"

    /// `metadata.annotations["endpoints.kubernetes.io/last-change-trigger-time"]` in seconds
    /// since the epoch. Informational only: absent, malformed or unparsable means nil, never an
    /// error (the object means the same to DNS either way).
    static func lastChangeTriggerTime<Object: ManifestMapping>(_ object: Object) -> Double? {
        let annotations = object.field("metadata")?.mapping?.field("annotations")?.mapping
        return annotations?.field(lastChangeTriggerTimeAnnotation)?.scalarText.flatMap(rfc3339Seconds)
    }

    /// An RFC 3339 §5.6 date-time (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.5+02:00`) in
    /// seconds since the epoch; nil when it is not one. Kubernetes writes Go's RFC3339Nano in UTC.
    static func rfc3339Seconds(_ text: String) -> Double? {
        var reader = DigitReader(Array(text.utf8))
        guard let year = reader.number(digits: 4), reader.skip("-"),
              let month = reader.number(digits: 2), reader.skip("-"),
              let day = reader.number(digits: 2), reader.skip("T") || reader.skip("t"),
              let hour = reader.number(digits: 2), reader.skip(":"),
              let minute = reader.number(digits: 2), reader.skip(":"),
              let second = reader.number(digits: 2),
              (1...12).contains(month), (1...daysInMonth(month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction = 0.0
        if reader.skip(".") {
            var scale = 0.1
            let start = reader.position
            while let digit = reader.number(digits: 1) {
                fraction += Double(digit) * scale
                scale /= 10
            }
            if reader.position == start { return nil }
        }
        guard let offset = reader.zoneOffsetSeconds(), reader.atEnd else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset
        return Double(seconds) + fraction
    }

    private static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

/// Reads the fixed-width fields of a timestamp.
private struct DigitReader {
    let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position == bytes.count }

    /// Exactly `digits` decimal digits, or nil (and nothing consumed).
    mutating func number(digits: Int) -> Int? {
        guard position + digits <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[position..<position + digits] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        position += digits
        return value
    }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
        position += 1
        return true
    }

    /// `Z` (UTC) or `±HH:MM`, in seconds east of UTC.
    mutating func zoneOffsetSeconds() -> Int? {
        if skip("Z") || skip("z") { return 0 }
        let sign = skip("+") ? 1 : skip("-") ? -1 : 0
        guard sign != 0, let hours = number(digits: 2), skip(":"), let minutes = number(digits: 2),
              hours < 24, minutes < 60 else { return nil }
        return sign * (hours * 3_600 + minutes * 60)
    }
}
