/// The coordinate frame in which the neighbour search bins atoms (LOREM_MATH.md §0).
///
/// Periodic axes use the lattice vectors themselves, so wrapping an atom by an integer along one
/// is exactly a lattice translation (an integer change of S_p). Non-periodic axes use unit
/// vectors orthogonal to the periodic ones instead of the stored cell rows, which may be zero
/// (molecules) or arbitrary (a slab's vacuum vector); along them the fractional coordinate is a
/// plain Cartesian distance.
struct NeighborFrame {
    /// Frame vectors e_A (rows).
    let vectors: [SIMD3<Double>]
    /// Dual vectors d_A with f_A = R·d_A (the columns of E⁻¹), so e_A·d_B = δ_AB.
    let duals: [SIMD3<Double>]
    /// Perpendicular widths |det E| / |e_B × e_C|: a displacement of length r changes f_A by at
    /// most r / w_A, which is what bounds the bin and image search.
    let widths: SIMD3<Double>
    let periodic: [Bool]

    init(cell: [SIMD3<Double>], pbc: [Bool]) throws {
        guard cell.count == 3, pbc.count == 3 else {
            throw NeighborSearchError("the cell needs 3 rows and pbc 3 flags (got \(cell.count), \(pbc.count))")
        }
        let axes = (0..<3).filter { pbc[$0] }
        for a in axes where !(length(cell[a]) > 0 && length(cell[a]).isFinite) {
            throw NeighborSearchError("periodic cell vector \(a) is zero or not finite")
        }
        var e = [SIMD3<Double>(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)]
        switch axes.count {
        case 3:
            e = cell
        case 2:
            let k = (0..<3).first { !pbc[$0] }!
            let (a, b) = (cell[(k + 1) % 3], cell[(k + 2) % 3])
            let n = cross(a, b)
            guard length(n) > 1e-12 * length(a) * length(b) else {
                throw NeighborSearchError("periodic cell vectors \((k + 1) % 3) and \((k + 2) % 3) are parallel")
            }
            e = cell
            e[k] = n / length(n)
        case 1:
            let a = axes[0]
            let t = cell[a] / length(cell[a])
            // The Cartesian axis least aligned with t gives a well-conditioned normal.
            let m = abs(t.x) <= abs(t.y) && abs(t.x) <= abs(t.z) ? 0 : (abs(t.y) <= abs(t.z) ? 1 : 2)
            let u = cross(t, e[m]) / length(cross(t, e[m]))
            e[(a + 1) % 3] = u
            e[(a + 2) % 3] = cross(t, u)
            e[a] = cell[a]
        default:
            break
        }
        let det = (e[0] * cross(e[1], e[2])).sum()
        let scale = length(e[0]) * length(e[1]) * length(e[2])
        guard abs(det) > 1e-12 * scale, det.isFinite else {
            throw NeighborSearchError("periodic cell vectors are degenerate (cell volume \(det))")
        }
        vectors = e
        duals = [cross(e[1], e[2]) / det, cross(e[2], e[0]) / det, cross(e[0], e[1]) / det]
        widths = SIMD3((0..<3).map { a in abs(det) / length(cross(e[(a + 1) % 3], e[(a + 2) % 3])) })
        periodic = pbc
    }

    func fractional(_ r: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3((r * duals[0]).sum(), (r * duals[1]).sum(), (r * duals[2]).sum())
    }
}

fileprivate func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

fileprivate func length(_ a: SIMD3<Double>) -> Double { (a * a).sum().squareRoot() }

/// Why a neighbour list cannot be built: an unusable cell or cutoff, non-finite positions, or
/// atoms closer than `NeighborKernels.minimumDistance` (which would make 1/r terms blow up).
public struct NeighborSearchError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ message: String) { description = message }
}
