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
    static func stencil(_ p: Int, _ u: Double) -> (base: Int, weights: [Double], derivatives: [Double]) {
        let f = u.rounded(.down)
        let t = u - f
        return (Int(f), (0..<p).map { value(p, t + Double($0)) }, (0..<p).map { derivative(p, t + Double($0)) })
    }
}
