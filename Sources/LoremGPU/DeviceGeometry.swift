import LoremCL
import LoremIO

/// A batch of structures on the device, atoms concatenated in order: positions, one cell per
/// structure, the CSR pair list of all of them (each structure's list from the device search,
/// indices offset), its two row maps (pairs → center, pairs → neighbour) and the per-pair
/// features of `Initial` (§7.1). Every per-atom and per-pair stage then runs once for the whole
/// batch; only the neighbour search and the periodic structures' Ewald work structure by
/// structure.
struct DeviceGeometry<T: CLReal> {
    let structures: [Structure]
    let layout: CLStructureLayout
    let atoms: Int
    let pairCount: Int
    let positions: CLBuffer<T>
    let cells: CLBuffer<T>
    let pairs: CLPairList
    let centers: CLRowMap
    let others: CLRowMap
    /// Host copies of the pair indices (batch-global atom indices).
    let hostCenters: [Int]
    let hostOthers: [Int]
    let hostShifts: [SIMD3<Int>]
    /// Pairs of structure s are pairStart[s]..<pairStart[s+1] (pairs are sorted by center).
    let pairStart: [Int]
    private(set) var features: CLPairFeatures<T>

    /// Without `edgeInputs` the features hold the pair vectors and distances only: the initial
    /// layers then make the radial basis and harmonics a chunk of pairs at a time.
    init(_ structures: [Structure], cutoff: Double, edgeInputs: Bool = true, _ k: DeviceKernels<T>) throws {
        self.structures = structures
        layout = try CLStructureLayout(k.context, atomCounts: structures.map(\.count))
        atoms = layout.atoms
        positions = try CLBuffer(k.context, structures.flatMap { $0.positions.flatMap { [T($0.x), T($0.y), T($0.z)] } })
        cells = try CLBuffer(k.context, structures.flatMap { $0.cell.flatMap { [T($0.x), T($0.y), T($0.z)] } })
        var centers: [Int] = [], others: [Int] = [], shifts: [SIMD3<Int>] = [], pairStart = [0]
        var single: CLPairList? = nil
        for (s, structure) in structures.enumerated() {
            let list = try k.neighbors.build(positions: structure.positions, cell: structure.cell, pbc: structure.pbc,
                                             cutoff: cutoff)
            if structures.count == 1 { single = list }
            let host = try list.download()
            let offset = layout.hostStart[s]
            centers += host.centers.map { $0 + offset }
            others += host.others.map { $0 + offset }
            shifts += host.shifts
            pairStart.append(centers.count)
        }
        pairs = try single ?? CLPairList(k.context, atoms: atoms, centers: centers, others: others, shifts: shifts)
        pairCount = pairs.count
        hostCenters = centers
        hostOthers = others
        hostShifts = shifts
        self.pairStart = pairStart
        self.centers = try CLRowMap(k.context, index: centers, sources: atoms)
        self.others = try CLRowMap(k.context, index: others, sources: atoms)
        features = try k.features.forward(positions: positions, cells: cells, layout: layout, pairs: pairs,
                                          edgeInputs: edgeInputs)
    }

    /// Whether the features hold the whole batch's radial basis and harmonics.
    var hasEdgeInputs: Bool { features.radial.count == pairCount * features.radialCount }

    /// The radial basis and harmonics of a range of pairs (`FeatureKernels.edgeInputs`).
    func edgeInputs(_ range: Range<Int>, _ k: DeviceKernels<T>) throws -> (radial: CLBuffer<T>, harmonics: CLBuffer<T>) {
        try k.features.edgeInputs(positions: positions, cells: cells, layout: layout, pairs: pairs, range: range)
    }

    /// Frees the radial basis [P, K] once no stage reads it again (no message passing: the
    /// initial layers' forward is its last reader, and the pair features' backward recomputes
    /// it): 84 MiB for a 12,288-atom water box with lorem-jax's defaults.
    mutating func dropRadialBasis() throws {
        features = try features.droppingRadial()
    }

