import LoremIO

/// Steps 1–8 of `Lorem.__call__` (docs/MATH.md §7.2): embeddings, the species-pair radial
/// coefficients, node initialisation, the first scalar and spherical updates and the first energy.
public struct InitialStageWeights: Sendable {
    public let embedding: [Double]            // [100, n_s], indexed by Z
    public let radial: MLPWeights             // RadialCoefficients_0/MLP_0: 2n_s → d → K·d
    public let nodeInit: DenseWeights?        // absent when initialize_node_features = false
    public let scalarMessage: DenseWeights    // d → d, no bias
    public let scalarUpdate: UpdateWeights
    public let coefficients: DenseWeights     // d → (L+1)s, no bias
    public let tensorDense: TensorDenseWeights
    public let sphericalUpdate: UpdateWeights // input (L+1)s
    public let energy: MLPWeights             // d → d → d → 1
}

/// The equivariant half of one message-passing iteration (§7.2 step 9).
public struct EquivariantInteractionWeights: Sendable {
    public let coefficients: DenseWeights
    public let messagePass: MessagePassWeights
    public let nodeDense: EquivariantDenseWeights
    public let messageDense: EquivariantDenseWeights
    public let tensor: TensorWeights
    public let update: UpdateWeights
}

/// One message-passing iteration (§7.2 step 9).
public struct InteractionWeights: Sendable {
    public let radial: MLPWeights             // 2d → d → K·d
    public let scalarMessage: DenseWeights
    public let scalarUpdate: UpdateWeights
    public let equivariant: EquivariantInteractionWeights?
    public let energy: MLPWeights
}

/// The long-range branch (§7.2 step 10).
public struct LongRangeWeights: Sendable {
    public let charges: MLPWeights            // d → 2d → 1
    public let sphericalCharges: TensorDenseWeights  // s → 1, degree L → L_lr
    public let potentialDense: EquivariantDenseWeights  // 1 → s per degree ≤ L_lr
    public let tensor: TensorWeights          // (L_lr, L) → max(L_lr, L)
    public let update: UpdateWeights          // input 1 + (L+1)s
    public let energy: MLPWeights
}

/// All weights of a `Lorem` model, looked up by their flax names in creation order
/// (docs/MATH.md §7.3) and shape-checked against the config.
public struct LoremWeights: Sendable {
    public let initial: InitialStageWeights
    public let interactions: [InteractionWeights]
    public let longRange: LongRangeWeights?
    /// LoremBEC's tensor heads (docs/MATH.md §12.1), in creation order: after the initial
    /// layers, after each message-passing iteration, and (with `lr`) after the long range; empty
    /// for `Lorem`.
    public let tensorPredictors: [TensorPredictorWeights]

    /// Weights from a decoded checkpoint (`file` names it in errors).
    public init(config: LoremConfig, parameters: [String: ParamArray], file: String) throws {
        try self.init(config: config, reader: ParameterReader(parameters: parameters, file: file))
    }

    /// Random weights for any config (tests and benchmarks): kernels ~ N(0, 1/fan_in), biases and
    /// LayerNorm offsets ~ N(0, 0.1²), LayerNorm scales ~ 1 + N(0, 0.1²), embeddings ~ N(0, 1).
    public static func random(config: LoremConfig, seed: UInt64) -> LoremWeights {
        var rng = SplitMix64(seed: seed)
        let reader = ParameterReader { name, shape in
            let n = shape.reduce(1, *)
            let leaf = name.split(separator: "/").last ?? ""
            let fanIn = shape.count == 2 ? Double(shape[0]) : 1
            return (0..<n).map { _ in
                let z = rng.normal()
                switch leaf {
                case "embedding": return z
                case "scale": return 1 + 0.1 * z
                case "bias": return 0.1 * z
                default: return shape.count == 7 ? z / 3 : z / fanIn.squareRoot()
                }
            }
        }
        // The reader cannot fail: every name is produced on demand.
        return try! LoremWeights(config: config, reader: reader)
    }

