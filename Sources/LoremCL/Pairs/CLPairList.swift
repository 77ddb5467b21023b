/// A full neighbour list on the device in the CSR layout every pair kernel uses
/// (docs/MATH.md §0): directed pairs p = 0..<count sorted by center, then by (other, shift),
/// exactly the canonical order of LoremEngineCore.NeighborList.
///
/// * `centers[p]`, `others[p]`: c(p), o(p);
/// * `shifts[3p ..< 3p+3]`: the integer S_p with R_p = R_o − R_c + S_p·h;
/// * `start[i] ..< start[i+1]`: the pairs whose center is atom i (`start` has atoms + 1 entries);
/// * `reverse[p]`: the index of (o(p), c(p), −S_p), which the full list always holds. It turns
///   the scatter of pair gradients onto atoms into a per-atom gather (no atomics, §10.2 G1).
public final class CLPairList {
    public let atoms: Int
    public let count: Int
    public let centers: CLBuffer<Int32>
    public let others: CLBuffer<Int32>
    public let shifts: CLBuffer<Int32>
    public let start: CLBuffer<Int32>
    public let reverse: CLBuffer<Int32>

    init(atoms: Int, count: Int, centers: CLBuffer<Int32>, others: CLBuffer<Int32>, shifts: CLBuffer<Int32>,
         start: CLBuffer<Int32>, reverse: CLBuffer<Int32>) {
        self.atoms = atoms
        self.count = count
        self.centers = centers
        self.others = others
        self.shifts = shifts
        self.start = start
        self.reverse = reverse
    }

    /// Uploads a list built on the host (e.g. LoremEngineCore.NeighborList's), which must already
    /// be in canonical order (grouped by ascending center); `start` and `reverse` are derived here
    /// (`PairTopology`).
    /// Throws if the pairs are not grouped by center or the list is not full.
    public convenience init(_ context: CLContext, atoms: Int, centers: [Int], others: [Int],
                            shifts: [SIMD3<Int>]) throws {
        let count = centers.count
        guard others.count == count, shifts.count == count else {
            throw CLError.sizeMismatch("pair list: \(count) centers, \(others.count) others, \(shifts.count) shifts")
        }
        let topology = try PairTopology(atomCount: atoms, centers: centers, others: others, shifts: shifts)
        self.init(atoms: atoms, count: count,
                  centers: try CLBuffer(context, centers.map { Int32($0) }),
                  others: try CLBuffer(context, others.map { Int32($0) }),
                  shifts: try CLBuffer(context, shifts.flatMap { [Int32($0.x), Int32($0.y), Int32($0.z)] }),
                  start: try CLBuffer(context, topology.rowStarts.map { Int32($0) }),
                  reverse: try CLBuffer(context, topology.reverse.map { Int32($0) }))
    }

    /// The list back on the host, for tests and diagnostics.
    public func download() throws -> (centers: [Int], others: [Int], shifts: [SIMD3<Int>], start: [Int],
                                      reverse: [Int]) {
        let s = try shifts.download().map(Int.init)
        return (try centers.download().prefix(count).map(Int.init), try others.download().prefix(count).map(Int.init),
                (0..<count).map { SIMD3(s[3 * $0], s[3 * $0 + 1], s[3 * $0 + 2]) },
                try start.download().map(Int.init), try reverse.download().prefix(count).map(Int.init))
    }
}
