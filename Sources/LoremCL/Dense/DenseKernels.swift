import LoremModel

/// The plain layers on the device (Kernels/dense.cl), mirroring LoremReference's DenseOps op
/// for op so each can be checked against it: Dense, silu, MLP, LayerNorm and their backwards.
///
/// Operands are row-major buffers with an explicit row count; a buffer may be larger than the
/// rows × columns used (reusable workspaces). Methods that return a buffer allocate it; the
/// `into:` forms write into the caller's. All launches are on the context's in-order queue:
/// nothing waits until a `download`.
public final class DenseKernels<T: CLReal> {
    public let context: CLContext
    public let variant: KernelShape
    private let forward, siluForward, siluBackward, normForward, normBackward: CLKernel
    /// The tiled shape's x̄ = ȳ·Wᵀ; the rows shape runs `forward` on Wᵀ instead.
    private let tiledBackward: CLKernel?

    /// Builds (or reuses) the dense program for precision `T`; `variant` defaults to the
    /// device's preferred one, tests force each.
    public init(context: CLContext, variant: KernelShape? = nil) throws {
        self.context = context
        let variant = variant ?? .preferred(for: context.device)
        self.variant = variant
        let program = try context.program(family: "dense", precision: T.self, defines: variant == .tiled ? ["DENSE_TILED"] : [])
        forward = try program.kernel("dense_forward")
        tiledBackward = variant == .tiled ? try program.kernel("dense_backward") : nil
        siluForward = try program.kernel("silu_forward")
        siluBackward = try program.kernel("silu_backward")
        normForward = try program.kernel("layer_norm_forward")
        normBackward = try program.kernel("layer_norm_backward")
    }

    // MARK: Dense

    /// y = x·W (+ b) for `rows` rows.
    public func dense(_ x: CLBuffer<T>, rows: Int, _ layer: CLDenseLayer<T>, into y: CLBuffer<T>) throws {
        try x.require(rows, layer.inputs, "dense input")
        try y.require(rows, layer.outputs, "dense output")
        guard rows > 0 else { return }
        let (m, k, n) = (Int32(rows), Int32(layer.inputs), Int32(layer.outputs))
        let bias: any CLKernelArgument = layer.bias ?? CLNullBuffer()
        let hasBias = Int32(layer.bias == nil ? 0 : 1)
        switch variant {
        case .rows:
            try forward.launch(global: [(layer.outputs + 15) / 16, (rows + 5) / 6], x, layer.kernel, bias, hasBias, y, m, k, n)
        case .tiled:
            try forward.launch(global: [roundUp(layer.outputs, 16), roundUp(rows, 16)], local: [16, 16],
                               x, layer.kernel, bias, hasBias, y, m, k, n)
        }
    }

    public func dense(_ x: CLBuffer<T>, rows: Int, _ layer: CLDenseLayer<T>) throws -> CLBuffer<T> {
        let y = try CLBuffer<T>(context, shape: [rows, layer.outputs], name: "dense layer output")
        try dense(x, rows: rows, layer, into: y)
        return y
    }

    /// x̄ = ȳ·Wᵀ (the weights are constants: only the input cotangent is needed).
    public func denseBackward(_ yBar: CLBuffer<T>, rows: Int, _ layer: CLDenseLayer<T>, into xBar: CLBuffer<T>)
        throws
    {
        try yBar.require(rows, layer.outputs, "dense backward input")
        try xBar.require(rows, layer.inputs, "dense backward output")
        guard rows > 0 else { return }
        let (m, k, n) = (Int32(rows), Int32(layer.inputs), Int32(layer.outputs))
        switch variant {
        case .rows:
            // x̄ = ȳ·Wᵀ as a forward product on Wᵀ (no bias): 16 outputs per work-item, each
            // summed over n in increasing order, no 16-lane reductions.
            try forward.launch(global: [(layer.inputs + 15) / 16, (rows + 5) / 6], yBar, layer.transposed,
                               CLNullBuffer(), Int32(0), xBar, m, n, k)
        case .tiled:
            try tiledBackward!.launch(global: [roundUp(layer.inputs, 16), roundUp(rows, 16)], local: [16, 16],
                                      yBar, layer.kernel, xBar, m, k, n)
        }
    }

    public func denseBackward(_ yBar: CLBuffer<T>, rows: Int, _ layer: CLDenseLayer<T>) throws -> CLBuffer<T> {
        let xBar = try CLBuffer<T>(context, shape: [rows, layer.inputs], name: "dense layer input cotangent")
        try denseBackward(yBar, rows: rows, layer, into: xBar)
        return xBar
    }

    // MARK: silu

    /// h = silu(z) on the first `count` elements.
    public func silu(_ z: CLBuffer<T>, count: Int, into h: CLBuffer<T>) throws {
        try z.require(count, 1, "silu input")
        try h.require(count, 1, "silu output")
        guard count > 0 else { return }
        try siluForward.launch(global: [roundUp((count + 7) / 8, 64)], z, h, Int32(count))
    }

    /// g ← g · silu′(z) on the first `count` elements.
    public func siluBackward(_ g: CLBuffer<T>, preActivation z: CLBuffer<T>, count: Int) throws {
        try g.require(count, 1, "silu backward cotangent")
        try z.require(count, 1, "silu backward pre-activation")
        guard count > 0 else { return }
        try siluBackward.launch(global: [roundUp((count + 7) / 8, 64)], g, z, Int32(count))
    }

