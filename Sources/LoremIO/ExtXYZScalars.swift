/// Token-level conversions shared by the comment-line and atom-line parsers.
///
/// They mirror Python's `int()`, `float()` and ASE's boolean words, so a file means the
/// same thing here as in ASE.
enum ExtXYZScalars {
    static func int(_ token: some StringProtocol) -> Int? {
        Int(token)
    }

    /// Python's `float()`: decimal and exponent notation, `inf`, `nan`; unlike Swift's
    /// `Double(_:)` it rejects hexadecimal, which no extxyz writer produces.
    static func double(_ token: some StringProtocol) -> Double? {
        if token.utf8.contains(where: { $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") }) { return nil }
        return Double(token)
    }

    static func bool(_ token: some StringProtocol) -> Bool? {
        switch token {
        case "T", "True", "true", "TRUE": return true
        case "F", "False", "false", "FALSE": return false
        default: return nil
        }
    }

    /// Whitespace-separated words (Unicode White_Space, as Python's `str.split()` for text
    /// without control characters). An ASCII line, which is every line any extxyz writer
    /// produces, is split on its bytes: `Character.isWhitespace` looks up Unicode properties
    /// per character, ~0.1 s of a 13,824-atom frame's parse under perf.
    static func words(_ text: some StringProtocol) -> [Substring] {
        let line = Substring(text)
        guard line.utf8.allSatisfy({ $0 < 0x80 }) else { return line.split(whereSeparator: { $0.isWhitespace }) }
        return line.utf8.split(whereSeparator: isASCIIWhitespace).map { Substring($0) }
    }

    /// The ASCII members of White_Space: tab, line feed, vertical tab, form feed, carriage
    /// return, space.
    private static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// Items of a number list; ASE separates them by whitespace or commas.
    static func listItems(_ text: some StringProtocol) -> [Substring] {
        Substring(text).split(whereSeparator: { $0.isWhitespace || $0 == "," })
    }

    /// The typed meaning of a comment-line value, following ASE: one word becomes an int,
    /// float or bool if it parses as one; several words become a number list if they all
    /// parse; anything else stays a string. A bare key is the flag `True`.
    static func infoValue(_ raw: ExtXYZCommentLine.RawValue) -> InfoValue {
        let text: String
        switch raw {
        case .flag:
            return .bool(true)
        case .text(let t):
            text = t
        case .bracketed(let t):
            // `[1, 2, 3]` and `{1 2 3}` are lists.
            let items = listItems(t)
            if !items.isEmpty {
                if let ints = allInts(items) { return .ints(ints) }
                if let doubles = allDoubles(items) { return .doubles(doubles) }
            }
            return .string(t)
        }
        let items = listItems(text)
        if items.count == 1 && words(text).count == 1 {
            if let i = int(items[0]) { return .int(i) }
            if let d = double(items[0]) { return .double(d) }
            if let b = bool(items[0]) { return .bool(b) }
        } else if items.count > 1 {
            if let ints = allInts(items) { return .ints(ints) }
            if let doubles = allDoubles(items) { return .doubles(doubles) }
        }
        return .string(text)
    }

    static func allInts(_ items: [Substring]) -> [Int]? {
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let v = int(item) else { return nil }
            out.append(v)
        }
        return out
    }

    static func allDoubles(_ items: [Substring]) -> [Double]? {
        var out: [Double] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let v = double(item) else { return nil }
            out.append(v)
        }
        return out
    }
}
