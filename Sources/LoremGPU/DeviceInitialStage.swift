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
        // RadialCoefficients_0 depends only on the species pair: one table row per ordered pair.
        let (table, tableRows) = try speciesPairs.rows(numbers: numbers, centers: g.hostCenters, others: g.hostOthers,
                                                       context: k.context)
        (self.table, self.tableRows) = (table, tableRows)
        let e = try k.pairs.contractRadial(table, coefRows: tableRows, radial: g.features.radial, pairs: P, basis: K,
                                           features: d)
        let h0: CLBuffer<T>
        if let nodeInit = w.nodeInit {
            h0 = try k.dense.dense(CLBuffer(k.context, numbers.flatMap { speciesPairs.species($0) }), rows: N, nodeInit)
        } else {
            h0 = try k.zeros(N * d)
        }
        let message = try k.dense.dense(k.pairs.segmentSum(e, columns: d, g.centers), rows: N, w.scalarMessage)
        let h1 = try w.scalarUpdate.forward(h0, message, rows: N, k, cache: &scalarCache)
        let coef = try k.dense.dense(e, rows: P, w.coefficients)
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

    func backward(hBar hIn: CLBuffer<T>, aBar aIn: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>,
                  into bar: PairFeatureCotangents<T>) throws {
        let (N, P, d, s, L, K) = (g.atoms, g.pairCount, config.numFeatures, config.numSphericalFeatures,
                                  config.maxDegree, config.numRadial)
        let hBar2 = try k.sum(hIn, k.dense.mlpBackward(k.ones(N), rows: N, w.energy, cache: energyCache), count: N * d)
        let (hBar1, normBar) = try w.sphericalUpdate.backward(hBar2, rows: N, k, cache: sphericalCache)
        let aBar1 = try k.sum(aIn, k.equivariant.normFeaturesBackward(normBar, sphericalOut!, rows: N, maxDegree: L, features: s),
                              count: aIn.count)
        let aBar0 = try k.equivariant.tensorDenseBackward(aBar1, rows: N, w.tensorDense, hidden: hidden!)
        let (coefBar, yBar) = try k.pairs.edgeBasisBackward(aBar0, coefficients!, harmonics: g.features.harmonics,
                                                            pairs: P, maxDegree: L, features: s, centers: g.centers)
        try bar.addHarmonics(yBar, k)
        let (_, messageBar) = try w.scalarUpdate.backward(hBar1, rows: N, k, cache: scalarCache)  // h0: species only
        // ē = Σ-message cotangent of the center atom (read by row) + the coefficients' cotangent.
        let messageSumBar = try k.dense.denseBackward(messageBar, rows: N, w.scalarMessage)
        let eBar = try k.dense.denseBackward(coefBar, rows: P, w.coefficients)
        try bar.addRadial(k.pairs.contractRadialBackwardRadial(eBar, plus: (messageSumBar, g.centers), table!,
                                                               coefRows: tableRows, pairs: P, basis: K, features: d), k)
    }
}
