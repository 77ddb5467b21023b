/// Atoms sorted into a regular grid of bins in the frame's fractional coordinates: the host's
/// O(N) share of the device neighbour search (Kernels/neighbors.cl).
///
/// Why this shape: with bins at least one cutoff thick (perpendicular to their faces) every
/// neighbour lies in the block of bins `reach` away, so the search is linear in the atoms. A
/// periodic axis thinner than the cutoff has one bin and the block extends to
/// ceil(cutoff / width) periodic images on each side (small cells, several images).
struct NeighborGrid {
    /// Bins per axis, reach per axis (bins or images), periodic flags: the kernels' `grid`.
    let counts: SIMD3<Int>
    let reach: SIMD3<Int>
    /// Per atom: bin coordinates and k_i, the lattice vectors subtracted to wrap it ([N,3]).
    let bins: [Int32]
    let wraps: [Int32]
    /// Atoms sorted by linear bin (x fastest), CSR over bins.
    let binStart: [Int32]
    let binAtoms: [Int32]

    /// Beyond this many bin offsets per atom the cell is rejected as too thin for the cutoff.
    static let maximumSearchVolume = 2_000_000

    init(frame: NeighborFrame, positions: [SIMD3<Double>], cutoff: Double) throws {
        let n = positions.count
        // A hair above the cutoff, so rounding in the wrapped fractional coordinates can never
        // hide a pair at the search boundary.
        let reachLength = cutoff * (1 + 1e-9)
        var frac = positions.map(frame.fractional)
        var wraps = [Int32](repeating: 0, count: 3 * n)
        var lower = SIMD3<Double>.zero, extent = SIMD3<Double>(1, 1, 1), thickness = SIMD3<Double>.zero
        var counts = SIMD3<Int>(1, 1, 1)
        for a in 0..<3 {
            if frame.periodic[a] {
                for i in 0..<n {
                    let k = frac[i][a].rounded(.down)
                    frac[i][a] -= k
                    wraps[3 * i + a] = Int32(k)
                }
                thickness[a] = frame.widths[a]
            } else {
                let values = frac.map { $0[a] }
                lower[a] = values.min() ?? 0
                extent[a] = (values.max() ?? 0) - lower[a]
                thickness[a] = extent[a]
            }
            counts[a] = max(1, Int(min(1e6, (thickness[a] / reachLength).rounded(.down))))
        }
        // Keep the number of bins proportional to the atoms (sparse molecules, wide vacuum).
        while counts.x * counts.y * counts.z > 4 * n + 27 {
            let a = counts.x >= counts.y && counts.x >= counts.z ? 0 : (counts.y >= counts.z ? 1 : 2)
            counts[a] = (counts[a] + 1) / 2
        }
        var reach = SIMD3<Int>.zero
        for a in 0..<3 where counts[a] > 1 || frame.periodic[a] {
            // Bins are thickness/count thick, so a neighbour is ceil(cutoff/binThickness) away.
            reach[a] = Int(min((reachLength * Double(counts[a]) / thickness[a]).rounded(.up), 1e6))
            if !frame.periodic[a] { reach[a] = min(reach[a], counts[a] - 1) }
        }
        let volume = (2 * reach.x + 1) * (2 * reach.y + 1) * (2 * reach.z + 1)
        guard volume <= Self.maximumSearchVolume else {
            throw NeighborSearchError("cell is too thin for cutoff \(cutoff) (widths \(frame.widths))")
        }
        var bins = [Int32](repeating: 0, count: 3 * n)
        var linear = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var b = SIMD3<Int>.zero
            for a in 0..<3 {
                let u = frame.periodic[a] ? frac[i][a] : (extent[a] > 0 ? (frac[i][a] - lower[a]) / extent[a] : 0)
                b[a] = min(counts[a] - 1, max(0, Int((u * Double(counts[a])).rounded(.down))))
                bins[3 * i + a] = Int32(b[a])
            }
            linear[i] = b.x + counts.x * (b.y + counts.y * b.z)
        }
        // Counting sort by linear bin; atoms stay in increasing index within a bin.
        var start = [Int32](repeating: 0, count: counts.x * counts.y * counts.z + 1)
        for l in linear { start[l + 1] += 1 }
        for b in 0..<(start.count - 1) { start[b + 1] += start[b] }
        var fill = start
        var atoms = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            atoms[Int(fill[linear[i]])] = Int32(i)
            fill[linear[i]] += 1
        }
        self.counts = counts
        self.reach = reach
        self.bins = bins
        self.wraps = wraps
        self.binStart = start
        self.binAtoms = atoms
    }

    /// The nine ints of the kernels' `grid` argument.
    func gridInfo(periodic: [Bool]) -> [Int32] {
        [counts.x, counts.y, counts.z, reach.x, reach.y, reach.z].map { Int32($0) } + periodic.map { $0 ? 1 : 0 }
    }
}
