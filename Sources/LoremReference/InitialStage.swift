import LoremEngineCore
import LoremModel

/// Steps 2–8 of `Lorem.__call__` (docs/MATH.md §7.2): species-pair radial coefficients, node
/// initialisation, the first scalar and spherical updates, and the first energy term.
struct InitialStage {
    let w: InitialStageWeights
    let config: LoremConfig
    // Kept for the backward pass.
    private var table = Matrix(zeros: 0, 0)  // RadialCoefficients_0 output per species pair
    private var tableRow: [Int] = []         // species-pair row of each pair
    private var foldedTable = Matrix(zeros: 0, 0)  // the table through the coefficients Dense
    private var coefficients = Matrix(zeros: 0, 0)
    private var updateScalar = DenseOps.UpdateCache()
    private var updateSpherical = DenseOps.UpdateCache()
    private var halves: (SphericalArray, SphericalArray)? = nil
    private var sphericalOut = SphericalArray(rows: 0, maxDegree: 0, features: 1)
    private var energyCache = DenseOps.MLPCache()

    init(weights: InitialStageWeights, config: LoremConfig) {
        self.w = weights
        self.config = config
    }

    /// Returns node scalars h, node spherical features A and per-atom energies.
    mutating func forward(numbers: [Int], pairs: PairList, geometry g: PairGeometry) -> (Matrix, SphericalArray, [Double]) {
        let (N, d, ns) = (numbers.count, config.numFeatures, config.numSpecies)
        let species = Matrix(rows: N, cols: ns, data: numbers.flatMap { z in w.embedding[(z * ns)..<((z + 1) * ns)] })
        // The first RadialCoefficients MLP sees only the two species embeddings, so it is
        // evaluated once per distinct (Z_c, Z_o) pair (docs/MATH.md §7.2: work that depends only on species is done once).
        var rowOf: [Int: Int] = [:], tableInputs: [Double] = []
        tableRow = (0..<pairs.count).map { p in
            let key = numbers[pairs.centers[p]] * 1000 + numbers[pairs.others[p]]
            if let r = rowOf[key] { return r }
            rowOf[key] = rowOf.count
            tableInputs += Array(species.row(pairs.centers[p])) + Array(species.row(pairs.others[p]))
            return rowOf.count - 1
        }
        table = DenseOps.mlp(Matrix(rows: rowOf.count, cols: 2 * ns, data: tableInputs), w.radial)
        // The coefficients Dense (no bias) is linear, like the radial contraction e = Σ_k T_k r_k:
        // applied to each [K, d] table row once, coefficients = Σ_k (T_k W) r_k needs no pair's e.
        foldedTable = Self.fold(table, w.coefficients, basis: g.radial.cols)

        let h0 = w.nodeInit.map { DenseOps.dense(species, $0) } ?? Matrix(zeros: N, d)
        // Dense without bias commutes with the segment sum: sum first, then one Dense per atom.
        let e = PairOps.contractRadial(table, coefRow: tableRow, radial: g.radial, features: d)
        let message = DenseOps.dense(PairOps.segmentSum(e, centers: pairs.centers, atoms: N), w.scalarMessage)
        let h1 = DenseOps.update(h0, message, w.scalarUpdate, cache: &updateScalar)

        coefficients = PairOps.contractRadial(foldedTable, coefRow: tableRow, radial: g.radial,
                                              features: w.coefficients.outputs)
        let G = PairOps.edgeBasis(coefficients, harmonics: g.harmonics, maxDegree: config.maxDegree,
                                  features: config.numSphericalFeatures)
        let A0 = PairOps.segmentSum(G, centers: pairs.centers, atoms: N)
        let (A1, hv) = EquivariantOps.tensorDense(A0, w.tensorDense)
        halves = hv
        sphericalOut = A1
        let h2 = DenseOps.update(h1, EquivariantOps.normFeatures(A1), w.sphericalUpdate, cache: &updateSpherical)
        let energy = DenseOps.mlp(h2, w.energy, cache: &energyCache).data
        return (h2, A1, energy)
    }

    /// Backward from (h̄, Ā) of this stage's outputs, with Ē_i = 1. Adds into radial̄ and Ȳ.
    func backward(hBar hIn: Matrix, aBar aIn: SphericalArray, pairs: PairList, geometry g: PairGeometry,
                  radialBar: inout Matrix, harmonicsBar: inout Matrix) {
        let N = hIn.rows
        let hBar2 = hIn + DenseOps.mlpBackward(Matrix(rows: N, cols: 1, data: .init(repeating: 1, count: N)),
                                              w.energy, cache: energyCache)
        let (hBar1, normBar) = DenseOps.updateBackward(hBar2, w.sphericalUpdate, cache: updateSpherical)
        var aBar1 = aIn
        aBar1 += EquivariantOps.normFeaturesBackward(normBar, sphericalOut)
        let aBar0 = EquivariantOps.tensorDenseBackward(aBar1, w.tensorDense, halves: halves!)
        let (coefBar, yBar) = PairOps.edgeBasisBackward(
            PairOps.gather(aBar0, pairs.centers), coefficients, harmonics: g.harmonics)
        harmonicsBar += yBar
        // h0 depends only on species: its cotangent stops here.
        let (_, messageBar) = DenseOps.updateBackward(hBar1, w.scalarUpdate, cache: updateScalar)
        // radial̄ = Σ_f (Σ-message cotangent of the center)_f T_k,f + Σ_j coef̄_j (T_k W)_j.
        let messageSumBar = PairOps.gather(DenseOps.denseBackward(messageBar, w.scalarMessage), pairs.centers)
        radialBar += PairOps.contractRadialBackwardRadial(messageSumBar, table, coefRow: tableRow, kCount: g.radial.cols)
            + PairOps.contractRadialBackwardRadial(coefBar, foldedTable, coefRow: tableRow, kCount: g.radial.cols)
    }

    /// Each table row [K·d] read as K rows of d, through the Dense W (d → c, no bias): [rows, K·c].
    static func fold(_ table: Matrix, _ w: DenseWeights, basis K: Int) -> Matrix {
        precondition(w.bias == nil, "only a Dense without bias commutes with the radial contraction")
        let folded = DenseOps.dense(Matrix(rows: table.rows * K, cols: table.cols / K, data: table.data), w)
        return Matrix(rows: table.rows, cols: K * folded.cols, data: folded.data)
    }
}
