import Foundation

/// One nonzero coupling coefficient C[a,b,c] of e3x's real Clebsch–Gordan tensor, with the
/// degrees of its three slots (the `Tensor` weights are per (l1,l2,l3) path).
public struct CouplingEntry: Sendable, Equatable {
    public let a: Int, b: Int, c: Int
    public let l1: Int, l2: Int, l3: Int
    public let value: Double
}

/// Sparse table of the parity-even Clebsch–Gordan coefficients that `e3x.nn.Tensor` with
/// `include_pseudotensors=False` uses (docs/MATH.md §4.1–4.2): only paths with l1+l2+l3 even
/// and |l1−l2| ≤ l3 ≤ l1+l2 survive, so only those are stored.
///
/// Built from the Gaunt-integral recipe of §4.1, C = (2l3+1)/|⟨l1 0 l2 0|l3 0⟩| · (1/4π)∫Y_aY_bY_c,
/// evaluated exactly by Gauss–Legendre quadrature in z times a uniform grid in φ.
public struct CouplingTable: Sendable {
    public let maxDegree1: Int, maxDegree2: Int, maxDegree3: Int
    public let entries: [CouplingEntry]

    public init(maxDegree1 L1: Int, maxDegree2 L2: Int, maxDegree3 L3: Int) {
        maxDegree1 = L1
        maxDegree2 = L2
        maxDegree3 = L3
        entries = CouplingTable.build(L1, L2, L3)
    }

    /// Whether (l1, l2, l3) is a path that survives the parity mask and the triangle rule.
    public static func isPath(_ l1: Int, _ l2: Int, _ l3: Int) -> Bool {
        (l1 + l2 + l3) % 2 == 0 && abs(l1 - l2) <= l3 && l3 <= l1 + l2
    }

    private static func build(_ L1: Int, _ L2: Int, _ L3: Int) -> [CouplingEntry] {
        let Lmax = max(L1, L2, L3)
        let nz = (3 * Lmax) / 2 + 2
        let nphi = 3 * Lmax + 2
        let sh = SphericalHarmonics(maxDegree: Lmax)
        let (nodes, weights) = gaussLegendre(nz)
        // Y at every quadrature point, with the quadrature weight / 4π folded into `w`.
        var points: [(y: [Double], w: Double)] = []
        for (zi, wz) in zip(nodes, weights) {
            let rho = (1 - zi * zi).squareRoot()
            for k in 0..<nphi {
                let phi = 2 * Double.pi * Double(k) / Double(nphi)
                let u = SIMD3(rho * cos(phi), rho * sin(phi), zi)
                points.append((sh.values(u), wz * (2 * Double.pi / Double(nphi)) / (4 * Double.pi)))
            }
        }
        let deg1 = SphericalLayout.degrees(maxDegree: L1)
        let deg2 = SphericalLayout.degrees(maxDegree: L2)
        let deg3 = SphericalLayout.degrees(maxDegree: L3)
        var out: [CouplingEntry] = []
        for a in deg1.indices {
            for b in deg2.indices {
                for c in deg3.indices {
                    let (l1, l2, l3) = (deg1[a], deg2[b], deg3[c])
                    guard isPath(l1, l2, l3) else { continue }
                    var integral = 0.0
                    for p in points { integral += p.w * p.y[a] * p.y[b] * p.y[c] }
                    let v = Double(2 * l3 + 1) / abs(parityEvenCG(l1, l2, l3)) * integral
                    if abs(v) > 1e-13 {
                        out.append(CouplingEntry(a: a, b: b, c: c, l1: l1, l2: l2, l3: l3, value: v))
                    }
                }
            }
        }
        return out
    }

    /// ⟨l1 0 l2 0 | l3 0⟩ for l1+l2+l3 even, in closed form (docs/MATH.md §4.1).
    static func parityEvenCG(_ l1: Int, _ l2: Int, _ l3: Int) -> Double {
        let J = l1 + l2 + l3, g = J / 2
        func f(_ n: Int) -> Double { n <= 1 ? 1 : (2...n).reduce(1.0) { $0 * Double($1) } }
        let sign: Double = (g - l3) % 2 == 0 ? 1 : -1
        let root = (f(J - 2 * l1) * f(J - 2 * l2) * f(J - 2 * l3) / f(J + 1)).squareRoot()
        return sign * Double(2 * l3 + 1).squareRoot() * root * f(g) / (f(g - l1) * f(g - l2) * f(g - l3))
    }

    /// Gauss–Legendre nodes and weights on [−1, 1] (Newton iteration on P_n).
    static func gaussLegendre(_ n: Int) -> ([Double], [Double]) {
        var x = [Double](repeating: 0, count: n), w = x
        for i in 0..<n {
            var t = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var dp = 0.0
            for _ in 0..<100 {
                var p0 = 1.0, p1 = t
                for k in stride(from: 2, through: n, by: 1) {
                    let p2 = (Double(2 * k - 1) * t * p1 - Double(k - 1) * p0) / Double(k)
                    p0 = p1
                    p1 = p2
                }
                dp = Double(n) * (t * p1 - p0) / (t * t - 1)
                let dt = p1 / dp
                t -= dt
                if abs(dt) < 1e-16 { break }
            }
            x[i] = t
            w[i] = 2 / ((1 - t * t) * dp * dp)
        }
        return (x, w)
    }
}
