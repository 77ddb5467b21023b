import Foundation

/// A complex number for the reference FFT (kept local: the reference engine has no numeric
/// dependencies).
struct ComplexDouble: Sendable, Equatable {
    var re: Double
    var im: Double
    static let zero = ComplexDouble(re: 0, im: 0)
    static func + (a: ComplexDouble, b: ComplexDouble) -> ComplexDouble { ComplexDouble(re: a.re + b.re, im: a.im + b.im) }
    static func * (a: ComplexDouble, b: ComplexDouble) -> ComplexDouble {
        ComplexDouble(re: a.re * b.re - a.im * b.im, im: a.re * b.im + a.im * b.re)
    }
    static func * (a: Double, b: ComplexDouble) -> ComplexDouble { ComplexDouble(re: a * b.re, im: a * b.im) }
    /// e^{iθ}
    static func unit(_ theta: Double) -> ComplexDouble { ComplexDouble(re: cos(theta), im: sin(theta)) }
    var conjugate: ComplexDouble { ComplexDouble(re: re, im: -im) }
}

/// Unnormalised discrete Fourier transforms for the reference PME, written for clarity:
/// X[k] = Σ_j x[j] e^{sign·2πi jk/n}, by recursive mixed-radix Cooley–Tukey (any length; the
/// mesh sizes PME picks factor into 2, 3, 5 and 7, and other primes fall back to a direct DFT).
enum FFT {
    static func transform(_ x: [ComplexDouble], sign: Double) -> [ComplexDouble] {
        let n = x.count
        guard n > 1 else { return x }
        let r = smallestFactor(n)
        if r == n { return directDFT(x, sign: sign) }
        let m = n / r
        // Y_j = transform of the j-th decimated subsequence x[j], x[j+r], …
        let sub = (0..<r).map { j in transform(stride(from: j, to: n, by: r).map { x[$0] }, sign: sign) }
        var out = [ComplexDouble](repeating: .zero, count: n)
        for k in 0..<n {
            var acc = ComplexDouble.zero
            for j in 0..<r {
                acc = acc + ComplexDouble.unit(sign * 2 * Double.pi * Double(j * k % n) / Double(n)) * sub[j][k % m]
            }
            out[k] = acc
        }
        return out
    }

    static func directDFT(_ x: [ComplexDouble], sign: Double) -> [ComplexDouble] {
        let n = x.count
        return (0..<n).map { k in
            var acc = ComplexDouble.zero
            for j in 0..<n { acc = acc + ComplexDouble.unit(sign * 2 * Double.pi * Double(j * k % n) / Double(n)) * x[j] }
            return acc
        }
    }

    static func smallestFactor(_ n: Int) -> Int {
        var f = 2
        while f * f <= n {
            if n % f == 0 { return f }
            f += 1
        }
        return n
    }

    /// In-place 3D transform of a C-ordered [n0][n1][n2] mesh, one axis at a time.
    static func transform3D(_ a: inout [ComplexDouble], _ n: SIMD3<Int>, sign: Double) {
        let strides = [n[1] * n[2], n[2], 1]
        for axis in 0..<3 {
            let len = n[axis], step = strides[axis]
            for base in 0..<a.count where (base / step) % len == 0 {
                let line = (0..<len).map { a[base + $0 * step] }
                let t = transform(line, sign: sign)
                for i in 0..<len { a[base + i * step] = t[i] }
            }
        }
    }
}