    init(config c: LoremConfig, reader p: ParameterReader) throws {
        let (d, s, L, K) = (c.numFeatures, c.numSphericalFeatures, c.maxDegree, c.numRadial)
        var names = FlaxNamer()
        let initial = InitialStageWeights(
            embedding: try p.array("Initial_0/ChemicalEmbedding_0/Embed_0/embedding", shape: [100, c.numSpecies]),
            radial: try p.mlp(names.next("RadialCoefficients") + "/MLP_0", inputs: 2 * c.numSpecies, features: [d, K * d]),
            nodeInit: c.initializeNodeFeatures
                ? try p.dense(names.next("Dense"), inputs: c.numSpecies, outputs: d, bias: true) : nil,
            scalarMessage: try p.dense(names.next("Dense"), inputs: d, outputs: d, bias: false),
            scalarUpdate: try p.update(names.next("Update"), inputs: d, features: d),
            coefficients: try p.dense(names.next("Dense"), inputs: d, outputs: (L + 1) * s, bias: false),
            tensorDense: try p.tensorDense(names.next("TensorDense"), maxDegree: L, inputs: s, outputs: s, outputDegree: L),
            sphericalUpdate: try p.update(names.next("Update"), inputs: (L + 1) * s, features: d),
            energy: try p.mlp(names.next("MLP"), inputs: d, features: [d, d, 1]))
        var interactions: [InteractionWeights] = []
        for _ in 0..<c.numMessagePassing {
            let radial = try p.mlp(names.next("RadialCoefficients") + "/MLP_0", inputs: 2 * d, features: [d, K * d])
            let message = try p.dense(names.next("Dense"), inputs: d, outputs: d, bias: false)
            let update = try p.update(names.next("Update"), inputs: d, features: d)
            var equivariant: EquivariantInteractionWeights? = nil
            if c.equivariantMessagePassing {
                let coefficients = try p.dense(names.next("Dense"), inputs: d, outputs: (L + 1) * s, bias: false)
                let mpName = names.next("MessagePass")
                let messagePass = MessagePassWeights(
                    filter: try p.equivariantDense(mpName + "/filter", maxDegree: L, inputs: s, outputs: s),
                    tensor: try p.tensor(mpName + "/tensor", L, L, L, features: s))
                let tensorName = names.next("Tensor")  // constructed before its arguments in Python
                let nodeDense = try p.equivariantDense(names.next("Dense"), maxDegree: L, inputs: s, outputs: s)
                let messageDense = try p.equivariantDense(names.next("Dense"), maxDegree: L, inputs: s, outputs: s)
                equivariant = EquivariantInteractionWeights(
                    coefficients: coefficients, messagePass: messagePass, nodeDense: nodeDense,
                    messageDense: messageDense, tensor: try p.tensor(tensorName, L, L, L, features: s),
                    update: try p.update(names.next("Update"), inputs: (L + 1) * s, features: d))
            }
            interactions.append(InteractionWeights(
                radial: radial, scalarMessage: message, scalarUpdate: update, equivariant: equivariant,
                energy: try p.mlp(names.next("MLP"), inputs: d, features: [d, d, 1])))
        }
        var longRange: LongRangeWeights? = nil
        if c.longRange {
            let Llr = c.maxDegreeLR
            let charges = try p.mlp(names.next("MLP"), inputs: d, features: [2 * d, 1])
            let sphericalCharges = try p.tensorDense(names.next("TensorDense"), maxDegree: L, inputs: s, outputs: 1, outputDegree: Llr)
            let potentialDense = try p.equivariantDense(names.next("Dense"), maxDegree: Llr, inputs: 1, outputs: s)
            let tensor = try p.tensor(names.next("Tensor"), Llr, L, max(Llr, L), features: s)
            longRange = LongRangeWeights(
                charges: charges, sphericalCharges: sphericalCharges, potentialDense: potentialDense, tensor: tensor,
                update: try p.update(names.next("Update"), inputs: 1 + (L + 1) * s, features: d),
                energy: try p.mlp(names.next("MLP"), inputs: d, features: [d, d, 1]))
        }
        // The predictors have their own flax counter (PerParticleTensorPredictor_k): reading them
        // after the rest gives the same names as creating them in between.
        var predictors: [TensorPredictorWeights] = []
        if c.bornEffectiveCharges {
            var heads = FlaxNamer()
            for _ in 0...c.numMessagePassing {
                predictors.append(try p.tensorPredictor(heads.next("PerParticleTensorPredictor"), maxDegree: L, inputs: s, features: d))
            }
            if c.longRange {
                predictors.append(try p.tensorPredictor(heads.next("PerParticleTensorPredictor"),
                                                        maxDegree: max(L, c.maxDegreeLR), inputs: s, features: d))
            }
        }
        self.initial = initial
        self.interactions = interactions
        self.longRange = longRange
        self.tensorPredictors = predictors
    }
}
