import LoremIO

/// Looks up flax parameters by name and checks every shape against what the config implies, so a
/// checkpoint that does not match its model.yaml fails at load with the offending name.
struct ParameterReader {
    /// Returns the values of the named array, which must have the given shape.
    let fetch: (_ name: String, _ shape: [Int]) throws -> [Double]

    /// Reads from a decoded checkpoint. flax stores everything under a top-level "params"
    /// collection; names are accepted with or without it.
    init(parameters: [String: ParamArray], file: String) {
        fetch = { name, shape in
            guard let a = parameters["params/" + name] ?? parameters[name] else {
                throw ModelError.badParameter(file: file, name: name, reason: "missing")
            }
            guard a.shape == shape else {
                throw ModelError.badParameter(
                    file: file, name: name, reason: "shape \(a.shape), expected \(shape) from model.yaml")
            }
            // A diverged training run or a corrupted file: refused here, not discovered as NaN
            // energies in every output.
            if let k = a.values.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.badParameter(
                    file: file, name: name,
                    reason: "holds a non-finite value (\(a.values[k])) at flat index \(k) of \(a.values.count): the checkpoint is corrupt or its training diverged")
            }
            return a.values
        }
    }

    init(fetch: @escaping (_ name: String, _ shape: [Int]) throws -> [Double]) {
        self.fetch = fetch
    }

    func array(_ name: String, shape: [Int]) throws -> [Double] {
        try fetch(name, shape)
    }

    func dense(_ path: String, inputs: Int, outputs: Int, bias: Bool) throws -> DenseWeights {
        DenseWeights(
            inputs: inputs, outputs: outputs,
            kernel: try array(path + "/kernel", shape: [inputs, outputs]),
            bias: bias ? try array(path + "/bias", shape: [outputs]) : nil)
    }

    /// LOREM `MLP(features)`: `path/Dense_k`, all with bias.
    func mlp(_ path: String, inputs: Int, features: [Int]) throws -> MLPWeights {
        var layers: [DenseWeights] = []
        var fin = inputs
        for (k, f) in features.enumerated() {
            layers.append(try dense("\(path)/Dense_\(k)", inputs: fin, outputs: f, bias: true))
            fin = f
        }
        return MLPWeights(layers: layers)
    }

    func layerNorm(_ path: String, features: Int) throws -> LayerNormWeights {
        LayerNormWeights(
            scale: try array(path + "/scale", shape: [features]),
            bias: try array(path + "/bias", shape: [features]))
    }

    func update(_ path: String, inputs: Int, features d: Int) throws -> UpdateWeights {
        UpdateWeights(
            mlp0: try mlp(path + "/MLP_0", inputs: inputs, features: [2 * d, d]),
            norm0: try layerNorm(path + "/LayerNorm_0", features: d),
            mlp1: try mlp(path + "/MLP_1", inputs: d, features: [2 * d, d]),
            norm1: try layerNorm(path + "/LayerNorm_1", features: d))
    }

    /// e3x Dense: submodules "0+", "1-", "2+", … (parity-labelled degrees); with `bias`, e3x's
    /// default, only "0+" has one (a bias on l > 0 would break equivariance).
    func equivariantDense(_ path: String, maxDegree: Int, inputs: Int, outputs: Int, bias: Bool = false) throws
        -> EquivariantDenseWeights
    {
        EquivariantDenseWeights(perDegree: try (0...maxDegree).map { l in
            try dense("\(path)/\(l)\(l % 2 == 0 ? "+" : "-")", inputs: inputs, outputs: outputs, bias: bias && l == 0)
        })
    }

    /// LoremBEC's `PerParticleTensorPredictor(features=d)` on a degree-L input with s features
    /// (docs/MATH.md §12.3). Its TensorDense includes pseudotensors: the tensor kernel has an
    /// output parity axis of 2, of which the even slot is kept.
    func tensorPredictor(_ path: String, maxDegree L: Int, inputs s: Int, features d: Int) throws -> TensorPredictorWeights {
        let kernel = try array(path + "/TensorDense_0/tensor/kernel", shape: [1, L + 1, 1, L + 1, 2, 3, 1])
        var even = [Double](repeating: 0, count: (L + 1) * (L + 1) * 3)
        for l1 in 0...L { for l2 in 0...L { for l3 in 0..<3 { even[(l1 * (L + 1) + l2) * 3 + l3] = kernel[((l1 * (L + 1) + l2) * 2) * 3 + l3] } } }
        return TensorPredictorWeights(
            dense: [try equivariantDense(path + "/Dense_0", maxDegree: L, inputs: s, outputs: d, bias: true),
                    try equivariantDense(path + "/Dense_1", maxDegree: L, inputs: d, outputs: d, bias: true),
                    try equivariantDense(path + "/Dense_2", maxDegree: L, inputs: d, outputs: d, bias: true)],
            halves: try equivariantDense(path + "/TensorDense_0/dense", maxDegree: L, inputs: d, outputs: 2, bias: true),
            kernel: even, coupling: BornChargeCoupling(maxDegree: L))
    }

    /// e3x Tensor: kernel of shape (1, L1+1, 1, L2+1, 1, L3+1, F).
    func tensor(_ path: String, _ L1: Int, _ L2: Int, _ L3: Int, features: Int) throws -> TensorWeights {
        let k = try array(path + "/kernel", shape: [1, L1 + 1, 1, L2 + 1, 1, L3 + 1, features])
        return TensorWeights(
            maxDegree1: L1, maxDegree2: L2, maxDegree3: L3, features: features, kernel: k,
            coupling: CouplingTable(maxDegree1: L1, maxDegree2: L2, maxDegree3: L3))
    }

    func tensorDense(_ path: String, maxDegree L: Int, inputs: Int, outputs: Int, outputDegree: Int) throws
        -> TensorDenseWeights
    {
        TensorDenseWeights(
            dense: try equivariantDense(path + "/dense", maxDegree: L, inputs: inputs, outputs: 2 * outputs),
            tensor: try tensor(path + "/tensor", L, L, outputDegree, features: outputs))
    }
}
