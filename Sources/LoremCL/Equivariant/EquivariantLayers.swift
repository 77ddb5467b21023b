import LoremModel

/// Device copies of the equivariant-layer weights (LoremModel's EquivariantDenseWeights,
/// TensorWeights, TensorDenseWeights, MessagePassWeights) in precision `T`, uploaded once at
/// model load.

/// e3x Dense without bias (docs/MATH.md §3): the per-degree [inputs, outputs] kernels back to
/// back, degree l at l·inputs·outputs, so a kernel picks its slot's matrix by offset.
public struct CLEquivariantDense<T: CLReal> {
    public let maxDegree: Int
    public let inputs: Int
    public let outputs: Int
    public let kernel: CLBuffer<T>
    public var slots: Int { (maxDegree + 1) * (maxDegree + 1) }

    public init(_ context: CLContext, _ weights: EquivariantDenseWeights) throws {
        maxDegree = weights.maxDegree
        let (inputs, outputs) = (weights.inputs, weights.outputs)
        precondition(weights.perDegree.allSatisfy { $0.inputs == inputs && $0.outputs == outputs })
        self.inputs = inputs
        self.outputs = outputs
        kernel = try CLBuffer(context, T.converting(weights.perDegree.flatMap { $0.kernel }))
    }
}

/// e3x Tensor (§4.2): the per-path weights W[l1,l2,l3,f] as flax stores them, and the sparse
/// parity-even coupling table as compact arrays — `entries` (a, b, c, offset of the path's
/// weights in `kernel`), `values` (C[a,b,c]) — grouped three ways (by c, a and b) so each
/// output element loops over exactly its entries, in table order (the reference's order).
public struct CLTensor<T: CLReal> {
    public let maxDegree1: Int, maxDegree2: Int, maxDegree3: Int
    public let features: Int
    public let entryCount: Int
    public let kernel: CLBuffer<T>
    /// [entryCount × 4]: a, b, c, weight offset.
    public let entries: CLBuffer<Int32>
    /// [entryCount]: the coupling coefficient C[a,b,c].
    public let values: CLBuffer<T>
    /// The entries grouped by output slot c (forward), first slot a (x̄) and second slot b (ȳ),
    /// each group packed for its kernel.
    let byOutput: CLEntryGroups<T>, byFirst: CLEntryGroups<T>, bySecond: CLEntryGroups<T>

    public var slots1: Int { (maxDegree1 + 1) * (maxDegree1 + 1) }
    public var slots2: Int { (maxDegree2 + 1) * (maxDegree2 + 1) }
    public var slots3: Int { (maxDegree3 + 1) * (maxDegree3 + 1) }

    public init(_ context: CLContext, _ weights: TensorWeights) throws {
        maxDegree1 = weights.maxDegree1
        maxDegree2 = weights.maxDegree2
        maxDegree3 = weights.maxDegree3
        features = weights.features
        let table = weights.coupling.entries
        entryCount = table.count
        kernel = try CLBuffer(context, T.converting(weights.kernel))
        entries = try CLBuffer(context, table.flatMap { e in
            [e.a, e.b, e.c, weights.weightIndex(e.l1, e.l2, e.l3)].map { Int32($0) }
        })
        values = try CLBuffer(context, table.map { T($0.value) })
        let slots = { (l: Int) in (l + 1) * (l + 1) }
        // W[path, f]·C per entry and feature, formed once in float64.
        let coupled = table.map { e in
            let w0 = weights.weightIndex(e.l1, e.l2, e.l3)
            return (0..<weights.features).map { weights.kernel[w0 + $0] * e.value }
        }
        byOutput = try CLEntryGroups(context, CSRGroups(keys: table.map(\.c), groups: slots(maxDegree3)),
                                     others: table.map { ($0.a, $0.b) }, coupled: coupled)
        byFirst = try CLEntryGroups(context, CSRGroups(keys: table.map(\.a), groups: slots(maxDegree1)),
                                    others: table.map { ($0.b, $0.c) }, coupled: coupled)
        bySecond = try CLEntryGroups(context, CSRGroups(keys: table.map(\.b), groups: slots(maxDegree2)),
                                     others: table.map { ($0.a, $0.c) }, coupled: coupled)
    }
}

/// Coupling entries grouped by one slot (CSR `offsets`), packed in group order so a kernel
/// reads each entry without indirection: the entry's two other slots, and its per-feature
/// coefficient W[path, f]·C[a,b,c] (the path weight and the Clebsch–Gordan value multiplied once
/// at load, not per atom).
struct CLEntryGroups<T: CLReal> {
    let offsets: CLBuffer<Int32>
    /// [entries] (s₁, s₂): the slots of the other two operands, in the kernel's order.
    let slots: CLBuffer<SIMD2<Int32>>
    /// [entries, F]: W[path, f]·C.
    let coupled: CLBuffer<T>

    init(_ context: CLContext, _ groups: CSRGroups, others: [(Int, Int)], coupled: [[Double]]) throws {
        offsets = try CLBuffer(context, groups.offsets)
        slots = try CLBuffer(context, groups.members.map { SIMD2(Int32(others[Int($0)].0), Int32(others[Int($0)].1)) })
        self.coupled = try CLBuffer(context, T.converting(groups.members.flatMap { coupled[Int($0)] }))
    }
}

/// e3x TensorDense (§4.3): Dense to 2F, then Tensor of the halves.
public struct CLTensorDense<T: CLReal> {
    public let dense: CLEquivariantDense<T>
    public let tensor: CLTensor<T>
    public var outputs: Int { tensor.features }

    public init(_ context: CLContext, _ weights: TensorDenseWeights) throws {
        dense = try CLEquivariantDense(context, weights.dense)
        tensor = try CLTensor(context, weights.tensor)
        precondition(dense.outputs == 2 * tensor.features)
    }
}

/// e3x MessagePass (§5): filter Dense on the edge basis, Tensor(filter, source node).
public struct CLMessagePass<T: CLReal> {
    public let filter: CLEquivariantDense<T>
    public let tensor: CLTensor<T>

    public init(_ context: CLContext, _ weights: MessagePassWeights) throws {
        filter = try CLEquivariantDense(context, weights.filter)
        tensor = try CLTensor(context, weights.tensor)
    }
}
