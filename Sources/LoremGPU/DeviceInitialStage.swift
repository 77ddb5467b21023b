import LoremCL
import LoremModel

/// Steps 2–8 of `Lorem.__call__` on the device (docs/MATH.md §7.2), mirroring
/// LoremReference's InitialStage op for op.
struct DeviceInitialStage<T: CLReal> {
    let w: DeviceWeights<T>.Initial
    let config: LoremConfig
    /// The species embedding, and RadialCoefficients_0 of the species pairs seen so far.
    let speciesPairs: DeviceSpeciesPairs<T>
    /// The species-pair table this batch's rows index, and the rows.
    private var table: CLBuffer<T>? = nil
    private var tableRows: CLBuffer<Int32>? = nil
    private var foldedTable: CLBuffer<T>? = nil
    private var coefficients: CLBuffer<T>? = nil
    private var scalarCache = DeviceUpdate<T>.Cache(), sphericalCache = DeviceUpdate<T>.Cache()
    private var hidden: CLBuffer<T>? = nil
    private var sphericalOut: CLBuffer<T>? = nil
    private var energyCache = CLMLPCache<T>()

    init(weights: DeviceWeights<T>.Initial, speciesPairs: DeviceSpeciesPairs<T>, config: LoremConfig) {
        self.w = weights
        self.speciesPairs = speciesPairs
        self.config = config
    }

    mutating func forward(numbers: [Int], _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>)
        throws -> (h: CLBuffer<T>, A: CLBuffer<T>, energies: [Double])
    {
        let (N, P, d, s, L, K) = (g.atoms, g.pairCount, config.numFeatures, config.numSphericalFeatures,
                                  config.maxDegree, config.numRadial)
        let c = (L + 1) * s
        // RadialCoefficients_0 depends only on the species pair: one table row per ordered pair.
        let (table, tableRows) = try speciesPairs.rows(numbers: numbers, centers: g.hostCenters, others: g.hostOthers,
                                                       context: k.context)
        (self.table, self.tableRows) = (table, tableRows)
        // The coefficients Dense (no bias) is linear, like the radial contraction e = Σ_k T_k r_k:
        // applied to each [K, d] table row once, coefficients = Σ_k (T_k W) r_k needs no pair's e.
        let folded = try k.dense.dense(table, rows: table.count / d, w.coefficients)
        foldedTable = folded
        let h0: CLBuffer<T>
        if let nodeInit = w.nodeInit {
            h0 = try k.dense.dense(CLBuffer(k.context, numbers.flatMap { speciesPairs.species($0) }), rows: N, nodeInit)
        } else {
            h0 = try k.zeros(N * d)
        }
        // Dense without bias commutes with the segment sum: sum first, then one Dense per atom.
        let e = try k.pairs.contractRadialSum(table, coefRows: tableRows, radial: g.features.radial, centers: g.centers,
                                              basis: K, features: d)
        let message = try k.dense.dense(e, rows: N, w.scalarMessage)
        let h1 = try w.scalarUpdate.forward(h0, message, rows: N, k, cache: &scalarCache)
        let coef = try k.pairs.contractRadial(folded, coefRows: tableRows, radial: g.features.radial, pairs: P, basis: K,
                                              features: c)
        coefficients = coef
        // A0 = Σ_{p→i} G_p, fused: G [P, (L+1)², s] is the largest pair tensor and is never stored.
        let A0 = try k.pairs.edgeBasisSum(coef, harmonics: g.features.harmonics, centers: g.centers, maxDegree: L, features: s)
        let (A1, hid) = try k.equivariant.tensorDense(A0, rows: N, w.tensorDense)
        hidden = hid
        sphericalOut = A1
        let norms = try k.equivariant.normFeatures(A1, rows: N, maxDegree: L, features: s)
        let h2 = try w.sphericalUpdate.forward(h1, norms, rows: N, k, cache: &sphericalCache)
        let energy = try k.dense.mlp(h2, rows: N, w.energy, cache: &energyCache)
        return (h2, A1, try hostEnergies(energy))
    }

    /// Frees the pair coefficients after their last use, and makes the radial cotangent without
    /// storing the coefficients' cotangent: both are [P, (L+1)·s] (144 MiB for a 12,288-atom
    /// water box with lorem-jax's defaults), and the initial backward held the model's memory
    /// peak with both, the harmonics cotangent and the pair features live.
    mutating func backward(hBar hIn: CLBuffer<T>, aBar aIn: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>,
                           into bar: PairFeatureCotangents<T>) throws {
        let (N, P, d, s, L, K) = (g.atoms, g.pairCount, config.numFeatures, config.numSphericalFeatures,
                                  config.maxDegree, config.numRadial)
        let hBar2 = try k.sum(hIn, k.dense.mlpBackward(k.ones(N), rows: N, w.energy, cache: energyCache), count: N * d)
        let (hBar1, normBar) = try w.sphericalUpdate.backward(hBar2, rows: N, k, cache: sphericalCache)
        let aBar1 = try k.sum(aIn, k.equivariant.normFeaturesBackward(normBar, sphericalOut!, rows: N, maxDegree: L, features: s),
                              count: aIn.count)
        let aBar0 = try k.equivariant.tensorDenseBackward(aBar1, rows: N, w.tensorDense, hidden: hidden!)
        // Ḡ = Ā[c(p)] splits into Ȳ and the coefficients' cotangent w̄; w̄ only feeds the radial
        // cotangent below, which (up to 128 weights per pair) is made straight from Ā.
        let fused = (L + 1) * s <= PairKernels<T>.maxFusedEdgeWeights
        var coefBar: CLBuffer<T>? = nil
        if fused {
            try bar.addHarmonics(k.pairs.edgeBasisBackwardHarmonics(aBar0, coefficients!, harmonics: g.features.harmonics,
                                                                    centers: g.centers, maxDegree: L, features: s), k)
        } else {
            let (wBar, yBar) = try k.pairs.edgeBasisBackward(aBar0, coefficients!, harmonics: g.features.harmonics,
                                                             pairs: P, maxDegree: L, features: s, centers: g.centers)
            coefBar = wBar
            try bar.addHarmonics(yBar, k)
        }
        coefficients = nil
        let (_, messageBar) = try w.scalarUpdate.backward(hBar1, rows: N, k, cache: scalarCache)  // h0: species only
        // radial̄ = Σ_f (Σ-message cotangent of the center)_f T_k,f + Σ_j coef̄_j (T_k W)_j.
        let messageSumBar = try k.dense.denseBackward(messageBar, rows: N, w.scalarMessage)
        let radialBar = try coefBar.map {
            try k.pairs.contractRadialBackwardRadial(folded: $0, foldedTable!, features: (L + 1) * s, node: messageSumBar,
                                                     centers: g.centers, table!, features: d, coefRows: tableRows!, basis: K)
        } ?? k.pairs.edgeBasisBackwardRadial(aBar0, harmonics: g.features.harmonics, centers: g.centers, maxDegree: L,
                                             features: s, folded: foldedTable!, node: messageSumBar, table!, features: d,
                                             coefRows: tableRows!, basis: K)
        try bar.addRadial(radialBar, k)
    }
}
