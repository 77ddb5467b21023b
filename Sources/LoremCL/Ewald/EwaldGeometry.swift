import Foundation
import LoremEngineCore

/// One structure's Ewald geometry on the device: everything the kernels of Kernels/ewald.cl
/// read besides the charges, uploaded once per geometry and reused for every channel set and
/// cotangent (docs/MATH.md §8.1–§8.3).
///
/// Why built from `EwaldSummation`: λ, σ, the float32-built k-grid, G(k), V and the 2D shrink
/// and frame are preprocessing (§8.2) that must give the same integers as every other engine,
/// so they are taken from the reference rather than re-derived. What is uploaded (by the host
/// path; a batch of one periodic structure hands over its device pair list instead) is linear in
/// atoms: positions [N, 3], the pair list as CSR (+ centers, others, reverse, R_p [P, 3]) and
/// the k-vectors [N_k, 4] as (k, w_k = G(k)/(2V)) with their integer triples [N_k, 4] (n1, n2, n3, 0)
/// from the plan (`kTripleList`), k = Σ_A n_A b_A.
///
/// Phase table: the k-sums never call sin/cos per (atom, k). With θ_jA = b_A·R_j,
/// e^{i k·R_j} = Π_A e^{i n_A θ_jA}, so the host evaluates, in float64, e^{i m θ_jA} for every m
/// in [min n_A, max n_A] of each axis — direct cos/sin of m·θ, no recurrence, so each entry is
/// correctly rounded to T (−m is the conjugate of m); at most N·(ns1+ns2+ns3) sin/cos instead
/// of ~N·N_k — and uploads them as [N, M] (cos, sin) pairs, M = Σ_A (max n_A − min n_A + 1); the
/// kernels multiply three entries. Memory is 2·N·M reals: at fixed λ, ns_A ∝ L ∝ N^{1/3}, so it
/// grows as N^{4/3} (512-atom NaCl: M = 93, 95k reals), still far below the O(N·N_k) work; for
/// large systems PME (`EwaldSummation(reciprocal: .pme)`) is the path, not this table.
///
/// A summation built with `reciprocal: .pme` has no k-vectors, so its geometry carries only the
/// real-space, self, background and slab terms; `PMEGeometry` adds the mesh (`EwaldOperator`).
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
    /// Molecules only: this one structure as a batch of the direct sum (§8.3).
    let molecule: EwaldMolecules<T>?
    let rowStarts: CLBuffer<Int32>
    let centers: CLBuffer<Int32>
    let others: CLBuffer<Int32>
    let reverse: CLBuffer<Int32>
    let pairVectors: CLBuffer<T>
    let kVectors: CLBuffer<T>
    /// [N_k, 4] Int32: (n1, n2, n3, 0) of each k-vector.
    let kTriples: CLBuffer<Int32>
    /// [N, phaseColumns, 2]: (cos m θ_jA, sin m θ_jA), axis A's m at column phaseOrigins[A] + m.
    let phases: CLBuffer<T>
    let phaseColumns: Int
    let phaseOrigins: SIMD3<Int32>

    /// `pairs` must be the list `summation` was built with (sorted by center, full).
    public convenience init(context: CLContext, summation: EwaldSummation, pairs: PairList) throws {
        try self.init(context: context, summation: summation, pairs: pairs, reciprocal: true)
    }

    /// `reciprocal: false` drops the k-vectors, so tests can measure the real-space term alone.
    convenience init(context: CLContext, summation: EwaldSummation, pairs: PairList, reciprocal: Bool) throws {
        let r = summation.atomPositions
        let n = r.count
        // Molecules use neither the list nor the k-grid (§8.3).
        let periodic = summation.periodicity != .molecule
        let list = periodic ? pairs : PairList()
        let vectors = periodic ? summation.pairVectorList : []
        guard vectors.count == list.count else {
            throw CLError.sizeMismatch("EwaldGeometry: \(list.count) pairs given, the summation has \(vectors.count)")
        }
        let topology = try PairTopology(list, atomCount: n)
        try self.init(context: context, summation: summation, reciprocal: reciprocal,
                      positions: try CLBuffer<T>(context, r.flatMap { [T($0.x), T($0.y), T($0.z)] }),
                      pairCount: list.count,
                      rowStarts: try CLBuffer<Int32>(context, topology.rowStarts.map { Int32($0) }),
                      centers: try CLBuffer<Int32>(context, list.centers.map { Int32($0) }),
                      others: try CLBuffer<Int32>(context, list.others.map { Int32($0) }),
                      reverse: try CLBuffer<Int32>(context, topology.reverse.map { Int32($0) }),
                      pairVectors: try CLBuffer<T>(context, vectors.flatMap { [T($0.x), T($0.y), T($0.z)] }))
    }

    /// A periodic structure's geometry from what the device already holds: its positions, its
    /// full pair list (`CLPairList`, with row starts and reverses) and the pair vectors R_p
    /// [P, 3] of its features, so no pair-sized array is built, checked or uploaded on the host.
    /// `summation` is built without pairs (`EwaldSummation(…, pairs: PairList())`): only its
    /// cell, slab frame, k-grid or PME mesh are used. On an H200 the host path's pair work was
    /// most of the long range's 1.15 s in a 2.76 s evaluation of 85,184 atoms.
    public convenience init(context: CLContext, summation: EwaldSummation, positions: CLBuffer<T>, pairs: CLPairList,
                            pairVectors: CLBuffer<T>) throws {
        guard summation.periodicity != .molecule else {
            throw CLError.unsupported("EwaldGeometry: device pairs are for periodic structures (molecules take the direct sum)")
        }
        guard summation.pairVectorList.isEmpty, pairs.atoms == summation.atomPositions.count else {
            throw CLError.sizeMismatch("EwaldGeometry: the summation must be built without pairs, for the \(pairs.atoms) atoms of the device list")
        }
        try pairVectors.require(pairs.count, 3, "Ewald pair vectors")
        try positions.require(pairs.atoms, 3, "Ewald positions")
        try self.init(context: context, summation: summation, reciprocal: true, positions: positions,
                      pairCount: pairs.count, rowStarts: pairs.start, centers: pairs.centers, others: pairs.others,
                      reverse: pairs.reverse, pairVectors: pairVectors)
    }

    private init(context: CLContext, summation: EwaldSummation, reciprocal: Bool, positions: CLBuffer<T>, pairCount: Int,
                 rowStarts: CLBuffer<Int32>, centers: CLBuffer<Int32>, others: CLBuffer<Int32>, reverse: CLBuffer<Int32>,
                 pairVectors: CLBuffer<T>) throws {
        let r = summation.atomPositions
        let n = r.count
        periodicity = summation.periodicity
        atomCount = n
        smearing = summation.smearing
        volume = summation.volume
        slabNormal = summation.slabFrame?.normal ?? .zero
        slabHeight = summation.slabFrame?.height ?? 0
        self.positions = positions
        molecule = periodicity == .molecule
            ? try EwaldMolecules(context: context, positions: positions, atomCount: n, structures: [0..<n]) : nil
        self.pairCount = pairCount
        self.rowStarts = rowStarts
        self.centers = centers
        self.others = others
        self.reverse = reverse
        self.pairVectors = pairVectors

        let kList = summation.kVectorList, triples = summation.kTripleList
        guard triples.count == kList.count else {
            throw CLError.sizeMismatch("EwaldGeometry: \(kList.count) k-vectors but \(triples.count) integer triples")
        }
        var packed: [T] = [], integers: [Int32] = []
        packed.reserveCapacity(4 * kList.count)
        integers.reserveCapacity(4 * kList.count)
        var low = SIMD3<Int>(repeating: .max), high = SIMD3<Int>(repeating: .min)
        for ((k, g), n) in zip(zip(kList, summation.kernelValues), triples) where g != 0 && reciprocal {
            packed.append(contentsOf: [T(k.x), T(k.y), T(k.z), T(0.5 * g / volume)])
            integers.append(contentsOf: [Int32(n.x), Int32(n.y), Int32(n.z), 0])
            low = pointwiseMin(low, n)
            high = pointwiseMax(high, n)
        }
        kVectorCount = packed.count / 4
        kVectors = try CLBuffer<T>(context, packed)
        kTriples = try CLBuffer<Int32>(context, integers)

        var table: [T] = []
        var columns = 0, origins = SIMD3<Int32>.zero
        if kVectorCount > 0 {
            let basis = summation.reciprocalBasis
            for a in 0..<3 {
                origins[a] = Int32(columns - low[a])
                columns += high[a] - low[a] + 1
            }
            let stride = 2 * columns
            table = [T](repeating: 0, count: n * stride)
            table.withUnsafeMutableBufferPointer { out in
                for (j, position) in r.enumerated() {
                    for a in 0..<3 {
                        let theta = (basis[a] * position).sum()
                        let origin = j * stride + 2 * Int(origins[a])
                        // cos/sin of m·θ for |m| once; −m is the conjugate.
                        for m in 0...max(high[a], -low[a]) {
                            let angle = Double(m) * theta
                            let c = T(cos(angle)), s = T(sin(angle))
                            if m <= high[a] { out[origin + 2 * m] = c; out[origin + 2 * m + 1] = s }
                            if m > 0, -m >= low[a] { out[origin - 2 * m] = c; out[origin - 2 * m + 1] = -s }
                        }
                    }
                }
            }
        }
        phaseColumns = columns
        phaseOrigins = origins
        phases = try CLBuffer<T>(context, table)
    }

    var hasSlab: Bool { slabHeight > 0 }
}
