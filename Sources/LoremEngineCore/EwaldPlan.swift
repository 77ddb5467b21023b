/// Read-only view of the geometry-only setup of `EwaldSummation`, for device engines that upload
/// it and evaluate the O(N·N_k) and O(P) sums themselves (LoremCL's `EwaldGeometry`).
///
/// Why a view and not a second implementation: λ, σ, the float32-built k-grid integers, the
/// half-space order, G(k) and the 2D shrink (docs/MATH.md §8.1, §8.2) are preprocessing with
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

/// Read-only view of a PME mesh set-up (docs/MATH.md §9) for device engines, which spread,
/// transform and gather on the device but take the mesh size, every atom's B-spline stencil and
/// the deconvolution moduli from here, so that both engines use the same mesh and weights.
public struct PMEMeshView: Sendable {
    /// Mesh points n_A along each cell vector (products of 2, 3, 5, 7).
    public let size: SIMD3<Int>
    /// B-spline order p.
    public let order: Int
    /// Per atom: the first mesh index of its stencil on each axis, wrapped into 0..<n_A; the
    /// atom touches the points (base_A − j) mod n_A, j = 0…p−1.
    public let bases: [SIMD3<Int>]
    /// [N, 3, p]: M_p weights of those points, and [N, 3, p] their derivatives d/du_A.
    public let weights: [Double]
    public let derivatives: [Double]
    /// ∂u_A/∂R = n_A · (column A of h⁻¹), A = 0, 1, 2.
    public let meshGradient: [SIMD3<Double>]
    /// b_A = 2π · column A of h⁻¹; k_m = Σ_A m_A b_A with m_A in fftfreq order.
    public let reciprocalBasis: [SIMD3<Double>]
    /// |b_A(m)|² per axis (n_A values each): the B-spline deconvolution factors.
    public let moduli: [[Double]]
}

extension EwaldSummation {
    /// The PME mesh of a summation built with `reciprocal: .pme`, nil otherwise.
    public var pmeMesh: PMEMeshView? {
        guard let pme else { return nil }
        let n = pme.size
        var bases: [SIMD3<Int>] = [], weights: [Double] = [], derivatives: [Double] = []
        bases.reserveCapacity(pme.stencils.count)
        weights.reserveCapacity(3 * pme.order * pme.stencils.count)
        derivatives.reserveCapacity(weights.capacity)
        for atom in pme.stencils {
            bases.append(SIMD3((0..<3).map { a in ((atom[a].base % n[a]) + n[a]) % n[a] }))
            for axis in atom {
                weights += axis.weights
                derivatives += axis.derivatives
            }
        }
        return PMEMeshView(size: n, order: pme.order, bases: bases, weights: weights, derivatives: derivatives,
                           meshGradient: pme.meshGradient, reciprocalBasis: pme.reciprocalBasis, moduli: pme.moduli)
    }
}
