import Foundation

/// e3x's `basic_bernstein` radial basis times nothing else (docs/MATH.md §2.3), with the
/// custom derivative rule that lorem-jax's forces are built from.
///
/// The log-normalizations β_k^{(n)} are the float32 values jax computes at training time
/// (`BernsteinTables`), not ln C(n,k): they differ by up to 80 float32 ulps, and the trained
/// weights were fitted to the float32 ones.
public struct BernsteinBasis: Sendable {
    public let count: Int
    public let cutoff: Double
    private let beta: [Double]      // β^{(n)}, n = count − 1
    private let betaLower: [Double] // β^{(n−1)}, for the derivative rule

    /// ε = 2^−24, float32 `epsneg`: e3x's switch to the one-hot end values.
    public static let epsilon = 5.9604644775390625e-08

    public init(count: Int, cutoff: Double) throws {
        guard count >= 2, let b = BernsteinTables.beta(n: count - 1), let bl = BernsteinTables.beta(n: count - 2)
        else { throw ModelError.unsupported("num_radial = \(count) (supported: 2…\(BernsteinTables.maxCount))") }
        self.count = count
        self.cutoff = cutoff
        self.beta = b.map(Double.init)
        self.betaLower = bl.map(Double.init)
    }

    /// The basis with β_k = ln C(n,k), i.e. exact binomial coefficients, for which the
    /// custom derivative rule *is* the derivative: lets tests compare the whole reverse pass with
    /// finite differences without the ~1e-6 mismatch the float32 tables build in.
    public init(exactCount count: Int, cutoff: Double) {
        precondition(count >= 2)
        func table(_ n: Int) -> [Double] {
            (0...n).map { (k: Int) -> Double in
                let top: Double = lgamma(Double(n + 1))
                return top - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
            }
        }
        self.count = count
        self.cutoff = cutoff
        self.beta = table(count - 1)
        self.betaLower = table(count - 2)
    }

    /// B_k(r/c), k = 0…count−1.
    public func values(_ r: Double) -> [Double] {
        Self.evaluate(x: r / cutoff, beta: beta)
    }

    /// dB_k/dr by the custom JVP rule n·(B_{k−1}^{(n−1)} − B_k^{(n−1)}) / c (docs/MATH.md §2.3).
    public func derivatives(_ r: Double) -> [Double] {
        let n = count - 1
        let lower = Self.evaluate(x: r / cutoff, beta: betaLower)
        return (0..<count).map { k in
            let left = k > 0 ? lower[k - 1] : 0
            let right = k < n ? lower[k] : 0
            return Double(n) * (left - right) / cutoff
        }
    }

    /// The masked evaluation: one-hot ends for x < ε and x > 1 − ε (also beyond the cutoff).
    static func evaluate(x: Double, beta: [Double]) -> [Double] {
        let n = beta.count - 1
        var out = [Double](repeating: 0, count: n + 1)
        if x < epsilon {
            out[0] = 1
        } else if x > 1 - epsilon {
            out[n] = 1
        } else {
            let lx = log(x), l1x = log1p(-x)
            for k in 0...n { out[k] = exp(beta[k] + Double(k) * lx + Double(n - k) * l1x) }
        }
        return out
    }
}

/// The cosine cutoff fc(r) = ½cos(πr/c) + ½ for r < c, else 0 (docs/MATH.md §2.2).
public enum CosineCutoff {
    public static func value(_ r: Double, cutoff c: Double) -> Double {
        r < c ? 0.5 * cos(Double.pi * r / c) + 0.5 : 0
    }
    public static func derivative(_ r: Double, cutoff c: Double) -> Double {
        r < c ? -(Double.pi / (2 * c)) * sin(Double.pi * r / c) : 0
    }
}
