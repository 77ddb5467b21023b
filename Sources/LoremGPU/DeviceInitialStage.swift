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
    /// The species the table covers and each atom's slot in it.
    private var species = 0
    private var slots: CLBuffer<Int32>? = nil
    private var foldedTable: CLBuffer<T>? = nil
    private var coefficients: CLBuffer<T>? = nil
    private var scalarCache = DeviceUpdate<T>.Cache(), sphericalCache = DeviceUpdate<T>.Cache()
    private var hidden: CLBuffer<T>? = nil
    private var sphericalOut: CLBuffer<T>? = nil
    private var energyCache = CLMLPCache<T>(keeping: .input)

    init(weights: DeviceWeights<T>.Initial, speciesPairs: DeviceSpeciesPairs<T>, config: LoremConfig) {
        self.w = weights
        self.speciesPairs = speciesPairs
        self.config = config
    }

    /// `chunks`: where the geometry holds no edge inputs (`DeviceGeometry.hasEdgeInputs`), the
    /// pair-sized half runs a chunk of whole centres at a time, each chunk making its radial basis,
    /// harmonics and coefficients and summing them into its centres' rows; the sums are the same
    /// per row as over all pairs at once, so any chunking gives the same bits.
    mutating func forward(numbers: [Int], _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>,
                          chunks: DevicePairChunks<T>? = nil) throws -> (h: CLBuffer<T>, A: CLBuffer<T>, energies: [Double])
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
        // The sum itself goes per centre and neighbour species (`contractTableSum`).
        let (species, slots) = try speciesPairs.slots(numbers: numbers, context: k.context)
        (self.species, self.slots) = (species, slots)
        // A0 = Σ_{p→i} G_p, fused: G [P, (L+1)², s] is the largest pair tensor and is never stored.
        // Both sums go into the rows of the centres of `pairs` (rows of atoms without pairs stay
        // 0), so a chunk of whole centres adds the same numbers as all pairs at once.
        let e = try k.zeros(N * d), A0 = try k.zeros(N * config.sphericalCount * s)
        func sum(radial: CLBuffer<T>, harmonics: CLBuffer<T>, rows: CLBuffer<Int32>, centers: CLRowMap, pairs: Int) throws
            -> CLBuffer<T>
        {
            try k.pairs.contractTableSum(table, coefRows: rows, slots: slots, species: species, radial: radial,
                                         centers: centers, basis: K, features: d, into: e)
            let coef = try k.pairs.contractRadial(folded, coefRows: rows, radial: radial, pairs: pairs, basis: K, features: c)
            try k.pairs.edgeBasisSum(coef, harmonics: harmonics, centers: centers, maxDegree: L, features: s, into: A0)
            return coef
        }
        if g.hasEdgeInputs {
            let coef = try sum(radial: g.features.radial, harmonics: g.features.harmonics, rows: tableRows,
                               centers: g.centers, pairs: P)
            // The backward recomputes them where it can (`handsOnPerAtomCotangent`).
            if !Self.handsOnPerAtomCotangent(config) { coefficients = coef }
        } else {
            // Chunk by chunk, each making its own radial basis and harmonics.
            precondition(Self.handsOnPerAtomCotangent(config), "only the per-atom backward runs without the pairs' edge inputs")
            guard let chunks else { preconditionFailure("the initial layers without edge inputs need chunks") }
            for chunk in chunks.chunks {
                let (radial, harmonics) = try g.edgeInputs(chunk.pairs, k)
                _ = try sum(radial: radial, harmonics: harmonics, rows: chunks.rows(tableRows, columns: 1, of: chunk, k),
                            centers: chunk.centers, pairs: chunk.pairs.count)
            }
        }
        let message = try k.dense.dense(e, rows: N, w.scalarMessage)
        let h1 = try w.scalarUpdate.forward(h0, message, rows: N, k, cache: &scalarCache)
        let (A1, hid) = try k.equivariant.tensorDense(A0, rows: N, w.tensorDense)
        hidden = hid
        sphericalOut = A1
        let norms = try k.equivariant.normFeatures(A1, rows: N, maxDegree: L, features: s)
        let h2 = try w.sphericalUpdate.forward(h1, norms, rows: N, k, cache: &sphericalCache)
        let energy = try k.dense.mlp(h2, rows: N, w.energy, cache: &energyCache)
        return (h2, A1, try hostEnergies(energy))
    }

    /// Whether the backward hands its pair cotangents to the pair features' backward in per-atom
    /// form (`CLInitialEdgeCotangent`), which then needs neither the harmonics nor the radial
    /// basis: true up to (L+1)·s = 128 weights per pair (lorem-jax's defaults have 56).
    static func handsOnPerAtomCotangent(_ config: LoremConfig) -> Bool {
        (config.maxDegree + 1) * config.numSphericalFeatures <= CLInitialEdgeCotangent<T>.maxWeights
    }

    /// Ḡ = Ā[c(p)] splits into Ȳ and the coefficients' cotangent w̄, and w̄ with the scalar
    /// message's n̄ into radial̄. Where the model allows (`handsOnPerAtomCotangent`) none of these
    /// [P, ·] cotangents is made here: Ā, n̄ and the species-pair tables go to `bar` as they are,
    /// and the pair features' backward makes Ȳ and radial̄ pair by pair, recomputing the pair
    /// coefficients, which the forward then does not keep. A 12,288-atom water box
    /// with lorem-jax's defaults held Ȳ (124 MiB), w̄ and the coefficients (144 MiB each) and the
    /// harmonics (124 MiB) at once here, at the model's memory peak.
    mutating func backward(hBar hIn: CLBuffer<T>, aBar aIn: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>,
                           into bar: PairFeatureCotangents<T>) throws {
        let (N, P, d, s, L, K) = (g.atoms, g.pairCount, config.numFeatures, config.numSphericalFeatures,
                                  config.maxDegree, config.numRadial)
        let hBar2 = try k.sum(hIn, k.dense.mlpBackward(k.ones(N), rows: N, w.energy, cache: energyCache), count: N * d)
        let (hBar1, normBar) = try w.sphericalUpdate.backward(hBar2, rows: N, k, cache: sphericalCache)
        let aBar1 = try k.sum(aIn, k.equivariant.normFeaturesBackward(normBar, sphericalOut!, rows: N, maxDegree: L, features: s),
                              count: aIn.count)
        let aBar0 = try k.equivariant.tensorDenseBackward(aBar1, rows: N, w.tensorDense, hidden: hidden!)
        let (_, messageBar) = try w.scalarUpdate.backward(hBar1, rows: N, k, cache: scalarCache)  // h0: species only
        // radial̄ = Σ_f (Σ-message cotangent of the center)_f T_k,f + Σ_j coef̄_j (T_k W)_j.
        let messageSumBar = try k.dense.denseBackward(messageBar, rows: N, w.scalarMessage)
        if Self.handsOnPerAtomCotangent(config) {
            let node = try k.pairs.contractTableNode(messageSumBar, table!, slots: slots!, species: species, basis: K,
                                                     features: d)
            bar.setInitial(CLInitialEdgeCotangent(aBar: aBar0, centers: g.centers, sphericalFeatures: s,
                                                  folded: foldedTable!, node: node, species: species, rows: tableRows!))
            return
        }
        let (coefBar, yBar) = try k.pairs.edgeBasisBackward(aBar0, coefficients!, harmonics: g.features.harmonics,
                                                            pairs: P, maxDegree: L, features: s, centers: g.centers)
        coefficients = nil
        try bar.addHarmonics(yBar, k)
        try bar.addRadial(k.pairs.contractRadialBackwardRadial(folded: coefBar, foldedTable!, features: (L + 1) * s,
                                                               node: messageSumBar, centers: g.centers, table!, features: d,
                                                               coefRows: tableRows!, basis: K), k)
    }
}
