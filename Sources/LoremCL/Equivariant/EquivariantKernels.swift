import LoremModel

/// e3x's equivariant layers on the device (Kernels/equivariant.cl), mirroring LoremReference's
/// EquivariantOps op for op so each can be checked against it: Dense per degree (docs/MATH.md
/// §3), Tensor (§4.2), TensorDense (§4.3), MessagePass (§5) and the degree-norm features
/// (§7.1), each with its backward.
///
/// Spherical arrays are [rows, (L+1)², F] row-major buffers (element (i, a, f) at
/// (i·slots + a)·F + f) with the row count passed explicitly; a buffer may be larger than
/// what is used. Methods that return buffers allocate them; `into:` forms write the caller's.
/// Everything is enqueued on the context's in-order queue and nothing waits until a download.
/// The pair plumbing (segment sums, gathers, radial contraction, edge basis) is `pairs`.
public final class EquivariantKernels<T: CLReal> {
    public let context: CLContext
    public let pairs: PairKernels<T>
    let denseForward, denseBackward: CLKernel
    /// 16 outputs per work-item (CPU devices), else nil: see Kernels/equivariant.cl.
    let denseForward16: CLKernel?
    let tensorForward, tensorBackwardX, tensorBackwardY: CLKernel
    /// 8 features per work-item (CPU devices, F a multiple of 8), else nil: see Kernels/equivariant.cl.
    let tensorForward8, tensorBackwardX8, tensorBackwardY8: CLKernel?
    let normForward, normBackward: CLKernel
    /// λ_l per maximum degree, uploaded on first use.
    private var normFactors: [Int: CLBuffer<T>] = [:]

    /// `tensorShape` picks the work split of the Dense forward and the tensor products
    /// (`KernelShape.preferred` by default): rows (CPUs) runs 16 Dense outputs or 8 tensor
    /// features per work-item where the sizes allow, tiled (GPUs) one per work-item. Both give
    /// the same bits.
    public init(context: CLContext, tensorShape: KernelShape? = nil) throws {
        self.context = context
        pairs = try PairKernels(context: context)
        let program = try context.program(family: "equivariant", precision: T.self)
        denseForward = try program.kernel("eq_dense_forward")
        denseBackward = try program.kernel("eq_dense_backward")
        tensorForward = try program.kernel("tensor_forward")
        tensorBackwardX = try program.kernel("tensor_backward_x")
        tensorBackwardY = try program.kernel("tensor_backward_y")
        let wide = (tensorShape ?? .preferred(for: context.device)) == .rows
        denseForward16 = wide ? try program.kernel("eq_dense_forward16") : nil
        tensorForward8 = wide ? try program.kernel("tensor_forward8") : nil
        tensorBackwardX8 = wide ? try program.kernel("tensor_backward_x8") : nil
        tensorBackwardY8 = wide ? try program.kernel("tensor_backward_y8") : nil
        normForward = try program.kernel("norm_features_forward")
        normBackward = try program.kernel("norm_features_backward")
    }

    // MARK: Dense (§3)

    /// y[i,a,g] = Σ_f x[i,a,f]·W^{(deg a)}[f,g] for `rows` rows.
    public func dense(_ x: CLBuffer<T>, rows: Int, _ layer: CLEquivariantDense<T>, into y: CLBuffer<T>) throws {
        try x.require(rows * layer.slots, layer.inputs, "equivariant dense input")
        try y.require(rows * layer.slots, layer.outputs, "equivariant dense output")
        guard rows > 0 else { return }
        // Measured on PoCL (2 cores, f32), LoremBEC's default heads (49 slots, 128 → 128) on a
        // 512-atom NaCl cell: the heads' share of an evaluation fell from 1,690 to 171 ms.
        if let wide = denseForward16, layer.outputs >= 16 {
            try wide.launch(global: [(layer.outputs + 15) / 16, layer.slots, rows], x, layer.kernel, y, Int32(rows),
                            Int32(layer.slots), Int32(layer.inputs), Int32(layer.outputs))
            return
        }
        try denseForward.launch(global: [layer.outputs, layer.slots, rows], x, layer.kernel, y, Int32(rows),
                                Int32(layer.slots), Int32(layer.inputs), Int32(layer.outputs))
    }

    public func dense(_ x: CLBuffer<T>, rows: Int, _ layer: CLEquivariantDense<T>) throws -> CLBuffer<T> {
        let y = try CLBuffer<T>(context, count: rows * layer.slots * layer.outputs)
        try dense(x, rows: rows, layer, into: y)
        return y
    }

    /// x̄ = ȳ·Wᵀ per degree (the weights are constants: only the input cotangent is needed).
    public func denseBackward(_ yBar: CLBuffer<T>, rows: Int, _ layer: CLEquivariantDense<T>,
                              into xBar: CLBuffer<T>) throws {
        try yBar.require(rows * layer.slots, layer.outputs, "equivariant dense backward input")
        try xBar.require(rows * layer.slots, layer.inputs, "equivariant dense backward output")
        guard rows > 0 else { return }
        try denseBackward.launch(global: [layer.inputs, layer.slots, rows], yBar, layer.kernel, xBar, Int32(rows),
                                 Int32(layer.slots), Int32(layer.inputs), Int32(layer.outputs))
    }

    public func denseBackward(_ yBar: CLBuffer<T>, rows: Int, _ layer: CLEquivariantDense<T>) throws -> CLBuffer<T> {
        let xBar = try CLBuffer<T>(context, count: rows * layer.slots * layer.inputs)
        try denseBackward(yBar, rows: rows, layer, into: xBar)
        return xBar
    }

    // MARK: Degree-norm features (§7.1)

    /// flat[i, l·F+f] = λ_l·sqrt(Σ_{deg a=l} X[i,a,f]²), shape [rows, (L+1)·F].
    public func normFeatures(_ x: CLBuffer<T>, rows: Int, maxDegree L: Int, features F: Int) throws -> CLBuffer<T> {
        try x.require(rows * (L + 1) * (L + 1), F, "norm features input")
        let out = try CLBuffer<T>(context, count: rows * (L + 1) * F)
        guard rows > 0 else { return out }
        try normForward.launch(global: [F, L + 1, rows], x, try lambda(L), out, Int32(rows), Int32(L), Int32(F))
        return out
    }

    /// X̄ = flat̄·λ_l·X/n per block, and 0 (not NaN) where a block vanishes.
    public func normFeaturesBackward(_ outBar: CLBuffer<T>, _ x: CLBuffer<T>, rows: Int, maxDegree L: Int,
                                     features F: Int) throws -> CLBuffer<T> {
        let slots = (L + 1) * (L + 1)
        try outBar.require(rows, (L + 1) * F, "norm features backward input")
        try x.require(rows * slots, F, "norm features backward operand")
        let xBar = try CLBuffer<T>(context, count: rows * slots * F)
        guard rows > 0 else { return xBar }
        try normBackward.launch(global: [F, L + 1, rows], outBar, x, try lambda(L), xBar, Int32(rows), Int32(L),
                                Int32(F))
        return xBar
    }

    /// λ_l = (2l+1)^{1/4} rounded to `T`, as lorem-jax builds them in the working precision.
    private func lambda(_ L: Int) throws -> CLBuffer<T> {
        if let buffer = normFactors[L] { return buffer }
        let buffer = try CLBuffer<T>(context, T.converting(SphericalLayout.normFactors(maxDegree: L)))
        normFactors[L] = buffer
        return buffer
    }
}
