/// Geometry of a 2D-periodic slab (docs/MATH.md §8.2, "2D slab correction" and "2D cell shrink").
package struct EwaldSlab: Sendable {
    /// κ: index of the non-periodic cell row.
    let axis: Int
    /// n̂ = (v1 × v2)/|v1 × v2| with v1 = h_{(κ+1)%3}, v2 = h_{(κ+2)%3}.
    package let normal: SIMD3<Double>
    /// H = |h_κ · n̂| of the (shrunk) cell.
    package let height: Double
    /// z_i = R_i · n̂.
    package let z: [Double]

    init(axis: Int, cell: [SIMD3<Double>], positions: [SIMD3<Double>]) {
        self.axis = axis
        let n = cross(cell[(axis + 1) % 3], cell[(axis + 2) % 3])
        let unit = n / norm(n)
        normal = unit
        height = abs(dot(cell[axis], unit))
        z = positions.map { dot($0, unit) }
    }

    /// The cell with h_κ shrunk to h_min = t + 1.5·L_max when it is longer along n̂ (never grown).
    ///
    /// Why: jax-pme shrinks the vacuum so the k-grid along κ stays small; the result replaces the
    /// cell for everything downstream (k-vectors, V, H, R_p), so gradients and the virial are
    /// taken with respect to the shrunk cell.
    static func shrunkCell(axis: Int, cell: [SIMD3<Double>], positions: [SIMD3<Double>]) -> [SIMD3<Double>] {
        let v1 = cell[(axis + 1) % 3], v2 = cell[(axis + 2) % 3]
        let n = cross(v1, v2) / norm(cross(v1, v2))
        let zs = positions.map { dot($0, n) }
        let thickness = (zs.max() ?? 0) - (zs.min() ?? 0)
        let hMin = thickness + 1.5 * max(norm(v1), norm(v2))
        let current = abs(dot(cell[axis], n))
        var out = cell
        if current > hMin { out[axis] = cell[axis] * (hMin / current) }
        return out
    }

    /// Σ_i x_i E_slab,i(q) for cotangent/charges x, q, i.e. the bilinear slab form
    /// 4π [M^x M^q − ½(Q^x M₂^q + Q^q M₂^x) − Q^x Q^q H²/12] (docs/MATH.md §8.2).
    /// Symmetric in x ↔ q, which is what makes the Ewald operator symmetric (§10.2 G5).
    package func moments(_ q: [Double]) -> (total: Double, first: Double, second: Double) {
        var total = 0.0, first = 0.0, second = 0.0
        for i in q.indices {
            total += q[i]
            first += q[i] * z[i]
            second += q[i] * z[i] * z[i]
        }
        return (total, first, second)
    }

    /// E_slab,i = 4π [z_i M − ½(M₂ + Q z_i²) − Q H²/12].
    package func energies(_ q: [Double]) -> [Double] {
        let m = moments(q)
        let h2 = height * height
        return z.map { zi in
            4 * Double.pi * (zi * m.first - 0.5 * (m.second + m.total * zi * zi) - m.total * h2 / 12)
        }
    }
}
