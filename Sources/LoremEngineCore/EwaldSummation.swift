import Foundation

/// Errors for geometries the Ewald solver cannot handle.
public struct EwaldError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ message: String) { description = message }
}

/// Exact Ewald summation as lorem-jax calls jax-pme (`batched_mixed.Ewald(exponent=1,
/// prefactor=1, halfspace=True)`), in float64 (docs/MATH.md §8).
///
/// The operator is linear in the charges, V = A(R, h)·q with A symmetric, and includes jax-pme's
/// factor ½ (E = Σ_i q_i V_i). Everything that depends only on geometry (pair distances, the
/// k-vectors and their kernel, the slab frame) is computed once here, so evaluating many charge
/// channels or cotangents is cheap; memory stays linear in atoms + pairs + k-vectors.
public struct EwaldSummation: Sendable {
    public enum Periodicity: Sendable, Equatable {
        /// pbc all false: direct ½ Σ_{j≠i} q_j / r_ij, no cutoff (§8.3).
        case molecule
        /// Two periodic axes; `nonPeriodicAxis` is κ of §8.2 (any of the three rows).
        case slab(nonPeriodicAxis: Int)
        /// Three periodic axes.
        case bulk
    }

    public let periodicity: Periodicity
    /// λ = cutoff/8 (§8.1).
    public let wavelength: Double
    /// σ = 2λ (§8.1); unused for molecules.
    public let smearing: Double
    /// The cell actually used: the input cell, or for slabs the shrunk cell (§8.2), which is the
    /// cell the virial refers to. For molecules the input cell is kept verbatim (unused).
    public let cell: [SIMD3<Double>]
    /// ns_A of the k-grid (zero for molecules).
    public let kGridSize: SIMD3<Int>
    /// V = |det h| of `cell` (zero for molecules).
    public let volume: Double
    /// |K⁺|.
    public var kVectorCount: Int { kVectors.count }

    package let positions: [SIMD3<Double>]
    package let slab: EwaldSlab?
    package let pairCenters: [Int]
    package let pairOthers: [Int]
    /// R_p with the effective cell.
    package let pairVectors: [SIMD3<Double>]
    package let kVectors: [SIMD3<Double>]
    /// G(k) = 2·4π exp(−σ²k²/2)/k², the factor 2 being the half-space weight.
    package let kernel: [Double]
    /// Set when the reciprocal sum is evaluated by PME instead of the exact k-sum.
    package let pme: PMEMesh?

    /// Precomputes λ = cutoff/8, σ = 2λ, the (possibly 2D-shrunk) cell, the half-space k-grid,
    /// |det h|, etc. from the structure's geometry (docs/MATH.md §8.1, §8.2), or the bare 1/r
    /// case for molecules (§8.3). `pairs` is the model's neighbor list at r < cutoff (same list
    /// as the short-range model; real space is evaluated on it).
    /// `reciprocal` chooses the exact half-space k-sum (lorem-jax's definition) or PME; the
    /// real-space, self, background and slab terms are identical for both.
    public init(
        positions: [SIMD3<Double>], cell: [SIMD3<Double>], pbc: [Bool], cutoff: Double, pairs: PairList,
        reciprocal: ReciprocalMethod = .exact
    ) throws {
        try self.init(positions: positions, cell: cell, pbc: pbc, cutoff: cutoff, pairs: pairs,
                      fixedGrid: nil, shrinkSlab: true, reciprocal: reciprocal)
    }

