import LoremCL
import LoremModel

/// One message-passing iteration on the device (docs/MATH.md §7.2 step 9, §5), mirroring
/// LoremReference's InteractionStage op for op. The pair-sized half (the radial MLP on
/// [h_c ‖ h_o], e, the edge basis and the message tensors) runs chunk by chunk
/// (`DevicePairChunks`); the whole batch as one chunk keeps its pair tensors for the backward
/// (until the evaluation ends, as before chunks existed), several chunks recompute theirs there,
/// so then no more than one chunk's are held at a time.
struct DeviceInteractionStage<T: CLReal> {
    let w: DeviceWeights<T>.Interaction
    let config: LoremConfig
    let chunks: DevicePairChunks<T>
    /// The whole batch's pair tensors from the forward (one chunk only).
    private var kept: PairTensors? = nil
    /// The stage's inputs, from which several chunks recompute their pair tensors.
    private var inputs: (h: CLBuffer<T>, A: CLBuffer<T>)? = nil
    private var scalarCache = DeviceUpdate<T>.Cache()
    private var energyCache = CLMLPCache<T>(keeping: .input)
    // Equivariant half.
    private var nodesIn: CLBuffer<T>? = nil
    private var nodeDense: CLBuffer<T>? = nil
    private var messageDense: CLBuffer<T>? = nil
    private var nodesOut: CLBuffer<T>? = nil
    private var eqCache = DeviceUpdate<T>.Cache()

    /// One chunk's pair-sized forward tensors that its backward reads: the chunk's radial basis
    /// (and harmonics) rows, the radial MLP's cache and output [P, K·d], and with the equivariant
    /// half the edge basis coefficients and the filtered basis.
    private struct PairTensors {
        var radial: CLBuffer<T>? = nil
        var harmonics: CLBuffer<T>? = nil
        var radialCache = CLMLPCache<T>()
        var coefficientsRC: CLBuffer<T>? = nil
        var coefficients: CLBuffer<T>? = nil
        var filtered: CLBuffer<T>? = nil
    }

    init(weights: DeviceWeights<T>.Interaction, config: LoremConfig, chunks: DevicePairChunks<T>) {
        self.w = weights
        self.config = config
        self.chunks = chunks
    }

    mutating func forward(h: CLBuffer<T>, A: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>)
        throws -> (h: CLBuffer<T>, A: CLBuffer<T>, energies: [Double])
    {
        let (N, d, s, L) = (g.atoms, config.numFeatures, config.numSphericalFeatures, config.maxDegree)
        // Σ_{p→i} e_p and the messages M, summed chunk after chunk in pair order.
        let eSums = try k.zeros(N * d)
        let M = try w.equivariant.map { try k.zeros(N * $0.messagePass.tensor.slots3 * $0.messagePass.tensor.features) }
        for chunk in chunks.chunks {
            let t = try pairForward(h: h, A: A, chunk, g, k, eSums: eSums, messages: M)
            if chunks.isWhole { kept = t }
        }
        if !chunks.isWhole { inputs = (h, A) }
        let message = try k.dense.dense(eSums, rows: N, w.scalarMessage)
        var hOut = try w.scalarUpdate.forward(h, message, rows: N, k, cache: &scalarCache)
        var aOut = A
        if let q = w.equivariant, let M {
            nodesIn = A
            let nd = try k.equivariant.dense(A, rows: N, q.nodeDense)
            let md = try k.equivariant.dense(M, rows: N, q.messageDense)
            nodeDense = nd
            messageDense = md
            aOut = try k.equivariant.tensor(nd, md, rows: N, q.tensor)
            nodesOut = aOut
            let norms = try k.equivariant.normFeatures(aOut, rows: N, maxDegree: L, features: s)
            hOut = try q.update.forward(hOut, norms, rows: N, k, cache: &eqCache)
        }
        let energy = try k.dense.mlp(hOut, rows: N, w.energy, cache: &energyCache)
        return (hOut, aOut, try hostEnergies(energy))
    }

    /// The pair-sized forward of one chunk. With `eSums` (and `messages`) it adds the chunk's
    /// Σ_{p→i} e_p (and messages) to them; without, it only recomputes the tensors the backward
    /// reads, with the same operations.
    private func pairForward(h: CLBuffer<T>, A: CLBuffer<T>, _ c: DevicePairChunks<T>.Chunk, _ g: DeviceGeometry<T>,
                             _ k: DeviceKernels<T>, eSums: CLBuffer<T>?, messages: CLBuffer<T>?) throws -> PairTensors {
        let (P, d, s, L, K) = (c.pairs.count, config.numFeatures, config.numSphericalFeatures, config.maxDegree,
                               config.numRadial)
        var t = PairTensors()
        let pf = try k.pairs.concat(k.pairs.gather(h, columns: d, c.centers), columns: d,
                                    k.pairs.gather(h, columns: d, c.others), columns: d, rows: P)
        let coefRC = try k.dense.mlp(pf, rows: P, w.radial, cache: &t.radialCache)
        t.coefficientsRC = coefRC
        let radial = try chunks.rows(g.features.radial, columns: K, of: c, k)
        t.radial = radial
        let e = try k.pairs.contractRadial(coefRC, coefRows: nil, radial: radial, pairs: P, basis: K, features: d)
        if let eSums { try k.pairs.segmentSum(e, columns: d, c.centers, into: eSums, accumulating: true) }
        if let q = w.equivariant {
            let coef = try k.dense.dense(e, rows: P, q.coefficients)
            t.coefficients = coef
            let harmonics = try chunks.rows(g.features.harmonics, columns: g.features.harmonicsCount, of: c, k)
            t.harmonics = harmonics
            let G = try k.pairs.edgeBasis(coef, harmonics: harmonics, pairs: P, maxDegree: L, features: s)
            if let messages {
                t.filtered = try k.equivariant.messagePass(A, edgeBasis: G, q.messagePass, centers: c.centers,
                                                           others: c.others, into: messages, accumulating: true)
            } else {
                t.filtered = try k.equivariant.dense(G, rows: P, q.messagePass.filter)  // messagePass's first op
            }
        }
        return t
    }

