import LoremCL
import LoremModel

/// RadialCoefficients_0 of every ordered pair of the elements the engine has seen, kept on the
/// device and extended when a batch brings a new element.
///
/// Why a table: the first RadialCoefficients MLP sees only [species_{c(p)} ‖ species_{o(p)}]
/// (docs/MATH.md §7.2 step 2), two rows of the embedding, so its output for pair p is a
/// function of (Z_c, Z_o) alone. Evaluating it once per ordered pair of the elements present
/// leaves each batch only an index per pair, and the contraction with the radial basis (§7.1)
/// reads the table row. Each row is the same dense arithmetic as a per-pair evaluation (the
/// dense kernels accumulate every output in the same order whatever the row count), so results
/// do not depend on which other elements the table holds.
///
/// Why lazily: a table over all Z = 100 embedding rows costs Z²·K·d reals at load, 164 MB and
/// 0.4–0.9 s for lorem-jax's defaults (K = 32, d = 128), while a structure has a handful of
/// elements: S of them make S² rows, rebuilt (a few kernel launches) when an element is new.
///
/// A class: the table is a cache shared by the engine's evaluations (one at a time).
final class DeviceSpeciesPairs<T: CLReal> {
    /// Z: the embedding's rows (element numbers 0..<Z).
    let elements: Int
    /// The elements the table covers, increasing.
    private(set) var covered: [Int] = []
    /// [S², K·d] for S = covered.count: row slot(z_c)·S + slot(z_o) holds
    /// RadialCoefficients_0([species_{z_c} ‖ species_{z_o}]); nil before the first batch.
    private(set) var table: CLBuffer<T>? = nil
    /// slot[z]: z's index in `covered`, or −1.
    private var slot: [Int]
    /// [Z, n_s] on the host (flax's `Embed_0/embedding`): species inputs are tiny.
    private let embedding: [Double]
    private let numSpecies: Int
    private let radial: CLMLP<T>
    private let dense: DenseKernels<T>

    init(embedding: [Double], numSpecies ns: Int, radial: CLMLP<T>, dense: DenseKernels<T>) {
        precondition(ns > 0 && embedding.count % ns == 0, "embedding of \(embedding.count) values is not [Z, \(ns)]")
        self.embedding = embedding
        numSpecies = ns
        elements = embedding.count / ns
        slot = [Int](repeating: -1, count: elements)
        self.radial = radial
        self.dense = dense
    }

    /// species_z = Embed(Z = z) in precision T (§7.1 `Initial`).
    func species(_ z: Int) -> [T] { Self.row(embedding, z, numSpecies) }

    private static func row(_ embedding: [Double], _ z: Int, _ ns: Int) -> [T] {
        T.converting(Array(embedding[(z * ns)..<((z + 1) * ns)]))
    }

    /// Extends the table to every element of `numbers` (a rebuild over the union when one is new).
    func cover(_ numbers: [Int]) throws {
        if let z = numbers.first(where: { !(0..<elements).contains($0) }) {
            throw CLError.sizeMismatch("element \(z) has no row in the species embedding (0..<\(elements))")
        }
        let new = Set(numbers.filter { slot[$0] < 0 })
        guard !new.isEmpty || table == nil else { return }
        let union = (covered + new).sorted()
        var inputs: [T] = []
        inputs.reserveCapacity(union.count * union.count * 2 * numSpecies)
        for center in union {
            let first = species(center)
            for other in union { inputs += first + species(other) }
        }
        do {
            table = try dense.mlp(CLBuffer(dense.context, inputs.isEmpty ? [T](repeating: 0, count: 2 * numSpecies) : inputs),
                                  rows: max(1, union.count * union.count), radial)
        } catch let error as CLError {
            throw error.adding(context: "making the RadialCoefficients_0 table of \(union.count)×\(union.count) species pairs")
        }
        covered = union
        slot = [Int](repeating: -1, count: elements)
        for (k, z) in union.enumerated() { slot[z] = k }
    }

    /// The table covering the batch's elements (extended first if needed) and the row of each
    /// pair in it, from the element numbers of its center and neighbour (batch atom indices).
    /// The two belong together: a later batch may replace the table.
    func rows(numbers: [Int], centers: [Int], others: [Int], context: CLContext) throws
        -> (table: CLBuffer<T>, rows: CLBuffer<Int32>)
    {
        try cover(numbers)
        let s = covered.count
        let rows = zip(centers, others).map { Int32(slot[numbers[$0]] * s + slot[numbers[$1]]) }
        return (table!, try CLBuffer<Int32>(context, rows.isEmpty ? [0] : rows))
    }

    /// The species S the table covers and each atom's slot in it [N], for the per-atom
    /// contractions with the table (`PairKernels.contractTableNode`); after `rows`.
    func slots(numbers: [Int], context: CLContext) throws -> (species: Int, slots: CLBuffer<Int32>) {
        (covered.count, try CLBuffer<Int32>(context, numbers.map { Int32(slot[$0]) }))
    }
}