    /// As the public initializer, with two switches used to differentiate at frozen
    /// preprocessing: `fixedGrid` keeps ns (as `LOREMCalculator._update_geometry` does) and
    /// `shrinkSlab: false` takes `cell` as the already-shrunk cell.
    init(
        positions: [SIMD3<Double>], cell: [SIMD3<Double>], pbc: [Bool], cutoff: Double, pairs: PairList,
        fixedGrid: SIMD3<Int>?, shrinkSlab: Bool, reciprocal: ReciprocalMethod = .exact
    ) throws {
        guard cell.count == 3, pbc.count == 3 else { throw EwaldError("cell needs 3 rows and pbc 3 flags") }
        guard cutoff > 0, cutoff.isFinite else { throw EwaldError("cutoff must be positive, got \(cutoff)") }
        let n = positions.count
        for p in 0..<pairs.count where !(0..<n).contains(pairs.centers[p]) || !(0..<n).contains(pairs.others[p]) {
            throw EwaldError("pair \(p) refers to an atom outside 0..<\(n)")
        }
        self.positions = positions
        wavelength = cutoff / 8
        smearing = 2 * wavelength
        let periodicAxes = (0..<3).filter { pbc[$0] }
        switch periodicAxes.count {
        case 0:
            periodicity = .molecule
            self.cell = cell
            kGridSize = .zero
            volume = 0
            slab = nil
            pairCenters = []
            pairOthers = []
            pairVectors = []
            kVectors = []
            kernel = []
            pme = nil
            return
        case 2:
            let axis = (0..<3).first { !pbc[$0] }!
            periodicity = .slab(nonPeriodicAxis: axis)
            guard norm(cross(cell[(axis + 1) % 3], cell[(axis + 2) % 3])) > 0 else {
                throw EwaldError("the periodic cell vectors of the slab are zero or parallel")
            }
            let h = shrinkSlab ? EwaldSlab.shrunkCell(axis: axis, cell: cell, positions: positions) : cell
            self.cell = h
            slab = EwaldSlab(axis: axis, cell: h, positions: positions)
        case 3:
            periodicity = .bulk
            self.cell = cell
            slab = nil
        default:
            throw EwaldError("Ewald needs 0, 2 or 3 periodic axes; got pbc \(pbc)")
        }
        let h = Mat3(rows: self.cell)
        volume = abs(h.determinant)
        guard volume > 0, volume.isFinite, let inverse = h.inverseColumns() else {
            throw EwaldError("the cell is degenerate (volume \(volume)); a slab needs a non-zero vacuum vector")
        }
        kGridSize = try fixedGrid ?? (reciprocal == .exact ? EwaldKGrid.sizes(cell: self.cell, wavelength: wavelength) : .zero)
        switch reciprocal {
        case .exact:
            pme = nil
            kVectors = EwaldKGrid.vectors(EwaldKGrid.halfSpace(kGridSize), inverseColumns: inverse)
        case .pme(let parameters):
            pme = try PMEMesh(positions: positions, cell: self.cell, inverseColumns: inverse, volume: volume,
                              smearing: smearing, wavelength: wavelength, parameters: parameters)
            kVectors = []
        }
        let sigma2 = smearing * smearing
        kernel = kVectors.map { k in
            let k2 = dot(k, k)
            return k2 == 0 ? 0 : 2 * 4 * Double.pi * exp(-0.5 * sigma2 * k2) / k2
        }
        pairCenters = pairs.centers
        pairOthers = pairs.others
        pairVectors = pairs.vectors(positions: positions, cell: self.cell)
    }

    /// φ_sr(r) = 1/r − erf(r/(σ√2))/r, 0 at r = 0 (§8.2). Kept in the literal two-term form
    /// (not erfc) to follow lorem-jax's arithmetic.
    package func shortRange(_ r: Double) -> Double {
        r == 0 ? 0 : 1 / r - erf(r / (smearing * 2.0.squareRoot())) / r
    }

    /// φ_sr′(r) = −1/r² − [√(2/π)/σ · e^{−r²/(2σ²)} · r − erf(r/(√2σ))]/r² (§10.2 G2).
    package func shortRangeDerivative(_ r: Double) -> Double {
        guard r != 0 else { return 0 }
        let gauss = (2 / Double.pi).squareRoot() / smearing * exp(-r * r / (2 * smearing * smearing))
        return -1 / (r * r) - (gauss * r - erf(r / (smearing * 2.0.squareRoot()))) / (r * r)
    }
}
