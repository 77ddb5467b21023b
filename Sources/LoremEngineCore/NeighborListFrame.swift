/// The coordinate frame in which the neighbour list bins atoms.
///
/// Periodic axes use the lattice vectors themselves, so wrapping an atom by an integer along a
/// periodic axis is exactly a lattice translation (the S_p of docs/MATH.md §0). Non-periodic axes
/// use unit vectors orthogonal to the periodic ones instead of the stored cell rows: those rows may
/// be zero (molecules) or arbitrary (the vacuum vector of a slab), and the atoms need not lie inside
/// them. Along such an axis the fractional coordinate is then a plain Cartesian distance.
///
/// `package`: LoremCL's device neighbour search (`NeighborKernels`) bins in this same frame.
package struct NeighborListFrame {
    /// Frame vectors e_A (rows).
    let vectors: [SIMD3<Double>]
    /// Dual vectors d_A with f_A = R · d_A (the columns of E⁻¹).
    let duals: [SIMD3<Double>]
    /// Perpendicular widths w_A = |det E| / |e_B × e_C|: the distance between the two faces of
    /// the frame cell that are spanned by the other two vectors. A displacement of length r
    /// changes f_A by at most r / w_A, which is what bounds the image and bin search.
    package let widths: SIMD3<Double>
    let periodic: [Bool]

    package init(cell: [SIMD3<Double>], pbc: [Bool]) throws {
        precondition(cell.count == 3 && pbc.count == 3, "cell needs 3 rows and pbc 3 flags")
        let axes = (0..<3).filter { pbc[$0] }
        for a in axes where !(norm(cell[a]) > 0) || !norm(cell[a]).isFinite {
            throw NeighborListError("periodic cell vector \(a) is zero or not finite")
        }
        var e = [SIMD3<Double>(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)]
        switch axes.count {
        case 3:
            e = cell
        case 2:
            let k = (0..<3).first { !pbc[$0] }!
            let n = cross(cell[(k + 1) % 3], cell[(k + 2) % 3])
            guard norm(n) > 1e-12 * norm(cell[(k + 1) % 3]) * norm(cell[(k + 2) % 3]) else {
                throw NeighborListError("periodic cell vectors \((k + 1) % 3) and \((k + 2) % 3) are parallel")
            }
            e = cell
            e[k] = n / norm(n)
        case 1:
            let a = axes[0]
            let t = cell[a] / norm(cell[a])
            // Cross with the Cartesian axis least aligned with t to get a well-conditioned normal.
            let m = abs(t.x) <= abs(t.y) && abs(t.x) <= abs(t.z) ? 0 : (abs(t.y) <= abs(t.z) ? 1 : 2)
            let u0 = cross(t, e[m])
            let u = u0 / norm(u0)
            let v = cross(t, u)
            e[(a + 1) % 3] = u
            e[(a + 2) % 3] = v
            e[a] = cell[a]
        default:
            break
        }
        let matrix = Mat3(rows: e)
        let det = matrix.determinant
        let scale = norm(e[0]) * norm(e[1]) * norm(e[2])
        guard let duals = matrix.inverseColumns(), abs(det) > 1e-12 * scale else {
            throw NeighborListError("periodic cell vectors are degenerate (cell volume \(det))")
        }
        self.vectors = e
        self.duals = duals
        self.widths = SIMD3((0..<3).map { a in abs(det) / norm(cross(e[(a + 1) % 3], e[(a + 2) % 3])) })
        self.periodic = pbc
    }

    func fractional(_ r: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(dot(r, duals[0]), dot(r, duals[1]), dot(r, duals[2]))
    }
}

/// Errors of the neighbour list: atoms closer than the allowed minimum, or an unusable cell.
public struct NeighborListError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ message: String) { description = message }
}
