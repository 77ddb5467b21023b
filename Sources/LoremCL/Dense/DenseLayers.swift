import LoremModel

/// Device copies of the plain-layer weights (LoremModel's DenseWeights, MLPWeights,
/// LayerNormWeights) in precision `T`, uploaded once at model load.

public struct CLDenseLayer<T: CLReal> {
    public let inputs: Int
    public let outputs: Int
    /// [inputs, outputs] row-major, as flax stores it.
    public let kernel: CLBuffer<T>
    /// Wᵀ, [outputs, inputs] row-major: the rows-shaped backward is the forward's kernel on it.
    public let transposed: CLBuffer<T>
    public let bias: CLBuffer<T>?

    public init(_ context: CLContext, _ weights: DenseWeights) throws {
        inputs = weights.inputs
        outputs = weights.outputs
        kernel = try CLBuffer(context, T.converting(weights.kernel))
        transposed = try CLBuffer(context, T.converting(Self.transpose(weights)))
        bias = try weights.bias.map { try CLBuffer(context, T.converting($0)) }
    }

    /// Wᵀ in Double, outside the generic context: an index map over a Range in generic code ran
    /// unspecialised (witness calls per element), 0.19 s of a predict's start for the default
    /// model.
    private static func transpose(_ weights: DenseWeights) -> [Double] {
        let (k, n) = (weights.inputs, weights.outputs)
        var out = [Double](repeating: 0, count: k * n)
        for r in 0..<k {
            for c in 0..<n { out[c * k + r] = weights.kernel[r * n + c] }
        }
        return out
    }
}

public struct CLMLP<T: CLReal> {
    public let layers: [CLDenseLayer<T>]
    public var inputs: Int { layers[0].inputs }
    public var outputs: Int { layers[layers.count - 1].outputs }

    public init(_ context: CLContext, _ weights: MLPWeights) throws {
        layers = try weights.layers.map { try CLDenseLayer(context, $0) }
    }
}

public struct CLLayerNorm<T: CLReal> {
    public let features: Int
    public let scale: CLBuffer<T>
    public let bias: CLBuffer<T>

    public init(_ context: CLContext, _ weights: LayerNormWeights) throws {
        features = weights.scale.count
        scale = try CLBuffer(context, T.converting(weights.scale))
        bias = try CLBuffer(context, T.converting(weights.bias))
    }
}

/// What `DenseKernels.mlp` keeps for its backward: each hidden layer's pre-activation, or only
/// the MLP's input, from which `mlpBackward` recomputes them (the same kernels on the same
/// input: the same bits). Why the input: a pre-activation is [rows, hidden], 256 columns for
/// lorem-jax's defaults, the input [rows, d], 128, and often held anyway by whoever made it;
/// the per-atom MLPs' pre-activations were 94.5 MiB of the engine's peak at 13,824 atoms of
/// NaCl. The caller must not overwrite the input before the backward.
public struct CLMLPCache<T: CLReal> {
    public enum Keeping: Sendable { case preActivations, input }
    public let keeping: Keeping
    public var preActivations: [CLBuffer<T>] = []
    public var input: CLBuffer<T>? = nil
    public init(keeping: Keeping = .preActivations) { self.keeping = keeping }
}

/// What `DenseKernels.layerNorm` keeps for its backward: x − μ and rsqrt(ν + ε) per row.
public struct CLLayerNormCache<T: CLReal> {
    public var centered: CLBuffer<T>?
    public var inverse: CLBuffer<T>?
    public init() {}
}
