import LoremEngineCore

/// The full neighbour list on the device (Kernels/neighbors.cl): the same pairs, in the same
/// canonical order, as LoremEngineCore.NeighborList (docs/MATH.md §0), delivered in the CSR
/// layout of `CLPairList` with its `reverse` index.
///
/// The host does the O(N) binning, in LoremEngineCore's frame and bins (`NeighborListFrame`,
/// `BinGrid`), so both engines search the same bins; the device does the pair search per atom in
/// a count pass, the host a prefix sum over the N counts (it needs the total to allocate the
/// pair buffers anyway), then the device fills, sorts each center's pairs and builds `reverse`.
/// Only integers are produced, so the list is bit-identical on every run. Distances are tested
/// in precision `T` on the same positions and cell the feature kernels read, so every listed pair
/// has r < cutoff as the model computes it.
public final class NeighborKernels<T: CLReal> {
    public let context: CLContext
    private let countKernel, fillKernel, reverseKernel: CLKernel

    /// Atoms (or an atom and its own image) closer than this are an error, as in the reference:
    /// they would make 1/r terms blow up and almost always mean a broken structure.
    public static var minimumDistance: Double { 0.1 }

    public init(context: CLContext) throws {
        self.context = context
        let program = try context.program(family: "neighbors", precision: T.self)
        countKernel = try program.kernel("neighbor_count")
        fillKernel = try program.kernel("neighbor_fill")
        reverseKernel = try program.kernel("neighbor_reverse")
    }

    /// Uploads positions [N,3] and cell [3,3] in precision `T` and builds the list on them.
    public func build(positions: [SIMD3<Double>], cell: [SIMD3<Double>], pbc: [Bool], cutoff: Double) throws
        -> CLPairList
    {
        let devicePositions = try CLBuffer<T>(context, positions.flatMap { [T($0.x), T($0.y), T($0.z)] })
        let deviceCell = try CLBuffer<T>(context, cell.flatMap { [T($0.x), T($0.y), T($0.z)] })
        return try build(positions: positions, cell: cell, pbc: pbc, cutoff: cutoff,
                         devicePositions: devicePositions, deviceCell: deviceCell)
    }

