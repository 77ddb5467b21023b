import LoremReference

/// The host-side index of a full pair list (LOREM_MATH.md §0) that lets device kernels gather
/// instead of scatter: CSR row starts over the centers, and the reverse of every pair.
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
        var starts = [Int](repeating: 0, count: atomCount + 1)
        for p in 0..<pairs.count {
            let c = pairs.centers[p]
            guard (0..<atomCount).contains(c), (0..<atomCount).contains(pairs.others[p]) else {
                throw CLError.sizeMismatch("pair \(p) refers to an atom outside 0..<\(atomCount)")
            }
            guard p == 0 || pairs.centers[p - 1] <= c else {
                throw CLError.sizeMismatch("pair list is not sorted by center at pair \(p)")
            }
            starts[c + 1] += 1
        }
        for i in 0..<atomCount { starts[i + 1] += starts[i] }
        rowStarts = starts

        struct Key: Hashable { let center: Int, other: Int, shift: SIMD3<Int> }
        func shift(_ s: SIMD3<Double>) -> SIMD3<Int> { SIMD3(Int(s.x.rounded()), Int(s.y.rounded()), Int(s.z.rounded())) }
        var index: [Key: Int] = [:]
        index.reserveCapacity(pairs.count)
        for p in 0..<pairs.count {
            index[Key(center: pairs.centers[p], other: pairs.others[p], shift: shift(pairs.shifts[p]))] = p
        }
        reverse = try (0..<pairs.count).map { p in
            let key = Key(center: pairs.others[p], other: pairs.centers[p], shift: 0 &- shift(pairs.shifts[p]))
            guard let q = index[key] else {
                throw CLError.sizeMismatch("pair \(p) has no reverse: the list is not a full neighbour list")
            }
            return q
        }
    }
}
