import LoremEngineCore

/// The host-side index of a full pair list (docs/MATH.md §0) that lets device kernels gather
/// instead of scatter: CSR row starts over the centers, and the reverse of every pair. The Ewald
/// kernels (`EwaldGeometry`) use it directly; `CLPairList`'s host upload derives its `start` and
/// `reverse` buffers from it.
///
/// Why gathers: a pair-vector gradient ḡ_p adds +ḡ_p to R_o and −ḡ_p to R_c (§10.2 G1). With
/// reverse(p) = the index of (o, c, −S), atom i's gradient is Σ_{p: c(p)=i} (ḡ_reverse(p) − ḡ_p),
/// a loop over i's own row: one work-item per atom, no atomics, a fixed order, so results are
/// bit-reproducible on every device.
public struct PairTopology: Sendable, Equatable {
    /// rowStarts[i] ..< rowStarts[i+1] are the pairs centered on atom i (N + 1 entries).
    public let rowStarts: [Int]
    /// reverse[p]: the index of (o(p), c(p), −S_p).
    public let reverse: [Int]

    /// Throws unless `pairs` is sorted by center and full (every pair has its reverse).
    public init(_ pairs: PairList, atomCount: Int) throws {
        try self.init(atomCount: atomCount, centers: pairs.centers, others: pairs.others,
                      shifts: pairs.shifts.map { SIMD3(Int($0.x.rounded()), Int($0.y.rounded()), Int($0.z.rounded())) })
    }

    /// The same for a list given as arrays of equal length with integer shifts S_p. Throws unless
    /// it is sorted by center, refers only to atoms 0..<atomCount and is full.
    init(atomCount: Int, centers: [Int], others: [Int], shifts: [SIMD3<Int>]) throws {
        let count = centers.count
        precondition(others.count == count && shifts.count == count, "pair list arrays differ in length")
        var starts = [Int](repeating: 0, count: atomCount + 1)
        for p in 0..<count {
            let c = centers[p]
            guard (0..<atomCount).contains(c), (0..<atomCount).contains(others[p]) else {
                throw CLError.sizeMismatch("pair \(p) refers to an atom outside 0..<\(atomCount)")
            }
            guard p == 0 || centers[p - 1] <= c else {
                throw CLError.sizeMismatch("pair list is not sorted by center at pair \(p)")
            }
            starts[c + 1] += 1
        }
        for i in 0..<atomCount { starts[i + 1] += starts[i] }
        rowStarts = starts

        // The reverse of (c, o, S) is in o's own row: a scan of one short row per pair
        // (a hash of all P pairs cost ~50 ms for 10⁵ pairs).
        reverse = try (0..<count).map { p in
            let (c, o, back) = (centers[p], others[p], 0 &- shifts[p])
            guard let q = (starts[o]..<starts[o + 1]).first(where: { others[$0] == c && shifts[$0] == back }) else {
                throw CLError.sizeMismatch("pair \(p) has no reverse: the list is not a full neighbour list")
            }
            return q
        }
    }
}