    /// The list for host positions/cell (used only for binning) and their device copies
    /// `devicePositions` [N,3], `deviceCell` [3,3] (used for every distance). Throws
    /// `NeighborSearchError` for an unusable cell or cutoff, non-finite positions, or atoms
    /// closer than `minimumDistance`.
    public func build(positions: [SIMD3<Double>], cell: [SIMD3<Double>], pbc: [Bool], cutoff: Double,
                      devicePositions: CLBuffer<T>, deviceCell: CLBuffer<T>) throws -> CLPairList
    {
        guard cutoff > 0, cutoff.isFinite else { throw NeighborSearchError("cutoff must be positive, got \(cutoff)") }
        for (i, r) in positions.enumerated() where !(r.x.isFinite && r.y.isFinite && r.z.isFinite) {
            throw NeighborSearchError("position of atom \(i) is not finite")
        }
        let n = positions.count
        try devicePositions.require(n, 3, "neighbour list positions")
        try deviceCell.require(3, 3, "neighbour list cell")
        // The reference frame traps on a malformed cell and throws its own error type; this API
        // reports every unusable input as a `NeighborSearchError`.
        guard cell.count == 3, pbc.count == 3 else {
            throw NeighborSearchError("the cell needs 3 rows and pbc 3 flags (got \(cell.count), \(pbc.count))")
        }
        let frame: NeighborListFrame
        do {
            frame = try NeighborListFrame(cell: cell, pbc: pbc)
        } catch let error as NeighborListError {
            throw NeighborSearchError(error.description)
        }
        guard n > 0 else { return try CLPairList(context, atoms: 0, centers: [], others: [], shifts: []) }
        let grid: BinGrid
        do {
            grid = try BinGrid(frame: frame, positions: positions, cutoff: cutoff)
        } catch let error as NeighborListError {
            throw NeighborSearchError(error.description)
        }
        guard grid.searchVolume <= BinGrid.maximumSearchVolume else {
            throw NeighborSearchError("cell is too thin for cutoff \(cutoff) (widths \(frame.widths))")
        }
        let bins = try CLBuffer(context, int32Rows(grid.binCoordinates))
        let wraps = try CLBuffer(context, int32Rows(grid.wrapCounts))
        let binStart = try CLBuffer(context, grid.start.map { Int32($0) })
        let binAtoms = try CLBuffer(context, grid.order.map { Int32($0) })
        let info = try CLBuffer(context, gridInfo(grid, periodic: pbc))
        let minimum2 = T(Self.minimumDistance * Self.minimumDistance)
        let counts = try CLBuffer<Int32>(context, count: n), close = try CLBuffer<Int32>(context, count: n)
        let global = [roundUp(n, 64)]
        try countKernel.launch(global: global, devicePositions, deviceCell, bins, wraps, binStart, binAtoms, info,
                         T(cutoff), minimum2, Int32(n), counts, close)

        let closest = try close.download()
        if let i = closest.firstIndex(where: { $0 != 0 }) {
            let j = Int(closest[i]) - 1
            let what = i == j ? "atom \(i) and its periodic image" : "atoms \(min(i, j)) and \(max(i, j))"
            throw NeighborSearchError("\(what) are closer than \(Self.minimumDistance) Å")
        }
        var start = [Int32](repeating: 0, count: n + 1)
        for (i, c) in try counts.download().enumerated() {
            guard Int(start[i]) + Int(c) <= Int(Int32.max) / 3 else {
                throw NeighborSearchError("more than \(Int32.max / 3) pairs: cutoff too large for the structure")
            }
            start[i + 1] = start[i] + c
        }
        let P = Int(start[n])
        let list = CLPairList(
            atoms: n, count: P, centers: try CLBuffer(context, shape: [P], name: "neighbour list centers"),
            others: try CLBuffer(context, shape: [P], name: "neighbour list neighbours"),
            shifts: try CLBuffer(context, shape: [P, 3], name: "neighbour list shifts"), start: try CLBuffer(context, start),
            reverse: try CLBuffer(context, shape: [P], name: "neighbour list reverse index"))
        try fillKernel.launch(global: global, devicePositions, deviceCell, bins, wraps, binStart, binAtoms, info, T(cutoff),
                        minimum2, Int32(n), list.start, list.centers, list.others, list.shifts)
        if P > 0 {
            try reverseKernel.launch(global: [roundUp(P, 64)], list.centers, list.others, list.shifts, list.start,
                               Int32(P), list.reverse)
        }
        return list
    }
}

/// Why a neighbour list cannot be built: an unusable cell or cutoff, non-finite positions, or atoms
/// closer than `NeighborKernels.minimumDistance` (which would make 1/r terms blow up).
public struct NeighborSearchError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ message: String) { description = message }
}

/// The nine ints of the kernels' `grid` argument: bins per axis, reach per axis (bins or
/// images), periodic flags.
private func gridInfo(_ grid: BinGrid, periodic: [Bool]) -> [Int32] {
    [grid.counts.x, grid.counts.y, grid.counts.z, grid.reach.x, grid.reach.y, grid.reach.z].map { Int32($0) }
        + periodic.map { $0 ? 1 : 0 }
}

/// Per-atom integer triples as the kernels' flat [N,3] Int32 rows.
private func int32Rows(_ rows: [SIMD3<Int>]) -> [Int32] {
    var flat: [Int32] = []
    flat.reserveCapacity(3 * rows.count)
    for r in rows {
        flat.append(Int32(r.x))
        flat.append(Int32(r.y))
        flat.append(Int32(r.z))
    }
    return flat
}
