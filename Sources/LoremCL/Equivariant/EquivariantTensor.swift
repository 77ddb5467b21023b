/// e3x Tensor and the layers built on it — TensorDense (docs/MATH.md §4.3) and MessagePass
/// (§5) — forward and backward, on the kernels of Kernels/equivariant.cl.
extension EquivariantKernels {
    // MARK: Tensor (§4.2)

    /// z[i,c,f] = Σ W[l1,l2,l3,f]·C[a,b,c]·x[i,a,f]·y[row(i),b,f] for `rows` rows of x, with
    /// row(i) = i, or `yRows.index[i]` (MessagePass reads the source atom o(p) of each pair
    /// without a gathered copy; y then has `yRows.sources` rows).
    public func tensor(_ x: CLBuffer<T>, _ y: CLBuffer<T>, rows: Int, _ t: CLTensor<T>, yRows: CLRowMap? = nil,
                       into z: CLBuffer<T>) throws {
        try tensor(.whole(x, t.features), .whole(y, t.features), rows: rows, t, yRows: yRows, into: z)
    }

    public func tensor(_ x: CLBuffer<T>, _ y: CLBuffer<T>, rows: Int, _ t: CLTensor<T>, yRows: CLRowMap? = nil)
        throws -> CLBuffer<T>
    {
        let z = try CLBuffer<T>(context, shape: [rows, t.slots3, t.features], name: "tensor product output")
        try tensor(x, y, rows: rows, t, yRows: yRows, into: z)
        return z
    }

    /// (x̄, ȳ) of `tensor`; ȳ has y's row count. With `yRows`, each pair's share of ȳ goes to a
    /// pair-sized buffer that is then summed per source atom through the map's CSR — a fixed
    /// order and no float atomics, so the scatter is deterministic.
    public func tensorBackward(_ zBar: CLBuffer<T>, _ x: CLBuffer<T>, _ y: CLBuffer<T>, rows: Int, _ t: CLTensor<T>,
                               yRows: CLRowMap? = nil) throws -> (xBar: CLBuffer<T>, yBar: CLBuffer<T>) {
        let F = t.features
        let xBar = try CLBuffer<T>(context, shape: [rows, t.slots1, F], name: "tensor product x cotangent")
        let yBar = try CLBuffer<T>(context, shape: [yRows?.sources ?? rows, t.slots2, F], name: "tensor product y cotangent")
        try tensorBackward(zBar, .whole(x, F), .whole(y, F), rows: rows, t, yRows: yRows, xBar: .whole(xBar, F),
                           yBar: .whole(yBar, F))
        return (xBar, yBar)
    }

    // MARK: TensorDense (§4.3)

    /// Dense to 2F, then Tensor(features [0,F), features [F,2F)). Returns the output and the
    /// Dense output `hidden` [rows, slots, 2F], which the backward needs; the halves are read
    /// in place through strides, never split into copies.
    public func tensorDense(_ x: CLBuffer<T>, rows: Int, _ layer: CLTensorDense<T>) throws
        -> (out: CLBuffer<T>, hidden: CLBuffer<T>)
    {
        let hidden = try dense(x, rows: rows, layer.dense)
        let t = layer.tensor
        let out = try CLBuffer<T>(context, count: rows * t.slots3 * t.features)
        try tensor(SphericalView(hidden, stride: 2 * t.features, offset: 0),
                   SphericalView(hidden, stride: 2 * t.features, offset: t.features), rows: rows, t, yRows: nil,
                   into: out)
        return (out, hidden)
    }

    /// x̄ of TensorDense: the Tensor's two cotangents are written straight into the halves of
    /// one [rows, slots, 2F] buffer (the join), then the Dense backward.
    public func tensorDenseBackward(_ zBar: CLBuffer<T>, rows: Int, _ layer: CLTensorDense<T>, hidden: CLBuffer<T>)
        throws -> CLBuffer<T>
    {
        let t = layer.tensor, F = t.features
        let hiddenBar = try CLBuffer<T>(context, count: rows * layer.dense.slots * 2 * F)
        let first = SphericalView(hidden, stride: 2 * F, offset: 0), second = SphericalView(hidden, stride: 2 * F, offset: F)
        try tensorBackward(zBar, first, second, rows: rows, t, yRows: nil,
                           xBar: SphericalView(hiddenBar, stride: 2 * F, offset: 0),
                           yBar: SphericalView(hiddenBar, stride: 2 * F, offset: F))
        return try denseBackward(hiddenBar, rows: rows, layer.dense)
    }

    // MARK: MessagePass (§5)

