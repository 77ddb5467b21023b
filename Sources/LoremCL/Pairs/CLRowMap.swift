/// A row gather out[p] = x[index[p]] together with its transpose, uploaded once per neighbour
/// list: the pair↔atom index that every sum over pairs goes through (docs/MATH.md §7.2,
/// Σ_{p→i}).
///
/// The transpose is a CSR: `offsets[r] ..< offsets[r+1]` index `members`, the destination rows
/// p with index[p] == r in increasing p. Sums over pairs then read instead of scatter — one
/// work-item per output row, a fixed order, no float atomics (PoCL has none) — so results are
/// deterministic. For the centers (pairs sorted by center) the offsets are the usual
/// `start[N+1]` and `members` is the identity; for the others o(p) it groups the pairs that
/// read each source atom (MessagePass's ȳ, RadialCoefficients' h_o).
public struct CLRowMap {
    /// Destination rows (pairs).
    public let rows: Int
    /// Source rows (atoms).
    public let sources: Int
    /// [rows]: the source row of each destination row.
    public let index: CLBuffer<Int32>
    /// [sources + 1] CSR offsets into `members`.
    public let offsets: CLBuffer<Int32>
    /// [rows]: destination rows grouped by source row, increasing within a group.
    public let members: CLBuffer<Int32>
    /// The source rows from the smallest to the largest that some row maps to (empty for no rows).
    public let mappedSources: Range<Int>

    public init(_ context: CLContext, index: [Int], sources: Int) throws {
        precondition(index.allSatisfy { (0..<sources).contains($0) }, "row map index out of range")
        precondition(index.count < Int(Int32.max), "row map too large for 32-bit indices")
        rows = index.count
        self.sources = sources
        let groups = CSRGroups(keys: index, groups: sources)
        self.index = try CLBuffer(context, index.map { Int32($0) })
        offsets = try CLBuffer(context, groups.offsets)
        members = try CLBuffer(context, groups.members)
        mappedSources = index.min().map { $0..<(index.max()! + 1) } ?? 0..<0
    }
}

/// Items 0..<keys.count grouped by key (a stable counting sort): the host side of every CSR
/// the kernels read (row maps, and the coupling entries grouped by slot).
struct CSRGroups {
    let offsets: [Int32]
    let members: [Int32]

    init(keys: [Int], groups: Int) {
        var offsets = [Int32](repeating: 0, count: groups + 1)
        for key in keys { offsets[key + 1] += 1 }
        for g in 0..<groups { offsets[g + 1] += offsets[g] }
        var next = offsets
        var members = [Int32](repeating: 0, count: keys.count)
        for (item, key) in keys.enumerated() {
            members[Int(next[key])] = Int32(item)
            next[key] += 1
        }
        self.offsets = offsets
        self.members = members
    }
}
