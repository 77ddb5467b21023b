import Foundation

/// Atoms sorted into a regular grid of bins in the frame's fractional coordinates. It is also the
/// host's O(N) share of LoremCL's device neighbour search (`NeighborKernels`, Kernels/neighbors.cl),
/// hence `package` access: both engines bin identically.
///
/// Why this shape: with bins at least one cutoff thick (measured perpendicular to the bin faces),
/// every neighbour of an atom lies in the 3×3×3 block of bins around it, so the search is linear
/// in the number of atoms. A periodic axis thinner than the cutoff gets one bin and the block
/// extends to ceil(cutoff/width) periodic images on each side instead.
package struct BinGrid {
    /// Bins per axis.
    package let counts: SIMD3<Int>
    /// Search reach per axis: how many bins (or, on a one-bin periodic axis, images) away on each
    /// side a neighbour can be.
    package let reach: SIMD3<Int>
    /// Bin of each atom after wrapping.
    package let binCoordinates: [SIMD3<Int>]
    /// k_i: how many lattice vectors were subtracted along each periodic axis to wrap atom i.
    package let wrapCounts: [SIMD3<Int>]
    /// Atoms sorted by linear bin (x fastest; increasing index within a bin), CSR over bins:
    /// bin l holds order[start[l] ..< start[l+1]].
    package let start: [Int]
    package let order: [Int]

    /// Number of bin offsets searched per atom; guards against absurdly thin cells (the caller
    /// must reject the cell when it exceeds `maximumSearchVolume`).
    package let searchVolume: Int
    /// Beyond this many bin offsets per atom the cell is rejected as too thin for the cutoff
    /// (a width ~1/100 of the cutoff along every axis); it also bounds the offsets' memory.
    package static let maximumSearchVolume = 2_000_000

    /// Farthest an atom may lie from the cell, in cell lengths along a periodic axis: far beyond
    /// any real input (an MD code wraps long before), and the wrap counts stay exact integers
    /// (Int32 on the device). Found by fuzzing: a coordinate of 1e308 in a periodic cell trapped.
    package static let maximumWraps = 1_000_000

    /// Throws `NeighborListError` for an atom more than `maximumWraps` cells away along a
    /// periodic axis.
    package init(frame: NeighborListFrame, positions: [SIMD3<Double>], cutoff: Double) throws {
        let n = positions.count
        // A hair above the cutoff so that rounding in the wrapped fractional coordinates can
        // never hide a pair sitting exactly at the search boundary.
        let reachLength = cutoff * (1 + 1e-9)
        var frac = positions.map(frame.fractional)
        var wraps = [SIMD3<Int>](repeating: .zero, count: n)
        var lower = SIMD3<Double>.zero
        var extent = SIMD3<Double>(1, 1, 1)
        var counts = SIMD3<Int>(1, 1, 1)
        var thickness = SIMD3<Double>.zero
        for a in 0..<3 {
            if frame.periodic[a] {
                for i in 0..<n {
                    let k = frac[i][a].rounded(.down)
                    guard abs(k) <= Double(Self.maximumWraps) else {
                        throw NeighborListError("atom \(i) lies \(k) cell lengths away from the cell along lattice vector \(a + 1) "
                            + "(at most \(Self.maximumWraps) allowed): check its coordinates or wrap the structure")
                    }
                    frac[i][a] -= k
                    wraps[i][a] = Int(k)
                }
                counts[a] = max(1, Int(min(1e6, (frame.widths[a] / reachLength).rounded(.down))))
                thickness[a] = frame.widths[a]
            } else {
                // Non-periodic frame vectors are unit vectors: fractional = Cartesian distance.
                let values = frac.map { $0[a] }
                lower[a] = values.min()!
                extent[a] = values.max()! - lower[a]
                counts[a] = max(1, Int(min(1e6, (extent[a] / reachLength).rounded(.down))))
                thickness[a] = extent[a]
            }
        }
        // Keep the number of bins proportional to the atoms (sparse molecules, huge vacuum).
        while counts.x * counts.y * counts.z > 4 * n + 27 {
            let a = counts.x >= counts.y && counts.x >= counts.z ? 0 : (counts.y >= counts.z ? 1 : 2)
            counts[a] = (counts[a] + 1) / 2
        }
        var reach = SIMD3<Int>.zero
        for a in 0..<3 where counts[a] > 1 || frame.periodic[a] {
            // Bins are thickness/count thick; a neighbour is at most `cutoff` away perpendicular
            // to the faces, hence ceil(cutoff / binThickness) bins (or images) away.
            let bins = (reachLength * Double(counts[a]) / thickness[a]).rounded(.up)
            reach[a] = Int(min(bins, 1e6))
            if !frame.periodic[a] { reach[a] = min(reach[a], counts[a] - 1) }
        }
        var bins = [SIMD3<Int>](repeating: .zero, count: n)
        for i in 0..<n {
            for a in 0..<3 {
                let u = frame.periodic[a] ? frac[i][a] : (extent[a] > 0 ? (frac[i][a] - lower[a]) / extent[a] : 0)
                bins[i][a] = min(counts[a] - 1, max(0, Int((u * Double(counts[a])).rounded(.down))))
            }
        }
        // Counting sort of atoms by linear bin index (CSR).
        let linear = bins.map { $0.x + counts.x * ($0.y + counts.y * $0.z) }
        var start = [Int](repeating: 0, count: counts.x * counts.y * counts.z + 1)
        for l in linear { start[l + 1] += 1 }
        for b in 0..<(start.count - 1) { start[b + 1] += start[b] }
        var fill = start
        var order = [Int](repeating: 0, count: n)
        for i in 0..<n {
            order[fill[linear[i]]] = i
            fill[linear[i]] += 1
        }
        self.searchVolume = (2 * reach.x + 1) * (2 * reach.y + 1) * (2 * reach.z + 1)
        self.counts = counts
        self.reach = reach
        self.binCoordinates = bins
        self.wrapCounts = wraps
        self.start = start
        self.order = order
    }

    /// Bin offsets (relative to an atom's own bin) that can hold neighbours, x fastest. Only for a
    /// grid whose `searchVolume` is within `maximumSearchVolume` (it bounds the memory).
    func offsets() -> [SIMD3<Int>] {
        precondition(searchVolume <= BinGrid.maximumSearchVolume, "search volume \(searchVolume) is too large")
        var offsets: [SIMD3<Int>] = []
        offsets.reserveCapacity(searchVolume)
        for dz in -reach.z...reach.z {
            for dy in -reach.y...reach.y {
                for dx in -reach.x...reach.x { offsets.append(SIMD3(dx, dy, dz)) }
            }
        }
        return offsets
    }

    func atoms(inBin bin: SIMD3<Int>) -> ArraySlice<Int> {
        let l = bin.x + counts.x * (bin.y + counts.y * bin.z)
        return order[start[l]..<start[l + 1]]
    }
}
