/// Weight containers for each kind of layer LOREM uses. Matrices are row-major [in, out], as flax
/// stores kernels, so y = x·W is `y[g] = Σ_f x[f] · kernel[f·out + g]`.

/// flax `nn.Dense`: y = x·W (+ b) (docs/MATH.md §6).
public struct DenseWeights: Sendable {
    public let inputs: Int
    public let outputs: Int
    public let kernel: [Double]
    public let bias: [Double]?
}

/// LOREM `MLP`: Dense → silu → … → Dense, all with bias (docs/MATH.md §6).
public struct MLPWeights: Sendable {
    public let layers: [DenseWeights]
    public var inputs: Int { layers[0].inputs }
    public var outputs: Int { layers[layers.count - 1].outputs }
}

/// flax `nn.LayerNorm` with ε = 1e-6 (docs/MATH.md §6).
public struct LayerNormWeights: Sendable {
    public let scale: [Double]
    public let bias: [Double]
    public static let epsilon = 1e-6
}

/// LOREM `Update(d)`: x ← LN0(x + MLP0(y)); x ← LN1(x + MLP1(x)) (docs/MATH.md §7.1).
public struct UpdateWeights: Sendable {
    public let mlp0: MLPWeights
    public let norm0: LayerNormWeights
    public let mlp1: MLPWeights
    public let norm1: LayerNormWeights
}

/// e3x `Dense` without bias on an equivariant array: one [F_in, F_out] kernel per degree
/// (docs/MATH.md §3).
public struct EquivariantDenseWeights: Sendable {
    public let perDegree: [DenseWeights]
    public var maxDegree: Int { perDegree.count - 1 }
    public var inputs: Int { perDegree[0].inputs }
    public var outputs: Int { perDegree[0].outputs }
}

/// e3x `Tensor` (docs/MATH.md §4.2): per-path, per-feature weights W[l1,l2,l3,f] and the sparse
/// coupling table of the surviving paths.
public struct TensorWeights: Sendable {
    public let maxDegree1: Int, maxDegree2: Int, maxDegree3: Int
    public let features: Int
    /// kernel[((l1·(L2+1) + l2)·(L3+1) + l3)·F + f], i.e. the flax kernel with its size-1 axes dropped.
    public let kernel: [Double]
    public let coupling: CouplingTable

    @inlinable public func weightIndex(_ l1: Int, _ l2: Int, _ l3: Int) -> Int {
        ((l1 * (maxDegree2 + 1) + l2) * (maxDegree3 + 1) + l3) * features
    }
}

/// e3x `TensorDense`: Dense to 2·F_out, split in halves, Tensor of the halves (docs/MATH.md §4.3).
public struct TensorDenseWeights: Sendable {
    public let dense: EquivariantDenseWeights
    public let tensor: TensorWeights
    public var outputs: Int { tensor.features }
}

/// e3x `MessagePass`: filter Dense on the edge basis, Tensor(filter, source node) (docs/MATH.md §5).
public struct MessagePassWeights: Sendable {
    public let filter: EquivariantDenseWeights
    public let tensor: TensorWeights
}

/// LoremBEC's `PerParticleTensorPredictor(features=d)` (docs/MATH.md §12.2): three e3x Dense
/// layers with bias (on degree 0 only) and gated silu between them, then a TensorDense to one
/// even-parity 0 ⊕ 1 ⊕ 2 output whose nine slots map to a 3×3 tensor.
public struct TensorPredictorWeights: Sendable {
    /// Dense_0 (s → d), Dense_1 and Dense_2 (d → d); `perDegree[0].bias` is the 0+ bias.
    public let dense: [EquivariantDenseWeights]
    /// TensorDense_0/dense: d → 2 per degree, 0+ bias; feature 0 is p, feature 1 is q.
    public let halves: EquivariantDenseWeights
    /// TensorDense_0/tensor/kernel[0, l1, 0, l2, 0, l3, 0] at [(l1·(L'+1) + l2)·3 + l3]: the
    /// even-parity output slot (the odd one is computed by e3x and dropped).
    public let kernel: [Double]
    public let coupling: BornChargeCoupling
    public var maxDegree: Int { halves.maxDegree }
}
