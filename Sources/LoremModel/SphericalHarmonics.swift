import Foundation

/// Real spherical harmonics with Racah normalization and no Condon–Shortley phase, in e3x's
/// Cartesian slot order (docs/MATH.md §1). Evaluated by the stable Q_l^m recursion in z and the
/// (x + iy)^m recursion for the azimuthal part.
///
/// The gradient returned is that of this particular extension off the unit sphere. Only its
/// tangential part is meaningful, and that is all the model uses: the pair-vector chain rule
/// ḡ = r̄u + (ū − (ū·u)u)/r (§10.2 G1) projects the radial component away, so any extension
/// that agrees with e3x's homogeneous polynomials on the sphere gives the same forces.
public struct SphericalHarmonics: Sendable {
    public let maxDegree: Int
    /// Q_m^m = sqrt((2m)!) / (2^m m!), and the recursion coefficients, precomputed per (l, m).
    private let diagonal: [Double]

    public init(maxDegree: Int) {
        precondition(maxDegree >= 0)
        self.maxDegree = maxDegree
        var diag = [Double](repeating: 1, count: maxDegree + 1)
        for m in stride(from: 1, through: maxDegree, by: 1) {
            // Q_m^m / Q_{m-1}^{m-1} = sqrt((2m)(2m-1)) / (2m)
            diag[m] = diag[m - 1] * sqrt(Double(2 * m) * Double(2 * m - 1)) / Double(2 * m)
        }
        self.diagonal = diag
    }

    public var count: Int { SphericalLayout.count(maxDegree: maxDegree) }

    /// Y(u) for a unit vector u.
    public func values(_ u: SIMD3<Double>) -> [Double] {
        var y = [Double](repeating: 0, count: count)
        var g = [SIMD3<Double>](repeating: .zero, count: count)
        evaluate(u, values: &y, gradients: &g, withGradient: false)
        return y
    }

    /// Y(u) and ∂Y/∂u (see the type's note on which part of the gradient is meaningful).
    public func valuesAndGradients(_ u: SIMD3<Double>) -> (values: [Double], gradients: [SIMD3<Double>]) {
        var y = [Double](repeating: 0, count: count)
        var g = [SIMD3<Double>](repeating: .zero, count: count)
        evaluate(u, values: &y, gradients: &g, withGradient: true)
        return (y, g)
    }

    private func evaluate(
        _ u: SIMD3<Double>, values y: inout [Double], gradients g: inout [SIMD3<Double>], withGradient: Bool
    ) {
        let L = maxDegree
        let (x, yy, z) = (u.x, u.y, u.z)
        // C_m + i S_m = (x + i y)^m and their x/y derivatives.
        var c = [Double](repeating: 0, count: L + 1)
        var s = [Double](repeating: 0, count: L + 1)
        c[0] = 1
        for m in stride(from: 1, through: L, by: 1) {
            c[m] = x * c[m - 1] - yy * s[m - 1]
            s[m] = x * s[m - 1] + yy * c[m - 1]
        }
        for m in 0...L {
            // Q_l^m(z) and dQ/dz for l = m…L by the three-term recursion.
            var qPrev2 = 0.0, dPrev2 = 0.0
            var qPrev = diagonal[m], dPrev = 0.0
            for l in m...L {
                var q = qPrev, dq = dPrev
                if l > m {
                    let a = Double(2 * l - 1)
                    let b = sqrt(Double((l - 1) * (l - 1) - m * m))  // 0 for l = m+1, where Q_{m−1}^m = 0
                    let n = sqrt(Double(l * l - m * m))
                    q = (a * z * qPrev - b * qPrev2) / n
                    dq = (a * (qPrev + z * dPrev) - b * dPrev2) / n
                    qPrev2 = qPrev; dPrev2 = dPrev
                    qPrev = q; dPrev = dq
                }
                store(l: l, m: m, q: q, dq: dq, c: c, s: s, values: &y, gradients: &g, withGradient: withGradient)
            }
        }
    }

    @inline(__always)
    private func store(
        l: Int, m: Int, q: Double, dq: Double, c: [Double], s: [Double],
        values y: inout [Double], gradients g: inout [SIMD3<Double>], withGradient: Bool
    ) {
        if m == 0 {
            let k = SphericalLayout.index(l: l, m: 0)
            y[k] = q
            if withGradient { g[k] = SIMD3(0, 0, dq) }
            return
        }
        let r2 = 2.0.squareRoot()
        let kc = SphericalLayout.index(l: l, m: m)
        let ks = SphericalLayout.index(l: l, m: -m)
        y[kc] = r2 * q * c[m]
        y[ks] = r2 * q * s[m]
        if withGradient {
            let fm = Double(m)
            // ∂C_m/∂x = m C_{m−1}, ∂C_m/∂y = −m S_{m−1}, ∂S_m/∂x = m S_{m−1}, ∂S_m/∂y = m C_{m−1}.
            g[kc] = r2 * SIMD3(q * fm * c[m - 1], -q * fm * s[m - 1], dq * c[m])
            g[ks] = r2 * SIMD3(q * fm * s[m - 1], q * fm * c[m - 1], dq * s[m])
        }
    }
}
