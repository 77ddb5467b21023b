/// One atomic structure (one extxyz frame): what every engine consumes.
///
/// Conventions follow ASE: `cell` holds the three lattice vectors as rows (h_A in
/// docs/MATH.md §0), `pbc` flags each of those vectors as periodic, positions are in Å.
/// Everything the model does not use (extra per-atom columns, per-frame info) is kept
/// verbatim so `predict` can write it back unchanged.
public struct Structure: Sendable, Equatable {
    /// Atomic numbers Z_i.
    public var numbers: [Int]
    /// Cartesian positions R_i in Å.
    public var positions: [SIMD3<Double>]
    /// Lattice vectors as rows; all zero for a molecule without a `Lattice=` key.
    public var cell: [SIMD3<Double>]
    /// Periodicity along each lattice vector.
    public var pbc: [Bool]
    /// Per-frame key=value pairs in file order, excluding Lattice, Properties and pbc.
    public var info: [InfoEntry]
    /// Per-atom columns other than species and pos, in file order.
    public var arrays: [AtomColumn]

    public init(
        numbers: [Int], positions: [SIMD3<Double>],
        cell: [SIMD3<Double>] = [.zero, .zero, .zero], pbc: [Bool] = [false, false, false],
        info: [InfoEntry] = [], arrays: [AtomColumn] = []
    ) {
        self.numbers = numbers
        self.positions = positions
        self.cell = cell
        self.pbc = pbc
        self.info = info
        self.arrays = arrays
    }

    public var count: Int { numbers.count }

    /// Number of periodic directions (0 molecule, 2 slab, 3 bulk).
    public var periodicDimensions: Int { pbc.filter { $0 }.count }
}

/// A per-frame info value, kept in the textual form it had in the file plus a typed view.
public struct InfoEntry: Sendable, Equatable {
    public var key: String
    public var value: InfoValue
    public init(key: String, value: InfoValue) {
        self.key = key
        self.value = value
    }
}

public enum InfoValue: Sendable, Equatable {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    /// A whitespace-separated list of numbers (e.g. ASE's 3x3 `stress` or 6-component Voigt).
    case doubles([Double])
    case ints([Int])

    public var asDouble: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }
}

/// A per-atom column of the `Properties=` spec (ASE types: R real, I integer, S string, L logical).
public struct AtomColumn: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case real([[Double]])
        case int([[Int]])
        case string([[String]])
        case bool([[Bool]])
    }
    public var name: String
    /// Number of sub-columns (e.g. 3 for forces).
    public var width: Int
    public var values: Values
    public init(name: String, width: Int, values: Values) {
        self.name = name
        self.width = width
        self.values = values
    }
}
