import Foundation

/// The half-space reciprocal grid K⁺ of jax-pme's Ewald (docs/MATH.md §8.2, "k-grid").
enum EwaldKGrid {
    /// ns_A = ceil(|h_A| / λ) per cell row.
    ///
    /// Why Float32: lorem-jax builds the grid with numpy from the float32 cell, so |h_A| and the
    /// division are float32 operations. Doing the same here gives the same integers even when
    /// |h_A|/λ lands within float64-vs-float32 rounding of an integer.
    ///
    /// Throws for a grid beyond `maximumCount` k-vectors (or an axis beyond `maximumPerAxis`):
    /// the exact k-sum would not fit in memory. Found by fuzzing: a cell vector of 5.6e9 Å asked
    /// for 72 GB and crashed.
    static func sizes(cell: [SIMD3<Double>], wavelength: Double) throws -> SIMD3<Int> {
        var ns = SIMD3<Int>.zero
        for a in 0..<3 {
            let v = SIMD3<Float>(Float(cell[a].x), Float(cell[a].y), Float(cell[a].z))
            let length = (v * v).sum().squareRoot()
            let count = (length / Float(wavelength)).rounded(.up)
            guard count.isFinite, count <= Float(maximumPerAxis) else {
                throw EwaldError("cell vector \(a + 1) is \(cell[a].x), \(cell[a].y), \(cell[a].z) Å: exact Ewald would need "
                    + "\(count) k-points along it; check the cell, or use --long-range pme")
            }
            ns[a] = Int(count)
        }
        let total = Double(ns.x) * Double(ns.y) * Double(ns.z) / 2
        guard total <= Double(maximumCount) else {
            throw EwaldError("the cell needs \(Int(total)) k-vectors for exact Ewald (at most \(maximumCount)): use --long-range pme")
        }
        return ns
    }

    /// k-points per axis and k-vectors in all that exact Ewald accepts (5e7 k-vectors are a few GB
    /// of host memory; a 100,000-atom cubic cell at liquid density needs ~7e6).
    static let maximumPerAxis = 100_000
    static let maximumCount = 50_000_000

    /// fftfreq(ns)·ns = {0, 1, …, ⌈ns/2⌉−1, −⌊ns/2⌋, …, −1}.
    static func frequencies(_ ns: Int) -> [Int] {
        let positive = (ns + 1) / 2
        return (0..<ns).map { $0 < positive ? $0 : $0 - ns }
    }

    /// Integer triples of K⁺ in jax-pme's order (meshgrid 'ij', C-order over the fftfreq
    /// orderings): n1>0, or n1=0 and n2>0, or n1=n2=0 and n3>0. The order only affects summation
    /// rounding, but keeping it costs nothing.
    static func halfSpace(_ ns: SIMD3<Int>) -> [SIMD3<Int>] {
        var out: [SIMD3<Int>] = []
        for n1 in frequencies(ns.x) {
            for n2 in frequencies(ns.y) {
                for n3 in frequencies(ns.z) where n1 > 0 || (n1 == 0 && (n2 > 0 || (n2 == 0 && n3 > 0))) {
                    out.append(SIMD3(n1, n2, n3))
                }
            }
        }
        return out
    }

    /// Cartesian k = Σ_A n_A b_A with b_A = 2π (h⁻¹)ᵀ rows, i.e. 2π times the columns of h⁻¹.
    static func vectors(_ triples: [SIMD3<Int>], inverseColumns: [SIMD3<Double>]) -> [SIMD3<Double>] {
        let b = inverseColumns.map { 2 * Double.pi * $0 }
        return triples.map { Double($0.x) * b[0] + Double($0.y) * b[1] + Double($0.z) * b[2] }
    }
}
