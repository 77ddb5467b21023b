import Foundation

/// How the reciprocal-space sum of Ewald is evaluated.
public enum ReciprocalMethod: Sendable, Equatable {
    /// The exact half-space k-sum lorem-jax uses (docs/MATH.md §8.2).
    case exact
    /// Smooth particle-mesh Ewald: B-spline spreading, FFT convolution, gathering (§9).
    case pme(PMEParameters)
}

/// Accuracy knobs of PME: B-spline order and the largest mesh spacing along each cell vector.
public struct PMEParameters: Sendable, Equatable {
    /// Order p of the cardinal B-spline (even: odd orders have a zero in the deconvolution).
    public var order: Int
    /// Largest mesh spacing in Å; nil means λ = cutoff/8, the exact k-sum's own wavelength.
    public var spacing: Double?

    /// The defaults, order 8 at spacing λ, were chosen by measurement against exact Ewald with
    /// the shipped model on a rattled 512-atom NaCl cell in float64 (|ΔE|/N, force RMS):
    /// p6 λ/2 3.5e-9 eV, 6.8e-7 eV/Å; p6 λ 3.3e-8, 4.2e-6; p8 λ 2.1e-9, 4.8e-7; p8 1.5λ 2.2e-6,
    /// 5.8e-4; p4 λ 2.8e-7, 1.1e-4. p8 λ is 200× inside the 1e-4 eV/Å target, below float32
    /// rounding of the rest of the model, and its mesh has 8× fewer points than λ/2, which is
    /// what memory at 100k atoms needs (Benchmarks/README.md).
    public init(order: Int = 8, spacing: Double? = nil) {
        self.order = order
        self.spacing = spacing
    }
}

