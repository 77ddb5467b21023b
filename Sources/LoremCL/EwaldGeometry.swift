import LoremReference

/// One structure's Ewald geometry on the device: everything the kernels of Kernels/ewald.cl
/// read besides the charges, uploaded once per geometry and reused for every channel set and
/// cotangent (LOREM_MATH.md §8.1–§8.3).
///
/// Why built from `EwaldSummation`: λ, σ, the float32-built k-grid, G(k), V and the 2D shrink
/// and frame are preprocessing (§8.2) that must give the same integers as every other engine,
/// so they are taken from the reference rather than re-derived. What is uploaded is linear in
/// atoms: positions [N, 3], the pair list as CSR (+ centers, others, reverse, R_p [P, 3]) and
/// the k-vectors [N_k, 4] as (k, w_k = G(k)/(2V)).
public final class EwaldGeometry<T: CLReal> {
    public let periodicity: EwaldSummation.Periodicity
    public let atomCount: Int
    public let pairCount: Int
    /// |K⁺| without the k with G(k) = 0, which contribute nothing.
    public let kVectorCount: Int
    /// σ (§8.1) and V = |det h| of the effective cell (0 for molecules).
    public let smearing: Double
    public let volume: Double
    /// n̂ and H of the slab (§8.2); zero for bulk and molecules.
    public let slabNormal: SIMD3<Double>
    public let slabHeight: Double

    let positions: CLBuffer<T>
    let rowStarts: CLBuffer<Int32>
    let centers: CLBuffer<Int32>
    let others: CLBuffer<Int32>
    let reverse: CLBuffer<Int32>
    let pairVectors: CLBuffer<T>
    let kVectors: CLBuffer<T>

    /// `pairs` must be the list `summation` was built with (sorted by center, full).
    public convenience init(context: CLContext, summation: EwaldSummation, pairs: PairList) throws {
        try self.init(context: context, summation: summation, pairs: pairs, reciprocal: true)
    }

    /// `reciprocal: false` drops the k-vectors, so tests can measure the real-space term alone.
    init(context: CLContext, summation: EwaldSummation, pairs: PairList, reciprocal: Bool) throws {
        guard !summation.usesPME else {
            throw CLError.unsupported("EwaldGeometry needs the exact k-sum; this EwaldSummation uses PME")
        }
        let r = summation.atomPositions
        let n = r.count
        periodicity = summation.periodicity
        atomCount = n
        smearing = summation.smearing
        volume = summation.volume
        slabNormal = summation.slabFrame?.normal ?? .zero
        slabHeight = summation.slabFrame?.height ?? 0
        positions = try CLBuffer<T>(context, r.flatMap { [T($0.x), T($0.y), T($0.z)] })

        // Molecules use neither the list nor the k-grid (§8.3).
        let periodic = periodicity != .molecule
        let list = periodic ? pairs : PairList()
        let vectors = periodic ? summation.pairVectorList : []
        guard vectors.count == list.count else {
            throw CLError.sizeMismatch("EwaldGeometry: \(list.count) pairs given, the summation has \(vectors.count)")
        }
        let topology = try PairTopology(list, atomCount: n)
        pairCount = list.count
        rowStarts = try CLBuffer<Int32>(context, topology.rowStarts.map { Int32($0) })
        centers = try CLBuffer<Int32>(context, list.centers.map { Int32($0) })
        others = try CLBuffer<Int32>(context, list.others.map { Int32($0) })
        reverse = try CLBuffer<Int32>(context, topology.reverse.map { Int32($0) })
        pairVectors = try CLBuffer<T>(context, vectors.flatMap { [T($0.x), T($0.y), T($0.z)] })

        var packed: [T] = []
        for (k, g) in zip(summation.kVectorList, summation.kernelValues) where g != 0 && reciprocal {
            packed += [T(k.x), T(k.y), T(k.z), T(0.5 * g / volume)]
        }
        kVectorCount = packed.count / 4
        kVectors = try CLBuffer<T>(context, packed)
    }

    var hasSlab: Bool { slabHeight > 0 }
}