    /// M_i = Σ_{p: c(p)=i} Tensor(filter(G_p), X_{o(p)}) for edge basis G [pairs, slots, F] and
    /// node features X [atoms, slots, F]. Returns M and the filtered basis (kept for the
    /// backward).
    public func messagePass(_ nodes: CLBuffer<T>, edgeBasis: CLBuffer<T>, _ layer: CLMessagePass<T>,
                            centers: CLRowMap, others: CLRowMap) throws -> (messages: CLBuffer<T>, filtered: CLBuffer<T>)
    {
        let t = layer.tensor
        let messages = try CLBuffer<T>(context, shape: [centers.sources, t.slots3, t.features], name: "messages")
        let filtered = try messagePass(nodes, edgeBasis: edgeBasis, layer, centers: centers, others: others,
                                       into: messages, accumulating: false)
        return (messages, filtered)
    }

    /// `messagePass` with M written into `messages`, or with `accumulating` added to it in the
    /// segment sum's order (the pairs of one chunk; see `PairKernels.segmentSum`). Returns the
    /// filtered basis.
    public func messagePass(_ nodes: CLBuffer<T>, edgeBasis: CLBuffer<T>, _ layer: CLMessagePass<T>,
                            centers: CLRowMap, others: CLRowMap, into messages: CLBuffer<T>, accumulating: Bool) throws
        -> CLBuffer<T>
    {
        precondition(centers.rows == others.rows && centers.sources == others.sources)
        let filtered = try dense(edgeBasis, rows: centers.rows, layer.filter)
        let perPair = try tensor(filtered, nodes, rows: centers.rows, layer.tensor, yRows: others)
        try pairs.segmentSum(perPair, columns: layer.tensor.slots3 * layer.tensor.features, centers, into: messages,
                             accumulating: accumulating)
        return filtered
    }

    /// (X̄, Ḡ) of `messagePass` from M̄ [atoms, slots, F].
    public func messagePassBackward(_ messagesBar: CLBuffer<T>, nodes: CLBuffer<T>, filtered: CLBuffer<T>,
                                    _ layer: CLMessagePass<T>, centers: CLRowMap, others: CLRowMap) throws
        -> (nodesBar: CLBuffer<T>, edgeBasisBar: CLBuffer<T>)
    {
        let t = layer.tensor
        let nodesBar = try CLBuffer<T>(context, shape: [others.sources, t.slots2, t.features],
                                       name: "tensor product y cotangent")
        let edgeBasisBar = try messagePassBackward(messagesBar, nodes: nodes, filtered: filtered, layer, centers: centers,
                                                   others: others, nodesBarInto: nodesBar, accumulating: false)
        return (nodesBar, edgeBasisBar)
    }

    /// `messagePassBackward` with X̄ written into `nodesBar`, or with `accumulating` added to it
    /// in the segment sum's order (the pairs of one chunk). Returns Ḡ.
    public func messagePassBackward(_ messagesBar: CLBuffer<T>, nodes: CLBuffer<T>, filtered: CLBuffer<T>,
                                    _ layer: CLMessagePass<T>, centers: CLRowMap, others: CLRowMap,
                                    nodesBarInto nodesBar: CLBuffer<T>, accumulating: Bool) throws -> CLBuffer<T>
    {
        let t = layer.tensor, F = t.features
        let perPairBar = try pairs.gather(messagesBar, columns: t.slots3 * F, centers)
        let filteredBar = try CLBuffer<T>(context, shape: [centers.rows, t.slots1, F], name: "tensor product x cotangent")
        try tensorBackward(perPairBar, .whole(filtered, F), .whole(nodes, F), rows: centers.rows, t, yRows: others,
                           xBar: .whole(filteredBar, F), yBar: .whole(nodesBar, F), accumulatingY: accumulating)
        return try denseBackward(filteredBar, rows: centers.rows, layer.filter)
    }

    // MARK: Strided operands

    func tensor(_ x: SphericalView<T>, _ y: SphericalView<T>, rows: Int, _ t: CLTensor<T>, yRows: CLRowMap?,
                into z: CLBuffer<T>) throws {
        let F = t.features
        try checkIndex(yRows, rows: rows)
        try x.require(rows: rows, slots: t.slots1, features: F, "tensor x")
        try y.require(rows: yRows?.sources ?? rows, slots: t.slots2, features: F, "tensor y")
        try z.require(rows * t.slots3, F, "tensor output")
        guard rows > 0 else { return }
        let index: any CLKernelArgument = yRows?.index ?? CLNullBuffer()
        let (kernel, lanes) = wide(tensorForward, tensorForward8, F)
        try kernel.launch(
            global: [F / lanes, t.slots3, rowItems(rows, lanes)], x.buffer, Int32(x.stride), Int32(x.offset), y.buffer, Int32(y.stride),
            Int32(y.offset), index, Int32(yRows == nil ? 0 : 1), t.byOutput.coupled, t.byOutput.slots, t.byOutput.offsets,
            z, Int32(rows), Int32(t.slots1), Int32(t.slots2), Int32(t.slots3), Int32(F))
    }

