/// Accumulates the atom lines of one frame into atomic numbers, positions and the extra
/// per-atom columns declared by `Properties=`.
///
/// Column names follow ASE: `species`/`symbols` give element symbols, `Z`/`numbers` give
/// atomic numbers (and win over symbols when both exist, as in ASE), `pos`/`positions`
/// give Cartesian coordinates. Everything else is kept verbatim.
struct AtomLineParser {
    private(set) var numbers: [Int] = []
    private(set) var positions: [SIMD3<Double>] = []
    private let columns: [ExtXYZColumnSpec]
    private let totalWidth: Int
    private let speciesIndex: Int?
    private let numbersIndex: Int?
    private let positionIndex: Int?
    private var buffers: [Buffer]

    /// Flat storage for one extra column (rows are `width` consecutive entries).
    private struct Buffer {
        var reals: [Double] = []
        var ints: [Int] = []
        var strings: [String] = []
        var bools: [Bool] = []
    }

    init(columns: [ExtXYZColumnSpec], atomCount: Int) {
        self.columns = columns
        totalWidth = columns.reduce(0) { $0 + $1.width }
        speciesIndex = columns.firstIndex { $0.name == "species" || $0.name == "symbols" }
        numbersIndex = columns.firstIndex { $0.name == "Z" || $0.name == "numbers" }
        positionIndex = columns.firstIndex { $0.name == "pos" || $0.name == "positions" }
        buffers = Array(repeating: Buffer(), count: columns.count)
        // The count comes from the file and may be absurd; the lines that follow bound the rest.
        numbers.reserveCapacity(min(atomCount, 1 << 16))
        positions.reserveCapacity(min(atomCount, 1 << 16))
    }

    /// Checks that the columns the model needs exist with the right type and width.
    func validateLayout() throws(LineProblem) {
        guard let positionIndex else {
            throw LineProblem(kind: .badProperties, detail: "no 'pos' column")
        }
        let pos = columns[positionIndex]
        guard pos.type == .real, pos.width == 3 else {
            throw LineProblem(kind: .badProperties, detail: "'\(pos.specText)' must be pos:R:3")
        }
        if let numbersIndex {
            let z = columns[numbersIndex]
            guard z.type == .integer, z.width == 1 else {
                throw LineProblem(kind: .badProperties, detail: "'\(z.specText)' must be \(z.name):I:1")
            }
        } else if let speciesIndex {
            let s = columns[speciesIndex]
            guard s.width == 1, s.type == .string || s.type == .integer else {
                throw LineProblem(kind: .badProperties, detail: "'\(s.specText)' must be \(s.name):S:1")
            }
        } else {
            throw LineProblem(kind: .badProperties, detail: "no 'species' or 'Z' column")
        }
    }

    private func isRoleColumn(_ index: Int) -> Bool {
        index == speciesIndex || index == numbersIndex || index == positionIndex
    }

    mutating func parse(_ line: Substring) throws(LineProblem) {
        let tokens = ExtXYZScalars.words(line)
        guard tokens.count == totalWidth else {
            throw LineProblem(
                kind: .wrongColumnCount,
                detail: "expected \(totalWidth) columns (\(columns.map(\.specText).joined(separator: ":"))), found \(tokens.count)")
        }
        var offset = 0
        for (index, column) in columns.enumerated() {
            let fields = tokens[offset..<offset + column.width]
            offset += column.width
            if index == positionIndex {
                let xyz = try fields.map { (f: Substring) throws(LineProblem) in try Self.real(f, column) }
                positions.append(SIMD3(xyz[0], xyz[1], xyz[2]))
            } else if index == numbersIndex {
                numbers.append(try Self.atomicNumber(fields.first!, column))
            } else if index == speciesIndex {
                if numbersIndex != nil { continue }
                let token = fields.first!
                guard let z = Elements.atomicNumber(for: token) else {
                    throw LineProblem(kind: .unknownElement, detail: "'\(token)' is not an element symbol")
                }
                numbers.append(z)
            } else {
                try append(fields, to: index)
            }
        }
    }

    private mutating func append(_ fields: ArraySlice<Substring>, to index: Int) throws(LineProblem) {
        let column = columns[index]
        for field in fields {
            switch column.type {
            case .real:
                buffers[index].reals.append(try Self.real(field, column))
            case .integer:
                guard let v = ExtXYZScalars.int(field) else {
                    throw LineProblem(
                        kind: .badNumber, detail: "column '\(column.name)' expects an integer, found '\(field)'")
                }
                buffers[index].ints.append(v)
            case .logical:
                guard let v = ExtXYZScalars.bool(field) else {
                    throw LineProblem(
                        kind: .badNumber, detail: "column '\(column.name)' expects T or F, found '\(field)'")
                }
                buffers[index].bools.append(v)
            case .string:
                buffers[index].strings.append(String(field))
            }
        }
    }

    private static func real(_ field: Substring, _ column: ExtXYZColumnSpec) throws(LineProblem) -> Double {
        guard let v = ExtXYZScalars.double(field) else {
            throw LineProblem(
                kind: .badNumber, detail: "column '\(column.name)' expects a real number, found '\(field)'")
        }
        return v
    }

    private static func atomicNumber(_ field: Substring, _ column: ExtXYZColumnSpec) throws(LineProblem) -> Int {
        guard let z = ExtXYZScalars.int(field) else {
            throw LineProblem(
                kind: .badNumber, detail: "column '\(column.name)' expects an atomic number, found '\(field)'")
        }
        guard (0...Elements.maxAtomicNumber).contains(z) else {
            throw LineProblem(kind: .unknownElement, detail: "atomic number \(z) is outside 0...118")
        }
        return z
    }

    /// The non-role columns, rows split back out of the flat buffers, in file order.
    func extraColumns() -> [AtomColumn] {
        columns.indices.compactMap { index -> AtomColumn? in
            if isRoleColumn(index) { return nil }
            let column = columns[index]
            let buffer = buffers[index]
            let values: AtomColumn.Values
            switch column.type {
            case .real: values = .real(Self.rows(buffer.reals, column.width))
            case .integer: values = .int(Self.rows(buffer.ints, column.width))
            case .string: values = .string(Self.rows(buffer.strings, column.width))
            case .logical: values = .bool(Self.rows(buffer.bools, column.width))
            }
            return AtomColumn(name: column.name, width: column.width, values: values)
        }
    }

    private static func rows<T>(_ flat: [T], _ width: Int) -> [[T]] {
        stride(from: 0, to: flat.count, by: width).map { Array(flat[$0..<$0 + width]) }
    }
}
