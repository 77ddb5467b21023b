/// Read-only view of the geometry-only setup of `EwaldSummation`, for device engines that upload
/// it and evaluate the O(N·N_k) and O(P) sums themselves (LoremCL's `EwaldGeometry`).
///
/// Why a view and not a second implementation: λ, σ, the float32-built k-grid integers, the
/// half-space order, G(k) and the 2D shrink (LOREM_MATH.md §8.1, §8.2) are preprocessing with
/// subtle conventions; computing them once, here, keeps every engine on the same integers.
extension EwaldSummation {
    /// The positions the sums use (the caller's, verbatim).
    public var atomPositions: [SIMD3<Double>] { positions }

    /// R_p = R_o − R_c + S_p·h of every pair of the list, with the effective (shrunk) cell.
    public var pairVectorList: [SIMD3<Double>] { pairVectors }

    /// Cartesian k of K⁺ in jax-pme's order (empty for molecules and PME).
    public var kVectorList: [SIMD3<Double>] { kVectors }

    /// The integer triple (n1, n2, n3) of each of `kVectorList`, same order: k = Σ_A n_A b_A with
    /// b_A = `reciprocalBasis`[A] (empty for molecules and PME). Lets a device form e^{i k·R} from
    /// per-axis phase tables instead of one sin/cos per (atom, k).
    public var kTripleList: [SIMD3<Int>] {
        pme == nil && periodicity != .molecule ? EwaldKGrid.halfSpace(kGridSize) : []
    }

    /// b_A = 2π × column A of h⁻¹ for the effective cell (`cell`), the basis of `kTripleList`
    /// (b_A·h_B = 2π δ_AB); empty for molecules.
    public var reciprocalBasis: [SIMD3<Double>] {
        guard periodicity != .molecule, let inverse = Mat3(rows: cell).inverseColumns() else { return [] }
        return inverse.map { 2 * Double.pi * $0 }
    }

    /// G(k) = 2·4π exp(−σ²k²/2)/k² for each of `kVectorList` (§8.2, half-space weight included).
    public var kernelValues: [Double] { kernel }

    /// Whether the reciprocal sum is PME's rather than the exact k-sum.
    public var usesPME: Bool { pme != nil }

    /// The 2D frame of §8.2: unit normal n̂ (z_i = R_i·n̂) and H = |h_κ·n̂| of the shrunk cell;
    /// nil for bulk and molecules.
    public var slabFrame: (normal: SIMD3<Double>, height: Double)? {
        slab.map { ($0.normal, $0.height) }
    }
}
