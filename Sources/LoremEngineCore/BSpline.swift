/// Cardinal B-splines M_p (Essmann et al. smooth PME): M_2(x) = 1 − |x − 1| on [0, 2], and
/// M_p(x) = [x M_{p−1}(x) + (p − x) M_{p−1}(x − 1)] / (p − 1); dM_p/dx = M_{p−1}(x) − M_{p−1}(x − 1).
enum BSpline {
    static func value(_ p: Int, _ x: Double) -> Double {
        guard x > 0, x < Double(p) else { return 0 }
        if p == 2 { return 1 - abs(x - 1) }
        return (x * value(p - 1, x) + (Double(p) - x) * value(p - 1, x - 1)) / Double(p - 1)
    }

    static func derivative(_ p: Int, _ x: Double) -> Double {
        value(p - 1, x) - value(p - 1, x - 1)
    }

    /// Weights and derivatives of the p mesh points an atom at mesh coordinate u touches:
    /// point floor(u) − j gets M_p(frac(u) + j), j = 0…p−1.
    ///
    /// The same recursion as `value`, run upwards for all j at once: with a_k(j) = M_k(t + j),
    /// a_2 = (t, 1 − t) and a_k(j) = [(t+j) a_{k−1}(j) + (k−t−j) a_{k−1}(j−1)]/(k−1), the last
    /// step's a_{p−1} giving the derivatives a_{p−1}(j) − a_{p−1}(j−1). O(p²) per axis instead of
    /// `value`'s 2^p calls (p = 8: 6 ms instead of 0.3 s for 10k atoms).
    static func stencil(_ p: Int, _ u: Double) -> (base: Int, weights: [Double], derivatives: [Double]) {
        precondition(p >= 3, "stencils are for PME orders ≥ 3")
        let f = u.rounded(.down)
        let t = u - f
        var a = [t, 1 - t] + [Double](repeating: 0, count: p - 2)
        var derivatives = [Double](repeating: 0, count: p)
        for k in 3...p {
            if k == p { for j in 0..<p { derivatives[j] = a[j] - (j > 0 ? a[j - 1] : 0) } }
            for j in stride(from: k - 1, through: 0, by: -1) {
                let x = t + Double(j)
                a[j] = (x * a[j] + (Double(k) - x) * (j > 0 ? a[j - 1] : 0)) / Double(k - 1)
            }
        }
        return (Int(f), a, derivatives)
    }
}
