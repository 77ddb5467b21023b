import Foundation

/// The coupling of `PerParticleTensorPredictor`'s last layer (docs/MATH.md §12.2): e3x's
/// `TensorDense(features=1, max_degree=2, include_pseudotensors=True)` of two degree-L' arrays p
/// and q, of which only the even-parity output slot is kept,
///
///     s_c = Σ_{a,b} W[deg a, deg b, deg c] · C[a,b,c] · p_a · q_b,   c = 0…8,
///
/// and the map of s = 0+ ⊕ 1+ ⊕ 2+ to a 3×3 tensor. The even slot receives the paths with
/// deg a + deg b even: for c of degree 0 and 2 the parity-even Clebsch–Gordan blocks the energy
/// model uses (`CouplingTable`), for c of degree 1 the (l, l, 1) blocks C = κ_l·G^c with κ_l =
/// √(3 / (l(l+1)(2l+1))) and G^c the real-basis matrix of the rotation generator (u×∇)_c on
/// degree l, which the energy never needs.
public struct BornChargeCoupling: Sendable {
    public let maxDegree: Int
    /// Nonzero C[a,b,c] with a, b < (L'+1)², c < 9.
    public let entries: [CouplingEntry]

    public init(maxDegree L: Int) {
        maxDegree = L
        let even = CouplingTable(maxDegree1: L, maxDegree2: L, maxDegree3: 2).entries.filter { $0.l3 != 1 }
        entries = (even + Self.generatorBlocks(maxDegree: L)).sorted { ($0.c, $0.a, $0.b) < ($1.c, $1.a, $1.b) }
    }

    /// C[a,b,c] = κ_l·G^c_{ab} for deg a = deg b = l ≥ 1 and c ∈ {x, y, z} (slots 1, 2, 3), with
    /// G^c_{ab} = (2l+1)·(1/4π)∫ Y_a (u×∇)_c Y_b dΩ evaluated exactly by the quadrature that
    /// `CouplingTable` uses (the integrand is a polynomial of degree 2l on the sphere). (u×∇)_c Y_b
    /// = (u × ∇Y_b)_c needs only the tangential gradient, which `SphericalHarmonics` gives exactly.
    static func generatorBlocks(maxDegree L: Int) -> [CouplingEntry] {
        guard L >= 1 else { return [] }
        let sh = SphericalHarmonics(maxDegree: L)
        let (nodes, weights) = CouplingTable.gaussLegendre(L + 2)
        let nphi = 2 * L + 3
        var points: [(y: [Double], rotated: [SIMD3<Double>], w: Double)] = []
        for (z, wz) in zip(nodes, weights) {
            let rho = (1 - z * z).squareRoot()
            for k in 0..<nphi {
                let phi = 2 * Double.pi * Double(k) / Double(nphi)
                let u = SIMD3(rho * cos(phi), rho * sin(phi), z)
                let (y, g) = sh.valuesAndGradients(u)
                let rotated = g.map { SIMD3(u.y * $0.z - u.z * $0.y, u.z * $0.x - u.x * $0.z, u.x * $0.y - u.y * $0.x) }
                points.append((y, rotated, wz / (2 * Double(nphi))))
            }
        }
        var out: [CouplingEntry] = []
        for l in 1...L {
            let kappa = (3 / Double(l * (l + 1) * (2 * l + 1))).squareRoot()
            let slots = (l * l)..<((l + 1) * (l + 1))
            for a in slots {
                for b in slots {
                    var g = SIMD3<Double>.zero
                    for p in points { g += p.w * p.y[a] * p.rotated[b] }
                    for c in 0..<3 {
                        let v = kappa * Double(2 * l + 1) * g[c]
                        if abs(v) > 1e-13 { out.append(CouplingEntry(a: a, b: b, c: 1 + c, l1: l, l2: l, l3: 1, value: v)) }
                    }
                }
            }
        }
        return out
    }

    /// The 3×3 tensor (row-major, rows n = the first Clebsch–Gordan index) of s = (s0, v_x, v_y,
    /// v_z, t1…t5) in slot order, contracted with e3x's clebsch_gordan(1,1,2)[1:,1:,:] (§12.2):
    /// M = s0·I/√3 + ε_nmc v_c/√2 + the symmetric traceless part of t.
    public static func tensor(_ s: [Double]) -> [Double] {
        let r2 = 2.0.squareRoot(), r3 = 3.0.squareRoot(), r6 = 6.0.squareRoot()
        let (s0, vx, vy, vz) = (s[0], s[1], s[2], s[3])
        let (t1, t2, t3, t4, t5) = (s[4], s[5], s[6], s[7], s[8])
        let d = s0 / r3
        return [
            d + t1 / r2 - t5 / r6, vz / r2 + t2 / r2, -vy / r2 + t3 / r2,
            -vz / r2 + t2 / r2, d - t1 / r2 - t5 / r6, vx / r2 + t4 / r2,
            vy / r2 + t3 / r2, -vx / r2 + t4 / r2, d + 2 * t5 / r6,
        ]
    }
}

extension BornChargeCoupling {
    /// The acoustic sum rule of one structure (docs/MATH.md §12.4): every atom's tensor minus the structure's
    /// mean, so the tensors sum to zero.
    public static func acousticSumRule(_ apt: [[Double]]) -> [[Double]] {
        guard !apt.isEmpty else { return apt }
        let mean = (0..<9).map { c in apt.reduce(0.0) { $0 + $1[c] } / Double(apt.count) }
        return apt.map { t in (0..<9).map { t[$0] - mean[$0] } }
    }
}
