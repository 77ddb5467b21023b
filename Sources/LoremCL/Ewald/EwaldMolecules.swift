/// The non-periodic structures of a batch, for the direct Coulomb sum of docs/MATH.md §8.3
/// (V_i = ½ Σ_{j≠i} q_j / r_ij within each structure) evaluated for all of them in one launch.
///
/// Why: a molecule needs no Ewald set-up at all (no k-grid, no pair list, no cell), so one
/// `EwaldGeometry` per molecule, with its own uploads, slices and launches, is pure overhead;
/// for a file of many small molecules that overhead was most of the long range. Here the batch
/// keeps its row layout: the kernels read the batch's positions [N, 3] and charges [N, C] and
/// write only the rows of the listed atoms, each of which sums over the rows of its own
/// structure. Periodic structures of the same batch fill their rows with their own geometry.
///
/// Uploaded per batch: two Int32 per molecule atom (its row, and its structure's row range).
public final class EwaldMolecules<T: CLReal> {
    /// Rows of the batch (N), molecule or not.
    public let atomCount: Int
    /// The molecules' row ranges, in increasing order.
    public let structures: [Range<Int>]
    /// Atoms in all molecules (the launch size).
    public let moleculeAtoms: Int

    let positions: CLBuffer<T>
    /// [moleculeAtoms]: the batch row of each molecule atom, in increasing order.
    let atoms: CLBuffer<Int32>
    /// [moleculeAtoms, 2]: the [start, end) rows of that atom's structure.
    let ranges: CLBuffer<Int32>

    /// `positions` [atomCount, 3] are the batch's (shared, not copied); `structures` are the
    /// row ranges of its non-periodic structures: disjoint, increasing, inside 0..<atomCount.
    public init(context: CLContext, positions: CLBuffer<T>, atomCount: Int, structures: [Range<Int>]) throws {
        try positions.require(atomCount, 3, "EwaldMolecules positions")
        var end = 0
        for r in structures {
            guard r.lowerBound >= end, r.upperBound <= atomCount else {
                throw CLError.sizeMismatch(
                    "EwaldMolecules: structure rows \(r) overlap an earlier one or leave 0..<\(atomCount)")
            }
            end = r.upperBound
        }
        self.atomCount = atomCount
        self.structures = structures
        self.positions = positions
        var rows: [Int32] = [], bounds: [Int32] = []
        for r in structures {
            for i in r {
                rows.append(Int32(i))
                bounds += [Int32(r.lowerBound), Int32(r.upperBound)]
            }
        }
        moleculeAtoms = rows.count
        atoms = try CLBuffer(context, rows)
        ranges = try CLBuffer(context, bounds)
    }
}

/// The explicit geometric gradient of B = Σ_ch Σ_i V̄_i V_i(q) for the molecules of a batch.
public struct EwaldMoleculeGradient<T: CLReal> {
    /// ∂B/∂R [N, 3]: the molecules' rows; every other row is 0.
    public let positions: CLBuffer<T>
    /// One virial per structure of `EwaldMolecules.structures`: Σ_i R_i ⊗ ∂B/∂R_i (§10.1 without
    /// a cell), row-major 3×3, in float64.
    public let virials: [[[Double]]]
}

extension EwaldKernels {
    /// V [N, C] rows of the molecules for charges q [N, C] (§8.3); other rows of `v` are left as
    /// they are. One work-item per molecule atom, j in increasing order within its structure.
    public func potentials(_ q: CLBuffer<T>, _ molecules: EwaldMolecules<T>, into v: CLBuffer<T>) throws {
        try q.require(molecules.atomCount, channels, "Ewald charges")
        try v.require(molecules.atomCount, channels, "Ewald potentials")
        let m = molecules.moleculeAtoms
        guard m > 0 else { return }
        let shape = directLaunch(m)
        try direct.launch(global: shape.global, local: shape.local, molecules.positions, q, molecules.atoms, molecules.ranges,
                          Int32(m), v)
    }

    /// q̄ = A·V̄ on the molecules' rows: the same operator as `potentials` (§10.2 G5).
    public func chargeCotangent(_ vbar: CLBuffer<T>, _ molecules: EwaldMolecules<T>, into qbar: CLBuffer<T>) throws {
        try potentials(vbar, molecules, into: qbar)
    }

    /// ∂B/∂R and one virial per molecule (§10.2 G3), mirroring `EwaldSummation.geometryGradient`.
    ///
    /// The device writes each molecule atom's gradient and its share of the virial (half of
    /// d⊗ḡ of each of its pairs); the host adds a structure's shares in float64 in increasing
    /// row order: a fixed order (reruns are bit-identical) that needs no float atomics, and the
    /// rows are downloaded once for the whole batch.
    public func geometryGradient(charges q: CLBuffer<T>, cotangent vbar: CLBuffer<T>, _ molecules: EwaldMolecules<T>)
        throws -> EwaldMoleculeGradient<T>
    {
        let n = molecules.atomCount, m = molecules.moleculeAtoms
        try q.require(n, channels, "Ewald gradient charges")
        try vbar.require(n, channels, "Ewald gradient cotangent")
        let grad = try CLBuffer<T>(context, count: 3 * n, filledWith: 0)
        let atomVirial = try CLBuffer<T>(context, count: 9 * n)
        guard m > 0 else {
            return EwaldMoleculeGradient(positions: grad, virials: molecules.structures.map { _ in Self.matrix([Double](repeating: 0, count: 9)) })
        }
        let shape = directLaunch(m)
        try directGradient.launch(global: shape.global, local: shape.local, molecules.positions, q, vbar, molecules.atoms,
                                  molecules.ranges, Int32(m), grad, atomVirial)
        let rows = try atomVirial.download()
        let virials = molecules.structures.map { r in
            var w = [Double](repeating: 0, count: 9)
            for i in r { for e in 0..<9 { w[e] += Double(rows[9 * i + e]) } }
            return Self.matrix(w)
        }
        return EwaldMoleculeGradient(positions: grad, virials: virials)
    }
}