    // MARK: MLP

    /// Dense → silu → … → Dense, keeping the hidden pre-activations in `cache`.
    public func mlp(_ x: CLBuffer<T>, rows: Int, _ mlp: CLMLP<T>, cache: inout CLMLPCache<T>) throws -> CLBuffer<T> {
        let (y, pre) = try forward(x, rows: rows, mlp.layers[...], keeping: cache.keeping == .preActivations)
        cache.preActivations = pre
        cache.input = cache.keeping == .input ? x : nil
        return y
    }

    public func mlp(_ x: CLBuffer<T>, rows: Int, _ mlp: CLMLP<T>) throws -> CLBuffer<T> {
        try forward(x, rows: rows, mlp.layers[...], keeping: false).output
    }

    /// The output of `layers` (Dense → silu → … → Dense) and, with `keeping`, each hidden
    /// layer's pre-activation.
    private func forward(_ x: CLBuffer<T>, rows: Int, _ layers: ArraySlice<CLDenseLayer<T>>, keeping: Bool) throws
        -> (output: CLBuffer<T>, preActivations: [CLBuffer<T>])
    {
        var h = x, kept: [CLBuffer<T>] = []
        for (index, layer) in layers.enumerated() {
            let z = try dense(h, rows: rows, layer)
            if index == layers.count - 1 { return (z, kept) }
            if keeping { kept.append(z) }
            h = try CLBuffer<T>(context, shape: [rows, layer.outputs], name: "MLP hidden activations")
            try silu(z, count: rows * layer.outputs, into: h)
        }
        return (h, kept)
    }

    /// The hidden layers' pre-activations of the MLP at input x, as `mlp` computes them: the
    /// forward of every layer but the last, whose own output is the last hidden layer's.
    public func preActivations(_ x: CLBuffer<T>, rows: Int, _ mlp: CLMLP<T>) throws -> [CLBuffer<T>] {
        guard mlp.layers.count > 1 else { return [] }
        let (last, kept) = try forward(x, rows: rows, mlp.layers.dropLast(), keeping: true)
        return kept + [last]
    }

    /// x̄ of the MLP from ȳ and the forward's cache.
    public func mlpBackward(_ yBar: CLBuffer<T>, rows: Int, _ mlp: CLMLP<T>, cache: CLMLPCache<T>) throws
        -> CLBuffer<T>
    {
        var pre = cache.preActivations
        if cache.keeping == .input {
            guard let input = cache.input else { throw CLError.sizeMismatch("MLP backward: the cache holds no forward pass") }
            pre = try preActivations(input, rows: rows, mlp)
        }
        guard pre.count == mlp.layers.count - 1 else {
            throw CLError.sizeMismatch("MLP backward: cache has \(pre.count) pre-activations for \(mlp.layers.count) layers")
        }
        var g = yBar
        for index in stride(from: mlp.layers.count - 1, through: 0, by: -1) {
            let layer = mlp.layers[index]
            g = try denseBackward(g, rows: rows, layer)
            if index > 0 {
                try siluBackward(g, preActivation: pre[index - 1], count: rows * layer.inputs)
                if cache.keeping == .input { pre.removeLast() }  // its last use: a recomputed one is freed
            }
        }
        return g
    }

    // MARK: LayerNorm

    /// flax LayerNorm (fast variance, ε = 1e-6), keeping x − μ and rsqrt(ν + ε) in `cache`.
    public func layerNorm(_ x: CLBuffer<T>, rows: Int, _ norm: CLLayerNorm<T>, cache: inout CLLayerNormCache<T>)
        throws -> CLBuffer<T>
    {
        let f = norm.features
        try x.require(rows, f, "layer norm input")
        let y = try CLBuffer<T>(context, count: rows * f)
        let centered = try CLBuffer<T>(context, count: rows * f)
        let inverse = try CLBuffer<T>(context, count: rows)
        cache.centered = centered
        cache.inverse = inverse
        guard rows > 0 else { return y }
        try normForward.launch(global: [roundUp(rows, 16)], x, norm.scale, norm.bias, y, centered, inverse,
                               Int32(rows), Int32(f), T(LayerNormWeights.epsilon))
        return y
    }

    public func layerNormBackward(_ yBar: CLBuffer<T>, rows: Int, _ norm: CLLayerNorm<T>, cache: CLLayerNormCache<T>)
        throws -> CLBuffer<T>
    {
        let f = norm.features
        guard let centered = cache.centered, let inverse = cache.inverse else {
            throw CLError.sizeMismatch("layer norm backward: the cache holds no forward pass")
        }
        try yBar.require(rows, f, "layer norm backward input")
        try centered.require(rows, f, "layer norm backward cache")
        try inverse.require(rows, 1, "layer norm backward cache")
        let xBar = try CLBuffer<T>(context, count: rows * f)
        guard rows > 0 else { return xBar }
        try normBackward.launch(global: [roundUp(rows, 16)], yBar, norm.scale, centered, inverse, xBar,
                                Int32(rows), Int32(f))
        return xBar
    }
}

@inline(__always) func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }
