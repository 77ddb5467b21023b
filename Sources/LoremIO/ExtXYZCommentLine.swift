/// Splits an extxyz comment line into `key=value` pairs the way ASE does.
///
/// Values may be bare words, double- or single-quoted strings (with backslash escapes, so a quoted
/// value can hold spaces and quotes) or bracketed lists `{...}` / `[...]`. A key without
/// `=` is a flag meaning `True`. Spaces around `=` are tolerated because hand-written
/// files contain them. Keys are case-sensitive.
enum ExtXYZCommentLine {
    /// How a value was written; quoting only groups words, it does not force a string type.
    enum RawValue: Equatable {
        /// A key given without `=`: a flag.
        case flag
        case text(String)
        /// Contents of `{...}` or `[...]`, brackets removed.
        case bracketed(String)
    }

    struct Pair: Equatable {
        var key: String
        var value: RawValue
    }

    /// A line without any `=` is a plain-xyz free-text comment rather than key=value data.
    static func isPlainComment(_ line: Substring) -> Bool {
        !line.contains("=")
    }

    static func parse(_ line: Substring) throws(LineProblem) -> [Pair] {
        var scanner = Scanner(Array(line))
        var pairs: [Pair] = []
        while true {
            scanner.skipWhitespace()
            if scanner.atEnd { break }
            let keyStart = scanner.position
            let key = try scanner.token(stopAtEquals: true)
            guard case .text(let keyText) = key, !keyText.isEmpty else {
                throw LineProblem(
                    kind: .badCommentLine,
                    detail: "expected a key at character \(keyStart + 1) of the comment line")
            }
            scanner.skipWhitespace()
            if scanner.peek == "=" {
                scanner.advance()
                scanner.skipWhitespace()
                let value = scanner.atEnd ? .text("") : try scanner.token(stopAtEquals: false)
                pairs.append(Pair(key: keyText, value: value))
            } else {
                pairs.append(Pair(key: keyText, value: .flag))
            }
        }
        return pairs
    }

    /// Character cursor over one comment line.
    private struct Scanner {
        let chars: [Character]
        var position = 0

        init(_ chars: [Character]) { self.chars = chars }

        var atEnd: Bool { position >= chars.count }
        var peek: Character? { atEnd ? nil : chars[position] }
        mutating func advance() { position += 1 }

        mutating func skipWhitespace() {
            while let c = peek, c.isWhitespace { advance() }
        }

        /// Reads a quoted string, a bracketed list, or a bare word.
        mutating func token(stopAtEquals: Bool) throws(LineProblem) -> RawValue {
            switch peek {
            case "\"", "'": return .text(try quoted())
            case "{" where !stopAtEquals, "[" where !stopAtEquals: return .bracketed(try bracketed())
            default: return .text(bare(stopAtEquals: stopAtEquals))
            }
        }

        private mutating func bare(stopAtEquals: Bool) -> String {
            var text = ""
            while let c = peek, !c.isWhitespace, !(stopAtEquals && c == "=") {
                text.append(c)
                advance()
            }
            return text
        }

        private mutating func quoted() throws(LineProblem) -> String {
            let start = position
            let quote = chars[position]
            advance()  // opening quote
            var text = ""
            while let c = peek {
                advance()
                switch c {
                case quote:
                    return text
                case "\\":
                    guard let escaped = peek else { break }
                    advance()
                    text.append(escaped == "n" ? "\n" : escaped)
                default:
                    text.append(c)
                }
            }
            throw LineProblem(
                kind: .unterminatedQuote,
                detail: "quote opened at character \(start + 1) of the comment line is never closed")
        }

        private mutating func bracketed() throws(LineProblem) -> String {
            let start = position
            let open = chars[position]
            let close: Character = open == "{" ? "}" : "]"
            var depth = 0
            var text = ""
            while let c = peek {
                advance()
                if c == open { depth += 1 }
                if c == close { depth -= 1 }
                if depth == 0 { return String(text.dropFirst()) }
                text.append(c)
            }
            throw LineProblem(
                kind: .unterminatedQuote,
                detail: "'\(open)' opened at character \(start + 1) of the comment line is never closed")
        }
    }
}