/// The reference smooth PME for one geometry (Essmann et al., in jax-pme's conventions of
/// docs/MATH.md §9): V_i^k = ½ (1/V) Σ_g w_i(g) φ(g) with φ = Q ⊛ (G·B), where w_i are the
/// atom's B-spline weights on the mesh, G(k) = 4π e^{−σ²k²/2}/k² is the full-space Ewald kernel
/// (no half-space factor 2) and B(m) = Π_A |b_A(m_A)|² undoes the spline smoothing.
package struct PMEMesh: Sendable {
    let size: SIMD3<Int>
    let order: Int
    /// Per atom and axis: first mesh index, weights and d(weight)/du.
    let stencils: [[(base: Int, weights: [Double], derivatives: [Double])]]
    /// ∂u_A/∂R = n_A · (column A of h⁻¹).
    let meshGradient: [SIMD3<Double>]
    /// b_A = 2π · column A of h⁻¹: k_m = Σ_A m_A b_A.
    let reciprocalBasis: [SIMD3<Double>]
    /// |b_A(m)|² per axis and mesh index (the B-spline deconvolution).
    let moduli: [[Double]]
    let smearing: Double
    let volume: Double

    var count: Int { size.x * size.y * size.z }

    init(positions: [SIMD3<Double>], cell: [SIMD3<Double>], inverseColumns: [SIMD3<Double>], volume: Double,
         smearing: Double, wavelength: Double, parameters: PMEParameters) throws {
        guard parameters.order >= 4, parameters.order % 2 == 0, parameters.order <= 12 else {
            throw EwaldError("PME spline order must be even and within 4…12, got \(parameters.order)")
        }
        let spacing = parameters.spacing ?? wavelength
        guard spacing > 0, spacing.isFinite else { throw EwaldError("PME mesh spacing must be positive, got \(spacing)") }
        order = parameters.order
        self.smearing = smearing
        self.volume = volume
        // A mesh beyond a few hundred million points would not fit in memory (found by fuzzing a
        // cell vector of 5.6e9 Å); refused before any Int conversion can trap.
        let points = (0..<3).map { a in (norm(cell[a]) / spacing).rounded(.up) }
        guard points.allSatisfy({ $0.isFinite && $0 <= 100_000 }), points.reduce(1, *) <= 200_000_000 else {
            throw EwaldError("the cell needs a PME mesh of \(points.map { Int(min($0, 1e15)) }) points (at most 100,000 per axis "
                + "and 2e8 in all): check the cell, or use a larger --pme-spacing")
        }
        size = SIMD3((0..<3).map { a in PMEMesh.fftFriendly(max(Int(points[a]), 2 * parameters.order)) })
        let n = size
        meshGradient = (0..<3).map { Double(n[$0]) * inverseColumns[$0] }
        stencils = positions.map { r in
            (0..<3).map { a in BSpline.stencil(parameters.order, Double(n[a]) * dot(r, inverseColumns[a])) }
        }
        reciprocalBasis = inverseColumns.map { 2 * Double.pi * $0 }
        moduli = (0..<3).map { PMEMesh.splineModuli(order: parameters.order, size: n[$0]) }
    }

    /// k_m for the mesh point (g0, g1, g2) (frequencies in fftfreq order).
    func kVector(_ g0: Int, _ g1: Int, _ g2: Int) -> SIMD3<Double> {
        let m = SIMD3(PMEMesh.frequency(g0, size.x), PMEMesh.frequency(g1, size.y), PMEMesh.frequency(g2, size.z))
        return Double(m.x) * reciprocalBasis[0] + Double(m.y) * reciprocalBasis[1] + Double(m.z) * reciprocalBasis[2]
    }

    /// G(k_m)·B(m)/V on the full mesh (C order), 0 at m = 0. Recomputed per call (O(mesh),
    /// far below the FFTs) so that a mesh costs no more memory than its charges.
    func influence() -> [Double] {
        let n = size, sigma2 = smearing * smearing
        var out = [Double](repeating: 0, count: count)
        for g0 in 0..<n.x {
            for g1 in 0..<n.y {
                for g2 in 0..<n.z {
                    let k = kVector(g0, g1, g2), k2 = dot(k, k)
                    guard k2 > 0 else { continue }
                    out[(g0 * n.y + g1) * n.z + g2] = 4 * Double.pi * exp(-0.5 * sigma2 * k2) / k2
                        * moduli[0][g0] * moduli[1][g1] * moduli[2][g2] / volume
                }
            }
        }
        return out
    }

    /// fftfreq ordering: 0, 1, …, ⌈n/2⌉−1, −⌊n/2⌋, …, −1.
    static func frequency(_ g: Int, _ n: Int) -> Int { g < (n + 1) / 2 ? g : g - n }

    /// The smallest n' ≥ n whose prime factors are 2, 3, 5 and 7 (what FFT libraries like).
    static func fftFriendly(_ n: Int) -> Int {
        var m = max(n, 1)
        while true {
            var r = m
            for p in [2, 3, 5, 7] { while r % p == 0 { r /= p } }
            if r == 1 { return m }
            m += 1
        }
    }

    /// |b(m)|² = 1 / |Σ_{j=0}^{p−2} M_p(j+1) e^{2πi mj/n}|² for every mesh index m.
    static func splineModuli(order p: Int, size n: Int) -> [Double] {
        (0..<n).map { m in
            var re = 0.0, im = 0.0
            for j in 0..<(p - 1) {
                let w = BSpline.value(p, Double(j + 1)), t = 2 * Double.pi * Double(m * j) / Double(n)
                re += w * cos(t)
                im += w * sin(t)
            }
            return 1 / (re * re + im * im)
        }
    }

    /// Visits the p³ mesh points of atom i with their weight.
    func forEachPoint(of i: Int, _ body: (_ index: Int, _ weight: Double, _ gradient: SIMD3<Double>) -> Void) {
        let s = stencils[i], n = size
        for j0 in 0..<order {
            let g0 = ((s[0].base - j0) % n.x + n.x) % n.x
            for j1 in 0..<order {
                let g1 = ((s[1].base - j1) % n.y + n.y) % n.y
                for j2 in 0..<order {
                    let g2 = ((s[2].base - j2) % n.z + n.z) % n.z
                    let (w0, w1, w2) = (s[0].weights[j0], s[1].weights[j1], s[2].weights[j2])
                    let du = SIMD3(s[0].derivatives[j0] * w1 * w2, w0 * s[1].derivatives[j1] * w2, w0 * w1 * s[2].derivatives[j2])
                    body((g0 * n.y + g1) * n.z + g2, w0 * w1 * w2,
                         du.x * meshGradient[0] + du.y * meshGradient[1] + du.z * meshGradient[2])
                }
            }
        }
    }

    /// Q(g) = Σ_i q_i w_i(g).
    func spread(_ q: [Double]) -> [Double] {
        var mesh = [Double](repeating: 0, count: count)
        for i in q.indices where q[i] != 0 { forEachPoint(of: i) { g, w, _ in mesh[g] += q[i] * w } }
        return mesh
    }

    /// F(m) = Σ_g Q(g) e^{+2πi m·g/n}.
    func structureFactor(_ mesh: [Double]) -> [ComplexDouble] {
        var a = mesh.map { ComplexDouble(re: $0, im: 0) }
        FFT.transform3D(&a, size, sign: 1)
        return a
    }

    /// φ(g) = Σ_m G·B/V (m) F(m) e^{−2πi m·g/n}: the mesh potential (real by symmetry).
    func potentialMesh(_ f: [ComplexDouble], _ influence: [Double]) -> [Double] {
        var a = zip(influence, f).map { $0.0 * $0.1 }
        FFT.transform3D(&a, size, sign: -1)
        return a.map(\.re)
    }

    /// V_i^k = ½ Σ_g w_i(g) φ(g) per channel.
    package func potentials(_ q: [[Double]]) -> [[Double]] {
        let kernel = influence()
        return q.map { channel in
            let phi = potentialMesh(structureFactor(spread(channel)), kernel)
            return channel.indices.map { i in
                var v = 0.0
                forEachPoint(of: i) { g, w, _ in v += w * phi[g] }
                return 0.5 * v
            }
        }
    }

    /// Gradient and virial of B_k = ½ Σ_g Q^V̄(g) φ^q(g) (§10.2 G6 with the mesh structure
    /// factors): ∂B/∂R_i = ½[V̄_i ∇w_i·φ^q + q_i ∇w_i·φ^V̄]; fractional mesh coordinates are
    /// strain invariant, so W = Σ_m ½(G·B/V) P_m 2(σ²/2 + 1/k²) k⊗k − B_k I, P_m = Re F^V̄ F^q*.
    package func addGradient(_ q: [[Double]], _ vbar: [[Double]], _ grad: inout [SIMD3<Double>], _ virial: inout [SIMD3<Double>]) {
        let sigma2 = smearing * smearing, kernel = influence()
        var energy = 0.0
        for ch in q.indices {
            let fq = structureFactor(spread(q[ch])), fv = structureFactor(spread(vbar[ch]))
            let phiQ = potentialMesh(fq, kernel), phiV = potentialMesh(fv, kernel)
            for i in q[ch].indices {
                var gq = SIMD3<Double>.zero, gv = SIMD3<Double>.zero
                forEachPoint(of: i) { g, _, dw in
                    gq += phiQ[g] * dw
                    gv += phiV[g] * dw
                }
                grad[i] += 0.5 * (vbar[ch][i] * gq + q[ch][i] * gv)
            }
            for m in 0..<count where kernel[m] != 0 {
                let p = 0.5 * kernel[m] * (fv[m].re * fq[m].re + fv[m].im * fq[m].im)
                energy += p
                let k = kVector(m / (size.y * size.z), (m / size.z) % size.y, m % size.z)
                let strain = p * 2 * (0.5 * sigma2 + 1 / dot(k, k))
                for a in 0..<3 { virial[a] += (strain * k[a]) * k }
            }
        }
        for a in 0..<3 { virial[a][a] -= energy }
    }
}
