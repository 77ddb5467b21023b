/// Lookup and in-place editing of a structure's info entries and per-atom columns.
///
/// `predict` rewrites input frames with new results; replacing an entry where it stands
/// (instead of appending a duplicate) keeps the output readable by ASE, which would
/// otherwise see the same key twice.
extension Structure {
    /// The value of the info entry `key`, if present.
    public func info(named key: String) -> InfoValue? {
        info.first { $0.key == key }?.value
    }

    /// The per-atom column `name`, if present.
    public func array(named name: String) -> AtomColumn? {
        arrays.first { $0.name == name }
    }

    /// Replaces the entry `key` in place, or appends it when absent.
    public mutating func setInfo(key: String, value: InfoValue) {
        info.setEntry(InfoEntry(key: key, value: value))
    }

    @discardableResult
    public mutating func removeInfo(key: String) -> InfoValue? {
        guard let index = info.firstIndex(where: { $0.key == key }) else { return nil }
        return info.remove(at: index).value
    }

    /// Replaces the column `name` in place, or appends it when absent. The width is the
    /// length of the first row (1 when there are no atoms).
    public mutating func setColumn(name: String, values: AtomColumn.Values) {
        setColumn(AtomColumn(name: name, width: values.rowWidth ?? 1, values: values))
    }

    public mutating func setColumn(_ column: AtomColumn) {
        if let index = arrays.firstIndex(where: { $0.name == column.name }) {
            arrays[index] = column
        } else {
            arrays.append(column)
        }
    }

    @discardableResult
    public mutating func removeColumn(name: String) -> AtomColumn? {
        guard let index = arrays.firstIndex(where: { $0.name == name }) else { return nil }
        return arrays.remove(at: index)
    }

    /// A real-valued column as rows, e.g. reference forces; nil if absent or not real.
    public func realColumn(named name: String) -> [[Double]]? {
        guard case .real(let rows)? = array(named: name)?.values else { return nil }
        return rows
    }

    /// Stores calculator results under the keys ASE's extxyz reader turns into a
    /// SinglePointCalculator: info `energy` (eV), column `forces` (eV/Å, R:3) and info
    /// `stress` (eV/Å³). Nil arguments leave entries untouched.
    ///
    /// `stress` is given in Voigt order `xx yy zz yz xz xy` (or as 9 row-major values) but
    /// stored as the full 3×3 matrix: ASE's extxyz reader insists on 9 values for `stress`
    /// (it raises on 6) and converts them back to Voigt for `get_stress()`.
    ///
    /// `bornEffectiveCharges` (per atom, 9 values row-major, e) go to the column
    /// `born_effective_charges`, which ASE's reader also turns into a calculator result ((N, 9);
    /// reshape to (N, 3, 3)).
    public mutating func setCalculatorResults(
        energy: Double? = nil, forces: [SIMD3<Double>]? = nil, stress: [Double]? = nil,
        bornEffectiveCharges: [[Double]]? = nil
    ) {
        if let energy { setInfo(key: "energy", value: .double(energy)) }
        if let forces { setColumn(name: "forces", values: .real(forces.map { [$0.x, $0.y, $0.z] })) }
        if let bornEffectiveCharges { setColumn(name: "born_effective_charges", values: .real(bornEffectiveCharges)) }
        if let stress {
            precondition(stress.count == 6 || stress.count == 9, "stress must be Voigt-6 or a 3x3 matrix")
            setInfo(key: "stress", value: .doubles(stress.count == 6 ? Self.fullMatrix(voigt: stress) : stress))
        }
    }

    /// The `stress` info entry in Voigt order `xx yy zz yz xz xy`, whether the file stored
    /// 6 values or a 3×3 matrix (ASE writes the latter).
    public var stressVoigt: [Double]? {
        let values: [Double]
        switch info(named: "stress") {
        case .doubles(let v)?: values = v
        case .ints(let v)?: values = v.map(Double.init)
        default: return nil
        }
        switch values.count {
        case 6: return values
        // Symmetric, so row- vs column-major (ASE uses Fortran order) does not matter.
        case 9: return [values[0], values[4], values[8], values[5], values[2], values[1]]
        default: return nil
        }
    }

    /// Symmetric 3×3 matrix (9 values) from Voigt `xx yy zz yz xz xy`.
    static func fullMatrix(voigt v: [Double]) -> [Double] {
        [v[0], v[5], v[4],
         v[5], v[1], v[3],
         v[4], v[3], v[2]]
    }
}

extension AtomColumn.Values {
    /// Number of atoms (rows).
    public var rowCount: Int {
        switch self {
        case .real(let r): return r.count
        case .int(let r): return r.count
        case .string(let r): return r.count
        case .bool(let r): return r.count
        }
    }

    /// Width of the first row, nil without rows.
    var rowWidth: Int? {
        switch self {
        case .real(let r): return r.first?.count
        case .int(let r): return r.first?.count
        case .string(let r): return r.first?.count
        case .bool(let r): return r.first?.count
        }
    }

    /// Every row's length, to check a column against its declared width before writing.
    var rowWidths: [Int] {
        switch self {
        case .real(let r): return r.map(\.count)
        case .int(let r): return r.map(\.count)
        case .string(let r): return r.map(\.count)
        case .bool(let r): return r.map(\.count)
        }
    }
}

extension Array where Element == InfoEntry {
    /// Replace-in-place or append, preserving the order of other entries.
    mutating func setEntry(_ entry: InfoEntry) {
        if let index = firstIndex(where: { $0.key == entry.key }) {
            self[index] = entry
        } else {
            append(entry)
        }
    }
}
