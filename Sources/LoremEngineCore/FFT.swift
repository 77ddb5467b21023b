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
/// X[k] = Σ_j x[j] e^{sign·2πi jk/n}, by recursive mixed-radix decimation in time (any length;
/// the mesh sizes PME picks factor into 2, 3, 5 and 7, and a prime length is one direct DFT).
///
/// Why a plan: the twiddles e^{sign·2πi t/n} are tabulated once per length (cos/sin dominate a
/// naive transform), and the recursion works on strided views of one input and one output
/// buffer, so a 3D mesh transform allocates nothing per line.
struct FFTPlan {
    let count: Int
    let sign: Double
    /// twiddle[t] = e^{sign·2πi t/n}.
    private let twiddle: [ComplexDouble]

    init(count: Int, sign: Double) {
        self.count = count
        self.sign = sign
        twiddle = (0..<max(count, 1)).map { ComplexDouble.unit(sign * 2 * Double.pi * Double($0) / Double(count)) }
    }

    /// out[0..<n] = DFT of x[0], x[s], …, x[(n−1)s] for a sub-length n dividing `count`.
    private func transform(_ x: UnsafePointer<ComplexDouble>, stride s: Int, _ out: UnsafeMutablePointer<ComplexDouble>, _ n: Int) {
        if n == 1 { out[0] = x[0]; return }
        let r = FFT.smallestFactor(n), m = n / r, scale = count / n
        if r == n {  // prime: direct DFT with the tabulated twiddles
            for k in 0..<n {
                var acc = ComplexDouble.zero
                for j in 0..<n { acc = acc + twiddle[(j * k % n) * scale] * x[j * s] }
                out[k] = acc
            }
            return
        }
        // Y_j = DFT of the j-th decimated subsequence, stored at out[j·m ..< (j+1)·m].
        for j in 0..<r { transform(x + j * s, stride: s * r, out + j * m, m) }
        withUnsafeTemporaryAllocation(of: ComplexDouble.self, capacity: r) { y in
            for k in 0..<m {
                for j in 0..<r { y[j] = out[j * m + k] }
                for q in 0..<r {  // X[k + q·m] = Σ_j W_n^{j(k+qm)} Y_j[k]
                    let f = k + q * m
                    var acc = y[0]
                    for j in 1..<r { acc = acc + twiddle[(j * f % n) * scale] * y[j] }
                    out[f] = acc
                }
            }
        }
    }

    /// The transform of `count` elements of x with stride `inStride` into contiguous out.
    func execute(_ x: UnsafePointer<ComplexDouble>, stride: Int = 1, into out: UnsafeMutablePointer<ComplexDouble>) {
        transform(x, stride: stride, out, count)
    }
}

enum FFT {
    static func transform(_ x: [ComplexDouble], sign: Double) -> [ComplexDouble] {
        guard x.count > 1 else { return x }
        var out = [ComplexDouble](repeating: .zero, count: x.count)
        let plan = FFTPlan(count: x.count, sign: sign)
        x.withUnsafeBufferPointer { a in out.withUnsafeMutableBufferPointer { plan.execute(a.baseAddress!, into: $0.baseAddress!) } }
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

    /// In-place 3D transform of a C-ordered [n0][n1][n2] mesh, one axis at a time (each line is
    /// transformed from its strided place into a scratch line and copied back).
    static func transform3D(_ a: inout [ComplexDouble], _ n: SIMD3<Int>, sign: Double) {
        let strides = [n[1] * n[2], n[2], 1]
        a.withUnsafeMutableBufferPointer { mesh in
            for axis in 0..<3 where n[axis] > 1 {
                let len = n[axis], step = strides[axis], plan = FFTPlan(count: len, sign: sign)
                withUnsafeTemporaryAllocation(of: ComplexDouble.self, capacity: len) { line in
                    for base in 0..<mesh.count where (base / step) % len == 0 {
                        plan.execute(mesh.baseAddress! + base, stride: step, into: line.baseAddress!)
                        for i in 0..<len { mesh[base + i * step] = line[i] }
                    }
                }
            }
        }
    }
}
