/// Flat (l,m) indexing of equivariant arrays in e3x's "Cartesian order" (docs/MATH.md §0):
/// degree l occupies slots l²…l²+2l in the order m = +l, −l, +(l−1), −(l−1), …, +1, −1, 0.
public enum SphericalLayout {
    /// Number of flat slots (L+1)² for degrees 0…L.
    @inlinable public static func count(maxDegree L: Int) -> Int { (L + 1) * (L + 1) }

    /// Flat slot of (l, m).
    @inlinable public static func index(l: Int, m: Int) -> Int {
        if m > 0 { return l * l + 2 * (l - m) }
        if m < 0 { return l * l + 2 * (l + m) + 1 }
        return l * l + 2 * l
    }

    /// Degree of each flat slot, for 0…L.
    public static func degrees(maxDegree L: Int) -> [Int] {
        var out: [Int] = []
        for l in 0...L { out += Array(repeating: l, count: 2 * l + 1) }
        return out
    }

    /// (l, m) of each flat slot, for 0…L.
    public static func labels(maxDegree L: Int) -> [(l: Int, m: Int)] {
        var out = [(l: Int, m: Int)](repeating: (0, 0), count: count(maxDegree: L))
        for l in 0...L {
            for m in -l...l { out[index(l: l, m: m)] = (l, m) }
        }
        return out
    }

    /// λ_l = (2l+1)^{1/4}, lorem-jax's `l_factors` (docs/MATH.md §7.1). lorem-jax builds them
    /// with `dtype=float`, i.e. in the working precision, so the float64 reference uses the exact
    /// double values (float32 engines round them).
    public static func normFactors(maxDegree L: Int) -> [Double] {
        (0...L).map { l in pow(Double(2 * l + 1), 0.25) }
    }
}

import Foundation
