import LoremCL
import LoremIO

/// One structure on the device: positions, cell, the CSR pair list with its two row maps
/// (pairs → center, pairs → neighbour) and the per-pair features of `Initial` (§7.1).
struct DeviceGeometry<T: CLReal> {
    let atoms: Int
    let pairCount: Int
    let positions: CLBuffer<T>
    let cell: CLBuffer<T>
    let pairs: CLPairList
    let centers: CLRowMap
    let others: CLRowMap
    /// Host copies of the pair indices (species-pair table rows, Ewald set-up).
    let hostCenters: [Int]
    let hostOthers: [Int]
    let hostShifts: [SIMD3<Int>]
    let features: CLPairFeatures<T>

    init(_ s: Structure, cutoff: Double, _ k: DeviceKernels<T>) throws {
        atoms = s.count
        positions = try CLBuffer(k.context, s.positions.flatMap { [T($0.x), T($0.y), T($0.z)] })
        cell = try CLBuffer(k.context, s.cell.flatMap { [T($0.x), T($0.y), T($0.z)] })
        pairs = try k.neighbors.build(positions: s.positions, cell: s.cell, pbc: s.pbc, cutoff: cutoff,
                                      devicePositions: positions, deviceCell: cell)
        pairCount = pairs.count
        let host = try pairs.download()
        hostCenters = host.centers
        hostOthers = host.others
        hostShifts = host.shifts
        centers = try CLRowMap(k.context, index: host.centers, sources: atoms)
        others = try CLRowMap(k.context, index: host.others, sources: atoms)
        features = try k.features.forward(positions: positions, cell: cell, pairs: pairs)
    }
}

/// Cotangents of the per-pair features, accumulated by every stage's backward.
struct PairFeatureCotangents<T: CLReal> {
    let radial: CLBuffer<T>
    let harmonics: CLBuffer<T>

    init(_ g: DeviceGeometry<T>, _ k: DeviceKernels<T>) throws {
        radial = try k.zeros(g.pairCount * g.features.radialCount)
        harmonics = try k.zeros(g.pairCount * g.features.harmonicsCount)
    }

    func addRadial(_ b: CLBuffer<T>, _ k: DeviceKernels<T>) throws { try k.accumulate(radial, b, count: radial.count) }
    func addHarmonics(_ b: CLBuffer<T>, _ k: DeviceKernels<T>) throws { try k.accumulate(harmonics, b, count: harmonics.count) }
}

/// Downloads an [N,1] energy head as Float64.
func hostEnergies<T: CLReal>(_ b: CLBuffer<T>) throws -> [Double] {
    try b.download().map { Double($0) }
}