    /// `accumulatingY` (gathered y only): ȳ's per-pair shares are added to yBar's values in the
    /// segment sum's order instead of replacing them.
    func tensorBackward(_ zBar: CLBuffer<T>, _ x: SphericalView<T>, _ y: SphericalView<T>, rows: Int,
                        _ t: CLTensor<T>, yRows: CLRowMap?, xBar: SphericalView<T>, yBar: SphericalView<T>,
                        accumulatingY: Bool = false) throws {
        precondition(!accumulatingY || yRows != nil, "only a gathered ȳ accumulates")
        let F = t.features
        let yCount = yRows?.sources ?? rows
        try checkIndex(yRows, rows: rows)
        try zBar.require(rows * t.slots3, F, "tensor backward input")
        try x.require(rows: rows, slots: t.slots1, features: F, "tensor backward x")
        try y.require(rows: yCount, slots: t.slots2, features: F, "tensor backward y")
        try xBar.require(rows: rows, slots: t.slots1, features: F, "tensor backward x̄")
        try yBar.require(rows: yCount, slots: t.slots2, features: F, "tensor backward ȳ")
        guard rows > 0 else {
            // No pairs: every source row's ȳ is an empty sum.
            if let yRows {
                try pairs.segmentSum(try CLBuffer<T>(context, count: 0), columns: t.slots2 * F, yRows, into: yBar.buffer,
                                     accumulating: accumulatingY)
            }
            return
        }
        let (n, s1, s2, s3, f) = (Int32(rows), Int32(t.slots1), Int32(t.slots2), Int32(t.slots3), Int32(F))
        let index: any CLKernelArgument = yRows?.index ?? CLNullBuffer()
        let (kernelX, lanesX) = wide(tensorBackwardX, tensorBackwardX8, F)
        try kernelX.launch(
            global: [F / lanesX, t.slots1, rowItems(rows, lanesX)], zBar, y.buffer, Int32(y.stride), Int32(y.offset), index,
            Int32(yRows == nil ? 0 : 1), t.byFirst.coupled, t.byFirst.slots, t.byFirst.offsets, xBar.buffer,
            Int32(xBar.stride), Int32(xBar.offset), n, s1, s2, s3, f)
        // Without a gather each row owns its ȳ row; with one, rows share source atoms.
        let direct = yRows == nil
        let shares = direct ? yBar : SphericalView(try CLBuffer<T>(context, shape: [rows, t.slots2, F],
                                                                   name: "tensor product y cotangent per pair"),
                                                   stride: F, offset: 0)
        let (kernelY, lanesY) = wide(tensorBackwardY, tensorBackwardY8, F)
        try kernelY.launch(
            global: [F / lanesY, t.slots2, rowItems(rows, lanesY)], zBar, x.buffer, Int32(x.stride), Int32(x.offset), t.bySecond.coupled,
            t.bySecond.slots, t.bySecond.offsets, shares.buffer, Int32(shares.stride), Int32(shares.offset),
            n, s1, s2, s3, f)
        if let yRows {
            guard yBar.stride == F && yBar.offset == 0 else {
                throw CLError.unsupported("tensor backward: a gathered ȳ must be a whole array")
            }
            try pairs.segmentSum(shares.buffer, columns: t.slots2 * F, yRows, into: yBar.buffer,
                                 accumulating: accumulatingY)
        }
    }

    /// The 8-features-per-work-item kernel and 8 where it exists and F is a multiple of 8, else
    /// the one-feature kernel and 1.
    private func wide(_ narrow: CLKernel, _ wide: CLKernel?, _ F: Int) -> (CLKernel, Int) {
        if let wide, F % 8 == 0 { return (wide, 8) }
        return (narrow, 1)
    }

    /// Work-items along the rows: the 8-wide kernels take two rows each, the others one.
    private func rowItems(_ rows: Int, _ lanes: Int) -> Int {
        lanes == 8 ? (rows + 1) / 2 : rows
    }

    private func checkIndex(_ map: CLRowMap?, rows: Int) throws {
        if let map, map.rows != rows {
            throw CLError.sizeMismatch("tensor: row map of \(map.rows) rows for \(rows) rows of x")
        }
    }
}

/// A spherical operand addressed as (i·slots + a)·stride + offset + f: a whole array (stride F,
/// offset 0) or one half of TensorDense's [rows, slots, 2F] buffer (stride 2F, offset 0 or F).
struct SphericalView<T: CLReal> {
    let buffer: CLBuffer<T>
    let stride: Int
    let offset: Int

    init(_ buffer: CLBuffer<T>, stride: Int, offset: Int) {
        self.buffer = buffer
        self.stride = stride
        self.offset = offset
    }

    static func whole(_ buffer: CLBuffer<T>, _ features: Int) -> SphericalView { SphericalView(buffer, stride: features, offset: 0) }

    func require(rows: Int, slots: Int, features: Int, _ what: String) throws {
        guard offset + features <= stride else {
            throw CLError.sizeMismatch("\(what): features [\(offset), \(offset + features)) exceed stride \(stride)")
        }
        try buffer.require(rows * slots, stride, what)
    }
}
