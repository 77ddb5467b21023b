/// Renders structures as extxyz text in the layout `ase.io.read` expects.
///
/// Numbers use Swift's shortest round-trip `description`, so reading the file back gives
/// bit-identical doubles. Inconsistent structures (a column with the wrong number of rows,
/// a string with spaces in an atom column) are rejected rather than written, because they
/// would produce a file that no reader can parse.
enum ExtXYZFormatter {
    /// Keys with a fixed meaning in the comment line; an info entry with one of these
    /// names would be read back as something else.
    static let reservedKeys: Set<String> = ["Lattice", "Properties", "pbc"]
    /// Column names the reader maps onto `numbers` and `positions`.
    static let reservedColumns: Set<String> = ["species", "symbols", "pos", "positions", "Z", "numbers"]

    static func format(_ frames: [Structure], file: String, firstFrame: Int = 0) throws(StructureFileError) -> String {
        var out = ""
        for (index, frame) in frames.enumerated() {
            do {
                try append(frame, to: &out)
            } catch {
                throw StructureFileError(file: file, frame: firstFrame + index, kind: error.kind, detail: error.detail)
            }
        }
        return out
    }

    private static func append(_ s: Structure, to out: inout String) throws(LineProblem) {
        try validate(s)
        out += "\(s.count)\n"
        var fields: [String] = []
        if s.cell.contains(where: { $0 != .zero }) {
            let numbers = s.cell.flatMap { [$0.x, $0.y, $0.z] }.map(real)
            fields.append("Lattice=\"\(numbers.joined(separator: " "))\"")
        }
        let specs = ["species:S:1", "pos:R:3"] + s.arrays.map { "\($0.name):\(typeCode($0.values)):\($0.width)" }
        fields.append("Properties=" + specs.joined(separator: ":"))
        for entry in s.info {
            fields.append("\(key(entry.key))=\(value(Self.asASEMatrix(entry)))")
        }
        fields.append("pbc=\"\(s.pbc.map { $0 ? "T" : "F" }.joined(separator: " "))\"")
        out += fields.joined(separator: " ") + "\n"

        for i in 0..<s.count {
            var line = Elements.symbol(for: s.numbers[i])!
            let p = s.positions[i]
            line += " \(real(p.x)) \(real(p.y)) \(real(p.z))"
            for column in s.arrays {
                line += " " + row(column.values, i)
            }
            out += line + "\n"
        }
    }

    private static func validate(_ s: Structure) throws(LineProblem) {
        func bad(_ detail: String) -> LineProblem { LineProblem(kind: .inconsistentStructure, detail: detail) }
        guard s.positions.count == s.count else {
            throw bad("\(s.count) atomic numbers but \(s.positions.count) positions")
        }
        guard s.cell.count == 3, s.pbc.count == 3 else {
            throw bad("cell must have 3 vectors and pbc 3 flags")
        }
        if let z = s.numbers.first(where: { Elements.symbol(for: $0) == nil }) {
            throw bad("atomic number \(z) has no element symbol")
        }
        for entry in s.info {
            guard !reservedKeys.contains(entry.key), !entry.key.isEmpty else {
                throw bad("info key '\(entry.key)' is reserved or empty")
            }
        }
        var names = Set<String>()
        for column in s.arrays {
            let n = column.name
            guard !n.isEmpty, !reservedColumns.contains(n), names.insert(n).inserted,
                !n.contains(where: { $0 == ":" || $0.isWhitespace || $0 == "\"" })
            else {
                throw bad("column name '\(n)' is empty, reserved, duplicated or contains ':', quotes or spaces")
            }
            guard column.width > 0, column.values.rowCount == s.count,
                column.values.rowWidths.allSatisfy({ $0 == column.width })
            else {
                throw bad("column '\(n)' must have \(s.count) rows of width \(column.width)")
            }
            if case .string(let rows) = column.values,
                rows.joined().contains(where: { $0.isEmpty || $0.contains(where: \.isWhitespace) })
            {
                throw bad("column '\(n)' has an empty string or one containing whitespace")
            }
        }
    }

    static func real(_ x: Double) -> String { x.description }

    /// ASE reads `stress` and `virial` only as 9-value 3×3 matrices and rejects the file
    /// otherwise, so a Voigt-6 value is expanded (as ASE's own writer does).
    static let matrixKeys: Set<String> = ["stress", "virial"]

    private static func asASEMatrix(_ entry: InfoEntry) -> InfoValue {
        guard matrixKeys.contains(entry.key) else { return entry.value }
        switch entry.value {
        case .doubles(let v) where v.count == 6: return .doubles(Structure.fullMatrix(voigt: v))
        case .ints(let v) where v.count == 6: return .doubles(Structure.fullMatrix(voigt: v.map(Double.init)))
        default: return entry.value
        }
    }

    private static func typeCode(_ values: AtomColumn.Values) -> String {
        switch values {
        case .real: return "R"
        case .int: return "I"
        case .string: return "S"
        case .bool: return "L"
        }
    }

    private static func row(_ values: AtomColumn.Values, _ i: Int) -> String {
        switch values {
        case .real(let r): return r[i].map(real).joined(separator: " ")
        case .int(let r): return r[i].map(String.init).joined(separator: " ")
        case .string(let r): return r[i].joined(separator: " ")
        case .bool(let r): return r[i].map { $0 ? "T" : "F" }.joined(separator: " ")
        }
    }

    private static func key(_ k: String) -> String {
        k.contains(where: { $0.isWhitespace || $0 == "=" || $0 == "\"" }) ? quote(k) : k
    }

    private static func value(_ v: InfoValue) -> String {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return real(d)
        case .bool(let b): return b ? "T" : "F"
        case .string(let s): return quote(s)
        case .doubles(let a): return "\"" + a.map(real).joined(separator: " ") + "\""
        case .ints(let a): return "\"" + a.map(String.init).joined(separator: " ") + "\""
        }
    }

    /// Double-quoted with backslash escapes, which both ASE and our reader undo.
    private static func quote(_ s: String) -> String {
        var out = "\""
        for c in s {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}