    /// Atoms of structure s.
    func atomRange(_ s: Int) -> Range<Int> { layout.hostStart[s]..<layout.hostStart[s + 1] }
}

/// Cotangents of the per-pair features, accumulated by every stage's backward.
final class PairFeatureCotangents<T: CLReal> {
    private let pairs: Int, radialCount: Int, harmonicsCount: Int
    /// The [P, K] and [P, (L+1)²] sums; nil where nothing was added.
    private(set) var radialSum: CLBuffer<T>? = nil
    private(set) var harmonicsSum: CLBuffer<T>? = nil

    init(_ g: DeviceGeometry<T>) {
        (pairs, radialCount, harmonicsCount) = (g.pairCount, g.features.radialCount, g.features.harmonicsCount)
    }

    /// The initial layers' share in its per-atom form, added to the sums inside the pair
    /// features' backward (`FeatureKernels.pairVectorGradients`) rather than stored per pair.
    private(set) var initial: CLInitialEdgeCotangent<T>? = nil

    func setInitial(_ cotangent: CLInitialEdgeCotangent<T>) {
        precondition(initial == nil, "the initial layers' pair cotangent is set once")
        initial = cotangent
    }

    /// The sums, zero-filled on first use: a split batch's chunks add into their rows.
    private func radial(_ k: DeviceKernels<T>) throws -> CLBuffer<T> {
        if radialSum == nil { radialSum = try k.zeros(pairs * radialCount) }
        return radialSum!
    }

    private func harmonics(_ k: DeviceKernels<T>) throws -> CLBuffer<T> {
        if harmonicsSum == nil { harmonicsSum = try k.zeros(pairs * harmonicsCount) }
        return harmonicsSum!
    }

    /// Adds a whole [P, ·] cotangent; the first one becomes the sum itself (0 + b = b), so a
    /// model without message passing holds one buffer of each instead of two (112 MiB less
    /// at 13,824 atoms of NaCl, lorem-jax's defaults) and adds nothing. The caller gives up b.
    func addRadial(_ b: CLBuffer<T>, _ k: DeviceKernels<T>) throws {
        try Self.check(b, pairs * radialCount, "radial basis")
        if let radialSum { try k.accumulate(radialSum, b, count: radialSum.count) } else { radialSum = b }
    }

    func addHarmonics(_ b: CLBuffer<T>, _ k: DeviceKernels<T>) throws {
        try Self.check(b, pairs * harmonicsCount, "harmonics")
        if let harmonicsSum { try k.accumulate(harmonicsSum, b, count: harmonicsSum.count) } else { harmonicsSum = b }
    }

    /// A message-passing chunk's cotangent rows: the whole batch's is a whole cotangent
    /// (`addRadial`, `addHarmonics`), a split batch's chunk adds into its rows of the sum.
    func addRadial(_ b: CLBuffer<T>, of chunk: DevicePairChunks<T>.Chunk, in chunks: DevicePairChunks<T>,
                   _ k: DeviceKernels<T>) throws {
        if chunks.isWhole { return try addRadial(b, k) }
        try chunks.add(b, toRowsOf: radial(k), columns: radialCount, of: chunk, k)
    }

    func addHarmonics(_ b: CLBuffer<T>, of chunk: DevicePairChunks<T>.Chunk, in chunks: DevicePairChunks<T>,
                      _ k: DeviceKernels<T>) throws {
        if chunks.isWhole { return try addHarmonics(b, k) }
        try chunks.add(b, toRowsOf: harmonics(k), columns: harmonicsCount, of: chunk, k)
    }

    /// A whole cotangent, not a chunk's rows (those go through `DevicePairChunks.add`).
    private static func check(_ b: CLBuffer<T>, _ count: Int, _ what: String) throws {
        guard b.count == count else {
            throw CLError.sizeMismatch("\(what) cotangent of \(b.count) values added to a sum of \(count)")
        }
    }
}

/// Downloads an [N,1] energy head as Float64.
func hostEnergies<T: CLReal>(_ b: CLBuffer<T>) throws -> [Double] {
    try b.download().map { Double($0) }
}
