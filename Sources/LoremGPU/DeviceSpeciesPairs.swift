import LoremCL
import LoremModel

/// RadialCoefficients_0 of every ordered species pair, computed once per engine and kept on the
/// device (ARCHITECTURE.md: "work that depends only on the model is done once at load").
///
/// Why a table: the first RadialCoefficients MLP sees only [species_{c(p)} ‖ species_{o(p)}]
/// (LOREM_MATH.md §7.2 step 2), two rows of the embedding, so its output for pair p is a
/// function of (Z_c, Z_o) alone. Evaluating it for all Z² ordered pairs of the embedding's Z
/// rows (Z = 100) at load leaves each batch only an index per pair, and the contraction with
/// the radial basis (§7.1) reads the table row. Each row is the same dense arithmetic as a
/// per-pair evaluation (the dense kernels accumulate every output in the same order whatever
/// the row count), so results do not depend on which species a batch holds.
///
/// Size: Z²·K·d reals (K radial functions, d features): 10⁴ × 4096 for lorem-jax's defaults
/// (K = 32, d = 128), 164 MB in float32 and 328 MB in float64; 31 MB for the default model.
struct DeviceSpeciesPairs<T: CLReal> {
    /// [Z², K·d]: row z_c·Z + z_o holds RadialCoefficients_0([species_{z_c} ‖ species_{z_o}]).
    let table: CLBuffer<T>
    /// Z: the embedding's rows (element numbers 0..<Z).
    let elements: Int
    /// [Z, n_s] on the host (flax's `Embed_0/embedding`): species inputs are tiny.
    private let embedding: [Double]
    private let numSpecies: Int

    init(embedding: [Double], numSpecies ns: Int, radial: CLMLP<T>, dense: DenseKernels<T>) throws {
        precondition(ns > 0 && embedding.count % ns == 0, "embedding of \(embedding.count) values is not [Z, \(ns)]")
        self.embedding = embedding
        numSpecies = ns
        let z = embedding.count / ns
        elements = z
        var inputs: [T] = []
        inputs.reserveCapacity(z * z * 2 * ns)
        for center in 0..<z {
            let first = Self.row(embedding, center, ns)
            for other in 0..<z { inputs += first + Self.row(embedding, other, ns) }
        }
        do {
            table = try dense.mlp(CLBuffer(dense.context, inputs), rows: z * z, radial)
        } catch let error as CLError {
            throw error.adding(context: "making the RadialCoefficients_0 table of all \(z)×\(z) species pairs at load")
        }
    }

    /// species_z = Embed(Z = z) in precision T (§7.1 `Initial`).
    func species(_ z: Int) -> [T] { Self.row(embedding, z, numSpecies) }

    private static func row(_ embedding: [Double], _ z: Int, _ ns: Int) -> [T] {
        embedding[(z * ns)..<((z + 1) * ns)].map { T($0) }
    }

    /// The table row of each pair of the batch, from the element numbers of its center and
    /// neighbour (batch atom indices).
    func rows(numbers: [Int], centers: [Int], others: [Int], context: CLContext) throws -> CLBuffer<Int32> {
        if let z = numbers.first(where: { !(0..<elements).contains($0) }) {
            throw CLError.sizeMismatch("element \(z) has no row in the species embedding (0..<\(elements))")
        }
        let rows = zip(centers, others).map { Int32(numbers[$0] * elements + numbers[$1]) }
        return try CLBuffer<Int32>(context, rows.isEmpty ? [0] : rows)
    }
}
