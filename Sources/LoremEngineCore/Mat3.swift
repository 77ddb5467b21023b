/// Small 3-vector and 3×3-matrix helpers for cell geometry.
///
/// Cells follow docs/MATH.md §0: the matrix h has the lattice vectors h_A as **rows**, and
/// positions and shifts are row vectors, so a shift S maps to the Cartesian vector S·h = Σ_A S_A h_A.

@inline(__always)
package func dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }

@inline(__always)
func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

@inline(__always)
package func norm(_ a: SIMD3<Double>) -> Double { dot(a, a).squareRoot() }

/// A 3×3 matrix stored by rows.
struct Mat3: Sendable, Equatable {
    var rows: [SIMD3<Double>]

    init(rows: [SIMD3<Double>]) {
        precondition(rows.count == 3, "Mat3 needs exactly three rows")
        self.rows = rows
    }

    static let identity = Mat3(rows: [SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)])

    subscript(row: Int) -> SIMD3<Double> {
        get { rows[row] }
        set { rows[row] = newValue }
    }

    /// det h = h_0 · (h_1 × h_2); its absolute value is the cell volume.
    var determinant: Double { dot(rows[0], cross(rows[1], rows[2])) }

    /// Row vector times matrix: v·M = Σ_A v_A M_A (used for S·h).
    func leftMultiply(_ v: SIMD3<Double>) -> SIMD3<Double> {
        v.x * rows[0] + v.y * rows[1] + v.z * rows[2]
    }

    /// Columns of M⁻¹ as vectors: column A is (M_{A+1} × M_{A+2}) / det M.
    ///
    /// Why columns: fractional coordinates are f = R·M⁻¹, so f_A = R · column_A, and the
    /// reciprocal vectors b_A = 2π·(M⁻¹)ᵀ rows (docs/MATH.md §8.2) are 2π times these columns.
    /// Returns nil for a singular matrix.
    func inverseColumns() -> [SIMD3<Double>]? {
        let det = determinant
        guard det != 0, det.isFinite else { return nil }
        return (0..<3).map { a in cross(rows[(a + 1) % 3], rows[(a + 2) % 3]) / det }
    }
}

/// A 3×3 tensor as nested arrays ([a][b]), the public format for virials.
package func tensorArray(_ rows: [SIMD3<Double>]) -> [[Double]] {
    rows.map { [$0.x, $0.y, $0.z] }
}

/// Outer product a ⊗ b as three rows (row a_i · b).
@inline(__always)
package func outer(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> [SIMD3<Double>] {
    [a.x * b, a.y * b, a.z * b]
}
