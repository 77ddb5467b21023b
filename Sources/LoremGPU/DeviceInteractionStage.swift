import LoremCL
import LoremModel

/// One message-passing iteration on the device (docs/MATH.md §7.2 step 9, §5), mirroring
/// LoremReference's InteractionStage op for op.
struct DeviceInteractionStage<T: CLReal> {
    let w: DeviceWeights<T>.Interaction
    let config: LoremConfig
    private var radialCache = CLMLPCache<T>()
    private var coefficientsRC: CLBuffer<T>? = nil
    private var scalarCache = DeviceUpdate<T>.Cache()
    private var energyCache = CLMLPCache<T>()
    // Equivariant half.
    private var coefficients: CLBuffer<T>? = nil
    private var filtered: CLBuffer<T>? = nil
    private var nodesIn: CLBuffer<T>? = nil
    private var nodeDense: CLBuffer<T>? = nil
    private var messageDense: CLBuffer<T>? = nil
    private var nodesOut: CLBuffer<T>? = nil
    private var eqCache = DeviceUpdate<T>.Cache()

    init(weights: DeviceWeights<T>.Interaction, config: LoremConfig) {
        self.w = weights
        self.config = config
    }

    mutating func forward(h: CLBuffer<T>, A: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>)
        throws -> (h: CLBuffer<T>, A: CLBuffer<T>, energies: [Double])
    {
        let (N, P, d, s, L, K) = (g.atoms, g.pairCount, config.numFeatures, config.numSphericalFeatures,
                                  config.maxDegree, config.numRadial)
        let pf = try k.pairs.concat(k.pairs.gather(h, columns: d, g.centers), columns: d,
                                    k.pairs.gather(h, columns: d, g.others), columns: d, rows: P)
        let coefRC = try k.dense.mlp(pf, rows: P, w.radial, cache: &radialCache)
        coefficientsRC = coefRC
        let e = try k.pairs.contractRadial(coefRC, coefRows: nil, radial: g.features.radial, pairs: P, basis: K, features: d)
        let message = try k.dense.dense(k.pairs.segmentSum(e, columns: d, g.centers), rows: N, w.scalarMessage)
        var hOut = try w.scalarUpdate.forward(h, message, rows: N, k, cache: &scalarCache)
        var aOut = A
        if let q = w.equivariant {
            let coef = try k.dense.dense(e, rows: P, q.coefficients)
            coefficients = coef
            let G = try k.pairs.edgeBasis(coef, harmonics: g.features.harmonics, pairs: P, maxDegree: L, features: s)
            let (M, filt) = try k.equivariant.messagePass(A, edgeBasis: G, q.messagePass, centers: g.centers, others: g.others)
            filtered = filt
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

    /// Backward with Ē_i = 1; returns (h̄, Ā) of the stage inputs.
    func backward(hBar hIn: CLBuffer<T>, aBar aIn: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>,
                  into bar: PairFeatureCotangents<T>) throws -> (CLBuffer<T>, CLBuffer<T>) {
        let (N, P, d, s, L, K) = (g.atoms, g.pairCount, config.numFeatures, config.numSphericalFeatures,
                                  config.maxDegree, config.numRadial)
        var hBar = try k.sum(hIn, k.dense.mlpBackward(k.ones(N), rows: N, w.energy, cache: energyCache), count: N * d)
        var aBar = aIn
        var eBar = try k.zeros(P * d)
        if let q = w.equivariant {
            let (hb, normBar) = try q.update.backward(hBar, rows: N, k, cache: eqCache)
            hBar = hb
            let aOutBar = try k.sum(aIn, k.equivariant.normFeaturesBackward(normBar, nodesOut!, rows: N, maxDegree: L, features: s),
                                    count: aIn.count)
            let (ndBar, mdBar) = try k.equivariant.tensorBackward(aOutBar, nodeDense!, messageDense!, rows: N, q.tensor)
            aBar = try k.equivariant.denseBackward(ndBar, rows: N, q.nodeDense)
            let mBar = try k.equivariant.denseBackward(mdBar, rows: N, q.messageDense)
            let (srcBar, gBar) = try k.equivariant.messagePassBackward(mBar, nodes: nodesIn!, filtered: filtered!, q.messagePass,
                                                                      centers: g.centers, others: g.others)
            try k.accumulate(aBar, srcBar, count: aBar.count)
            let (coefBar, yBar) = try k.pairs.edgeBasisBackward(gBar, coefficients!, harmonics: g.features.harmonics,
                                                                pairs: P, maxDegree: L, features: s)
            try bar.addHarmonics(yBar, k)
            eBar = try k.dense.denseBackward(coefBar, rows: P, q.coefficients)
        }
        let (hb, messageBar) = try w.scalarUpdate.backward(hBar, rows: N, k, cache: scalarCache)
        hBar = hb
        try k.accumulate(eBar, k.pairs.gather(k.dense.denseBackward(messageBar, rows: N, w.scalarMessage), columns: d, g.centers),
                         count: P * d)
        try bar.addRadial(k.pairs.contractRadialBackwardRadial(eBar, coefficientsRC!, coefRows: nil, pairs: P, basis: K, features: d), k)
        let pfBar = try k.dense.mlpBackward(
            k.pairs.contractRadialBackwardCoefficients(eBar, radial: g.features.radial, pairs: P, basis: K, features: d),
            rows: P, w.radial, cache: radialCache)
        let (cBar, oBar) = try k.pairs.concatBackward(pfBar, rows: P, columns: d, d)
        try k.accumulate(hBar, k.pairs.segmentSum(cBar, columns: d, g.centers), count: N * d)
        try k.accumulate(hBar, k.pairs.segmentSum(oBar, columns: d, g.others), count: N * d)
        return (hBar, aBar)
    }
}
