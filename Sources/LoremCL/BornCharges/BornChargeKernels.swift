import LoremModel

/// LoremBEC's tensor heads on the device (Kernels/bec.cl), mirroring LoremReference's
/// TensorPredictor step for step: the e3x Dense layers are EquivariantKernels' dense, followed
/// here by the degree-0 bias (and gated silu), and the head's coupling and 3×3 map. Forward only.
public final class BornChargeKernels<T: CLReal> {
    public let context: CLContext
    let equivariant: EquivariantKernels<T>
    private let bias, head: CLKernel

    public init(context: CLContext, equivariant: EquivariantKernels<T>) throws {
        self.context = context
        self.equivariant = equivariant
        let program = try context.program(family: "bec", precision: T.self)
        bias = try program.kernel("degree0_bias")
        head = try program.kernel("born_charge_head")
    }

    /// One predictor on X [rows, (L'+1)², s], its 3×3 tensors added to `apt` [rows, 9]:
    /// X¹ = g(Dense_0 X + b), X² = g(Dense_1 X¹ + b), X³ = Dense_2 X² + b, pq = Dense X³ + b, head.
    public func accumulate(_ x: CLBuffer<T>, rows: Int, _ w: CLTensorPredictor<T>, into apt: CLBuffer<T>) throws {
        try apt.require(rows, 9, "Born charges")
        var h = x
        for (k, layer) in w.dense.enumerated() {
            h = try equivariant.dense(h, rows: rows, layer.dense)
            try addBias(h, rows: rows, layer, gate: k < w.dense.count - 1)
        }
        let pq = try equivariant.dense(h, rows: rows, w.halves.dense)
        try addBias(pq, rows: rows, w.halves, gate: false)
        guard rows > 0 else { return }
        try head.launch(global: [rows], pq, Int32(w.halves.dense.slots), w.offsets, w.pairs, w.coupled, apt, Int32(rows))
    }

    private func addBias(_ y: CLBuffer<T>, rows: Int, _ layer: CLBiasedEquivariantDense<T>, gate: Bool) throws {
        guard rows > 0 else { return }
        try bias.launch(global: [layer.dense.outputs, rows], y, layer.bias, Int32(rows), Int32(layer.dense.slots),
                        Int32(layer.dense.outputs), Int32(gate ? 1 : 0))
    }
}

/// An e3x Dense with its degree-0 bias (e3x's default; LoremBEC's heads).
public struct CLBiasedEquivariantDense<T: CLReal> {
    public let dense: CLEquivariantDense<T>
    public let bias: CLBuffer<T>

    public init(_ context: CLContext, _ weights: EquivariantDenseWeights) throws {
        dense = try CLEquivariantDense(context, weights)
        guard let b = weights.perDegree[0].bias else { throw CLError.unsupported("an e3x Dense without its degree-0 bias") }
        bias = try CLBuffer(context, T.converting(b))
    }
}

/// One `PerParticleTensorPredictor` uploaded (docs/MATH.md §12.2): the three biased Dense
/// layers, the halves' Dense, and the coupling entries grouped by output slot c (CSR `offsets`,
/// 10 entries), each with its (a, b) and W[path]·C[a,b,c] formed once in float64.
public struct CLTensorPredictor<T: CLReal> {
    public let dense: [CLBiasedEquivariantDense<T>]
    public let halves: CLBiasedEquivariantDense<T>
    let offsets: CLBuffer<Int32>
    let pairs: CLBuffer<SIMD2<Int32>>
    let coupled: CLBuffer<T>

    public init(_ context: CLContext, _ w: TensorPredictorWeights) throws {
        dense = try w.dense.map { try CLBiasedEquivariantDense(context, $0) }
        halves = try CLBiasedEquivariantDense(context, w.halves)
        let L = w.maxDegree
        // BornChargeCoupling's entries are sorted by c, so grouping keeps table order in a group.
        let table = w.coupling.entries
        let groups = CSRGroups(keys: table.map(\.c), groups: 9)
        offsets = try CLBuffer(context, groups.offsets)
        pairs = try CLBuffer(context, groups.members.map { SIMD2(Int32(table[Int($0)].a), Int32(table[Int($0)].b)) })
        coupled = try CLBuffer(context, groups.members.map { m -> T in
            let e = table[Int(m)]
            return T(w.kernel[(e.l1 * (L + 1) + e.l2) * 3 + e.l3] * e.value)
        })
    }
}
