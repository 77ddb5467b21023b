import LoremEngineCore
import LoremModel

/// The long-range branch, step 10 of `Lorem.__call__` (docs/MATH.md §7.2, §8): scalar and
/// spherical charges, one Ewald (or bare 1/r) potential per channel, mixed back through a Tensor
/// product with the node features.
struct LongRangeStage {
    let w: LongRangeWeights
    let config: LoremConfig
    private var chargeMLP = DenseOps.MLPCache()
    private var chargeHalves: (SphericalArray, SphericalArray)? = nil
    private(set) var charges: [[Double]] = []      // Q[channel][atom]
    private(set) var potentials: [[Double]] = []   // V[channel][atom]
    private var phi = SphericalArray(rows: 0, maxDegree: 0, features: 1)
    private var nodes = SphericalArray(rows: 0, maxDegree: 0, features: 1)
    /// U = Tensor(Φ, A), the input of the degree norms, and of LoremBEC's last tensor head.
    private(set) var mixed = SphericalArray(rows: 0, maxDegree: 0, features: 1)
    private var updateCache = DenseOps.UpdateCache()
    private var energyCache = DenseOps.MLPCache()

    init(weights: LongRangeWeights, config: LoremConfig) {
        self.w = weights
        self.config = config
    }

    mutating func forward(h: Matrix, A: SphericalArray, ewald: EwaldSummation) -> (Matrix, [Double]) {
        let N = h.rows
        let Llr = config.maxDegreeLR
        let q0 = DenseOps.mlp(h, w.charges, cache: &chargeMLP)
        let (qs, hv) = EquivariantOps.tensorDense(A, w.sphericalCharges)
        chargeHalves = hv
        // Channel 0 is the scalar charge, channels 1… the flat (l,m) slots of the spherical charges.
        charges = [q0.data] + (0..<qs.slots).map { a in (0..<N).map { i in qs.data[qs.offset(i, a)] } }
        potentials = ewald.potentials(charges)
        var v = SphericalArray(rows: N, maxDegree: Llr, features: 1)
        for i in 0..<N { for a in 0..<v.slots { v.data[v.offset(i, a)] = potentials[1 + a][i] } }
        phi = EquivariantOps.dense(v, w.potentialDense)
        nodes = A
        mixed = EquivariantOps.tensor(phi, A, w.tensor)
        let input = Matrix.concat(Matrix(rows: N, cols: 1, data: potentials[0]), EquivariantOps.normFeatures(mixed))
        let hOut = DenseOps.update(h, input, w.update, cache: &updateCache)
        return (hOut, DenseOps.mlp(hOut, w.energy, cache: &energyCache).data)
    }

    /// Backward with Ē_i = 1. Returns (h̄, Ā) for the stage inputs; the explicit geometric
    /// gradient of Ewald at fixed charges (§10.2 G2–G4, G6) is added into `positionsBar`/`virial`,
    /// and the charge cotangent is the Ewald operator applied to V̄ (§10.2 G5).
    func backward(hBar hIn: Matrix, ewald: EwaldSummation,
                  positionsBar: inout [SIMD3<Double>], virial: inout [[Double]]) -> (Matrix, SphericalArray) {
        let N = hIn.rows
        let hBarOut = hIn + DenseOps.mlpBackward(Matrix(rows: N, cols: 1, data: .init(repeating: 1, count: N)),
                                                w.energy, cache: energyCache)
        var (hBar, inputBar) = DenseOps.updateBackward(hBarOut, w.update, cache: updateCache)
        let normBar = inputBar.columns(1, inputBar.cols - 1)
        let (phiBar, aBarMix) = EquivariantOps.tensorBackward(
            EquivariantOps.normFeaturesBackward(normBar, mixed), phi, nodes, w.tensor)
        let vBar = EquivariantOps.denseBackward(phiBar, w.potentialDense)
        let potentialsBar = [inputBar.columns(0, 1).data]
            + (0..<vBar.slots).map { a in (0..<N).map { i in vBar.data[vBar.offset(i, a)] } }
        let geometric = ewald.geometryGradient(charges: charges, cotangent: potentialsBar)
        for i in 0..<N { positionsBar[i] += geometric.positions[i] }
        for a in 0..<3 { for b in 0..<3 { virial[a][b] += geometric.virial[a][b] } }
        let chargesBar = ewald.potentials(potentialsBar)
        hBar += DenseOps.mlpBackward(Matrix(rows: N, cols: 1, data: chargesBar[0]), w.charges, cache: chargeMLP)
        var qsBar = SphericalArray(rows: N, maxDegree: config.maxDegreeLR, features: 1)
        for i in 0..<N { for a in 0..<qsBar.slots { qsBar.data[qsBar.offset(i, a)] = chargesBar[1 + a][i] } }
        var aBar = aBarMix
        aBar += EquivariantOps.tensorDenseBackward(qsBar, w.sphericalCharges, halves: chargeHalves!)
        return (hBar, aBar)
    }
}
