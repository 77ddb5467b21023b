/// Directed pairs (c(p), o(p), S_p) of docs/MATH.md §0, in canonical order.
public struct PairList: Sendable, Equatable {
    /// c(p), sorted ascending: pairs are grouped by center (CSR-friendly).
    public var centers: [Int]
    /// o(p); within a center sorted by (other, shift).
    public var others: [Int]
    /// Integer-valued cell shifts S_p, so that R_p = R_o − R_c + S_p·h.
    public var shifts: [SIMD3<Double>]

    public var count: Int { centers.count }

    public init(centers: [Int] = [], others: [Int] = [], shifts: [SIMD3<Double>] = []) {
        precondition(centers.count == others.count && others.count == shifts.count)
        self.centers = centers
        self.others = others
        self.shifts = shifts
    }

    /// R_p = R_{o(p)} − R_{c(p)} + S_p·h for every pair (§0).
    public func vectors(positions: [SIMD3<Double>], cell: [SIMD3<Double>]) -> [SIMD3<Double>] {
        let h = Mat3(rows: cell)
        return (0..<count).map { p in positions[others[p]] - positions[centers[p]] + h.leftMultiply(shifts[p]) }
    }
}

/// The full neighbour list (vesin `ase_neighbor_list("ijDS")` semantics, docs/MATH.md §0).
public enum NeighborList {
    /// Atoms (or an atom and its own periodic image) closer than this are rejected: they would
    /// make 1/r terms blow up and almost always indicate a broken structure.
    public static let minimumDistance = 0.1

    /// Full list: both (i,j,S) and (j,i,−S), self-images (i,i,S≠0) included, strict |R_p| < cutoff,
    /// R_p = R_o − R_c + S·h (S as row vector times cell rows).
    ///
    /// Cost is linear in the atoms: atoms are wrapped into the cell along periodic axes and
    /// binned with bins at least `cutoff` thick (perpendicular widths, see `NeighborListFrame`),
    /// so each atom only looks at adjacent bins; cells thinner than the cutoff have one bin and
    /// ceil(cutoff/width) images on each side. Shifts are corrected for the wrapping, so R_p is
    /// always computed from the original, unwrapped positions.
    public static func build(
        positions: [SIMD3<Double>], cell: [SIMD3<Double>], pbc: [Bool], cutoff: Double
    ) throws -> PairList {
        guard cutoff > 0, cutoff.isFinite else { throw NeighborListError("cutoff must be positive, got \(cutoff)") }
        for (i, r) in positions.enumerated() where !(r.x.isFinite && r.y.isFinite && r.z.isFinite) {
            throw NeighborListError("position of atom \(i) is not finite")
        }
        let frame = try NeighborListFrame(cell: cell, pbc: pbc)
        let n = positions.count
        guard n > 0 else { return PairList() }
        let grid = try BinGrid(frame: frame, positions: positions, cutoff: cutoff)
        guard grid.searchVolume <= BinGrid.maximumSearchVolume else {
            throw NeighborListError("cell is too thin for cutoff \(cutoff) (widths \(frame.widths))")
        }
        let offsets = grid.offsets()
        let h = Mat3(rows: cell)
        let cutoff2 = cutoff * cutoff
        var list = PairList()
        var found: [(other: Int, shift: SIMD3<Int>)] = []
        for i in 0..<n {
            found.removeAll(keepingCapacity: true)
            let home = grid.binCoordinates[i]
            for offset in offsets {
                var bin = SIMD3<Int>.zero
                var wrap = SIMD3<Int>.zero
                var inside = true
                for a in 0..<3 {
                    let b = home[a] + offset[a]
                    if frame.periodic[a] {
                        bin[a] = floorMod(b, grid.counts[a])
                        wrap[a] = floorDiv(b, grid.counts[a])
                    } else if b < 0 || b >= grid.counts[a] {
                        inside = false
                    } else {
                        bin[a] = b
                    }
                }
                guard inside else { continue }
                for j in grid.atoms(inBin: bin) {
                    // R_j(orig) = R_j(wrapped) + k_j·h, so the shift seen from the originals is
                    // wrap − k_j + k_i.
                    let shift = wrap &- grid.wrapCounts[j] &+ grid.wrapCounts[i]
                    if j == i && shift == .zero { continue }
                    let s = SIMD3<Double>(Double(shift.x), Double(shift.y), Double(shift.z))
                    let d = positions[j] - positions[i] + h.leftMultiply(s)
                    let r2 = dot(d, d)
                    guard r2 < cutoff2 else { continue }
                    let r = r2.squareRoot()
                    if r < minimumDistance {
                        let what = j == i ? "atom \(i) and its periodic image \(shift)" : "atoms \(min(i, j)) and \(max(i, j))"
                        throw NeighborListError("\(what) are \(formatted(r)) Å apart (minimum \(minimumDistance) Å)")
                    }
                    found.append((j, shift))
                }
            }
            found.sort { a, b in
                if a.other != b.other { return a.other < b.other }
                if a.shift.x != b.shift.x { return a.shift.x < b.shift.x }
                if a.shift.y != b.shift.y { return a.shift.y < b.shift.y }
                return a.shift.z < b.shift.z
            }
            for f in found {
                list.centers.append(i)
                list.others.append(f.other)
                list.shifts.append(SIMD3(Double(f.shift.x), Double(f.shift.y), Double(f.shift.z)))
            }
        }
        return list
    }
}

private func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
private func floorMod(_ a: Int, _ b: Int) -> Int { a - b * floorDiv(a, b) }

private func formatted(_ x: Double) -> String {
    // Milliångström resolution is plenty to identify the offending atoms.
    let scaled = (x * 1000).rounded() / 1000
    return "\(scaled)"
}
