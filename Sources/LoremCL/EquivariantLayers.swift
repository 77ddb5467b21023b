import LoremModel

/// Device copies of the equivariant-layer weights (LoremModel's EquivariantDenseWeights,
/// TensorWeights, TensorDenseWeights, MessagePassWeights) in precision `T`, uploaded once at
/// model load.

/// e3x Dense without bias (LOREM_MATH.md §3): the per-degree [inputs, outputs] kernels back to
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
        kernel = try CLBuffer(context, weights.perDegree.flatMap { $0.kernel.map { T($0) } })
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
    /// Entry ids grouped by output slot c (forward), first slot a (x̄) and second slot b (ȳ).
    let byOutput: CLEntryGroups, byFirst: CLEntryGroups, bySecond: CLEntryGroups

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
        kernel = try CLBuffer(context, weights.kernel.map { T($0) })
        entries = try CLBuffer(context, table.flatMap { e in
            [e.a, e.b, e.c, weights.weightIndex(e.l1, e.l2, e.l3)].map { Int32($0) }
        })
        values = try CLBuffer(context, table.map { T($0.value) })
        let slots = { (l: Int) in (l + 1) * (l + 1) }
        byOutput = try CLEntryGroups(context, CSRGroups(keys: table.map(\.c), groups: slots(maxDegree3)))
        byFirst = try CLEntryGroups(context, CSRGroups(keys: table.map(\.a), groups: slots(maxDegree1)))
        bySecond = try CLEntryGroups(context, CSRGroups(keys: table.map(\.b), groups: slots(maxDegree2)))
    }
}

/// Coupling entry ids grouped by one slot (CSR), on the device.
struct CLEntryGroups {
    let offsets: CLBuffer<Int32>
    let ids: CLBuffer<Int32>

    init(_ context: CLContext, _ groups: CSRGroups) throws {
        offsets = try CLBuffer(context, groups.offsets)
        ids = try CLBuffer(context, groups.members)
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