    /// Backward with Ē_i = 1; returns (h̄, Ā) of the stage inputs.
    func backward(hBar hIn: CLBuffer<T>, aBar aIn: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>,
                  into bar: PairFeatureCotangents<T>) throws -> (CLBuffer<T>, CLBuffer<T>) {
        let (N, d, s, L) = (g.atoms, config.numFeatures, config.numSphericalFeatures, config.maxDegree)
        var hBar = try k.sum(hIn, k.dense.mlpBackward(k.ones(N), rows: N, w.energy, cache: energyCache), count: N * d)
        var aBar = aIn
        var mBar: CLBuffer<T>? = nil
        if let q = w.equivariant {
            let (hb, normBar) = try q.update.backward(hBar, rows: N, k, cache: eqCache)
            hBar = hb
            let aOutBar = try k.sum(aIn, k.equivariant.normFeaturesBackward(normBar, nodesOut!, rows: N, maxDegree: L, features: s),
                                    count: aIn.count)
            let (ndBar, mdBar) = try k.equivariant.tensorBackward(aOutBar, nodeDense!, messageDense!, rows: N, q.tensor)
            aBar = try k.equivariant.denseBackward(ndBar, rows: N, q.nodeDense)
            mBar = try k.equivariant.denseBackward(mdBar, rows: N, q.messageDense)
        }
        let (hb, messageBar) = try w.scalarUpdate.backward(hBar, rows: N, k, cache: scalarCache)
        hBar = hb
        let eSumsBar = try k.dense.denseBackward(messageBar, rows: N, w.scalarMessage)
        // The sums over pairs into atoms, chunk after chunk in pair order: X̄ of the messages'
        // source atoms, and h̄ through the centre and neighbour halves of [h_c ‖ h_o].
        let srcBar = try w.equivariant.map { try k.zeros(N * $0.messagePass.tensor.slots2 * $0.messagePass.tensor.features) }
        let centerBar = try k.zeros(N * d), otherBar = try k.zeros(N * d)
        for chunk in chunks.chunks {
            let t = try kept ?? pairForward(h: inputs!.h, A: inputs!.A, chunk, g, k, eSums: nil, messages: nil)
            try pairBackward(t, chunk, eSumsBar: eSumsBar, mBar: mBar, g, k, into: bar, srcBar: srcBar,
                             centerBar: centerBar, otherBar: otherBar)
        }
        if let srcBar { try k.accumulate(aBar, srcBar, count: aBar.count) }
        try k.accumulate(hBar, centerBar, count: N * d)
        try k.accumulate(hBar, otherBar, count: N * d)
        return (hBar, aBar)
    }

    /// The pair-sized backward of one chunk: adds its share of X̄ (srcBar), of h̄ through the
    /// centres and the neighbours, and of the pair features' cotangents.
    private func pairBackward(_ t: PairTensors, _ c: DevicePairChunks<T>.Chunk, eSumsBar: CLBuffer<T>, mBar: CLBuffer<T>?,
                              _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>, into bar: PairFeatureCotangents<T>,
                              srcBar: CLBuffer<T>?, centerBar: CLBuffer<T>, otherBar: CLBuffer<T>) throws {
        let (P, d, s, L, K) = (c.pairs.count, config.numFeatures, config.numSphericalFeatures, config.maxDegree,
                               config.numRadial)
        var eBar: CLBuffer<T>
        if let q = w.equivariant, let mBar, let srcBar {
            let gBar = try k.equivariant.messagePassBackward(mBar, nodes: nodesIn!, filtered: t.filtered!, q.messagePass,
                                                             centers: c.centers, others: c.others, nodesBarInto: srcBar,
                                                             accumulating: true)
            let (coefBar, yBar) = try k.pairs.edgeBasisBackward(gBar, t.coefficients!, harmonics: t.harmonics!,
                                                                pairs: P, maxDegree: L, features: s)
            try bar.addHarmonics(yBar, of: c, in: chunks, k)
            eBar = try k.dense.denseBackward(coefBar, rows: P, q.coefficients)
        } else {
            eBar = try k.zeros(P * d)
        }
        try k.accumulate(eBar, k.pairs.gather(eSumsBar, columns: d, c.centers), count: P * d)
        try bar.addRadial(k.pairs.contractRadialBackwardRadial(eBar, t.coefficientsRC!, coefRows: nil, pairs: P, basis: K,
                                                               features: d), of: c, in: chunks, k)
        let pfBar = try k.dense.mlpBackward(
            k.pairs.contractRadialBackwardCoefficients(eBar, radial: t.radial!, pairs: P, basis: K, features: d),
            rows: P, w.radial, cache: t.radialCache)
        let (cBar, oBar) = try k.pairs.concatBackward(pfBar, rows: P, columns: d, d)
        try k.pairs.segmentSum(cBar, columns: d, c.centers, into: centerBar, accumulating: true)
        try k.pairs.segmentSum(oBar, columns: d, c.others, into: otherBar, accumulating: true)
    }
}
