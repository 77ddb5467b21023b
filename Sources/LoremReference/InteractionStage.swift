import LoremEngineCore
import LoremModel

/// One message-passing iteration, step 9 of `Lorem.__call__` (docs/MATH.md §7.2, §5).
struct InteractionStage {
    let w: InteractionWeights
    let config: LoremConfig
    private var radialMLP = DenseOps.MLPCache()
    private var coefficientsRC = Matrix(zeros: 0, 0)   // RadialCoefficients MLP output [P, K·d]
    private var updateScalar = DenseOps.UpdateCache()
    private var eq = EquivariantCache()
    private var energyCache = DenseOps.MLPCache()

    private struct EquivariantCache {
        var coefficients = Matrix(zeros: 0, 0)
        var filtered = SphericalArray(rows: 0, maxDegree: 0, features: 1)
        var nodesIn = SphericalArray(rows: 0, maxDegree: 0, features: 1)
        var nodeDense = SphericalArray(rows: 0, maxDegree: 0, features: 1)
        var messageDense = SphericalArray(rows: 0, maxDegree: 0, features: 1)
        var nodesOut = SphericalArray(rows: 0, maxDegree: 0, features: 1)
        var update = DenseOps.UpdateCache()
    }

    init(weights: InteractionWeights, config: LoremConfig) {
        self.w = weights
        self.config = config
    }

    mutating func forward(h: Matrix, A: SphericalArray, pairs: PairList, geometry g: PairGeometry)
        -> (Matrix, SphericalArray, [Double])
    {
        let (N, d) = (h.rows, config.numFeatures)
        let pf = Matrix.concat(PairOps.gather(h, pairs.centers), PairOps.gather(h, pairs.others))
        coefficientsRC = DenseOps.mlp(pf, w.radial, cache: &radialMLP)
        let e = PairOps.contractRadial(coefficientsRC, coefRow: nil, radial: g.radial, features: d)
        let message = DenseOps.dense(PairOps.segmentSum(e, centers: pairs.centers, atoms: N), w.scalarMessage)
        var hOut = DenseOps.update(h, message, w.scalarUpdate, cache: &updateScalar)
        var aOut = A
        if let q = w.equivariant {
            eq.coefficients = DenseOps.dense(e, q.coefficients)
            let G = PairOps.edgeBasis(eq.coefficients, harmonics: g.harmonics, maxDegree: config.maxDegree,
                                      features: config.numSphericalFeatures)
            // MessagePass: filter first, then Tensor(filter, source atom's features), summed per center.
            eq.filtered = EquivariantOps.dense(G, q.messagePass.filter)
            let T = EquivariantOps.tensor(eq.filtered, A, q.messagePass.tensor, yRows: pairs.others)
            let M = PairOps.segmentSum(T, centers: pairs.centers, atoms: N)
            eq.nodesIn = A
            eq.nodeDense = EquivariantOps.dense(A, q.nodeDense)
            eq.messageDense = EquivariantOps.dense(M, q.messageDense)
            aOut = EquivariantOps.tensor(eq.nodeDense, eq.messageDense, q.tensor)
            eq.nodesOut = aOut
            hOut = DenseOps.update(hOut, EquivariantOps.normFeatures(aOut), q.update, cache: &eq.update)
        }
        let energy = DenseOps.mlp(hOut, w.energy, cache: &energyCache).data
        return (hOut, aOut, energy)
    }

    /// Backward with Ē_i = 1; returns (h̄, Ā) for the stage inputs and adds into radial̄, Ȳ.
    func backward(hBar hIn: Matrix, aBar aIn: SphericalArray, pairs: PairList, geometry g: PairGeometry,
                  radialBar: inout Matrix, harmonicsBar: inout Matrix) -> (Matrix, SphericalArray) {
        let N = hIn.rows
        var hBar = hIn + DenseOps.mlpBackward(Matrix(rows: N, cols: 1, data: .init(repeating: 1, count: N)),
                                             w.energy, cache: energyCache)
        var aBar = aIn
        var eBar = Matrix(zeros: pairs.count, config.numFeatures)
        if let q = w.equivariant {
            let (hb, normBar) = DenseOps.updateBackward(hBar, q.update, cache: eq.update)
            hBar = hb
            var aOutBar = aIn
            aOutBar += EquivariantOps.normFeaturesBackward(normBar, eq.nodesOut)
            let (ndBar, mdBar) = EquivariantOps.tensorBackward(aOutBar, eq.nodeDense, eq.messageDense, q.tensor)
            aBar = EquivariantOps.denseBackward(ndBar, q.nodeDense)
            let mBar = EquivariantOps.denseBackward(mdBar, q.messageDense)
            let (filtBar, srcBar) = EquivariantOps.tensorBackward(
                PairOps.gather(mBar, pairs.centers), eq.filtered, eq.nodesIn, q.messagePass.tensor, yRows: pairs.others)
            aBar += srcBar
            let (coefBar, yBar) = PairOps.edgeBasisBackward(
                EquivariantOps.denseBackward(filtBar, q.messagePass.filter), eq.coefficients, harmonics: g.harmonics)
            harmonicsBar += yBar
            eBar += DenseOps.denseBackward(coefBar, q.coefficients)
        }
        let (hb, messageBar) = DenseOps.updateBackward(hBar, w.scalarUpdate, cache: updateScalar)
        hBar = hb
        eBar += PairOps.gather(DenseOps.denseBackward(messageBar, w.scalarMessage), pairs.centers)
        radialBar += PairOps.contractRadialBackwardRadial(eBar, coefficientsRC, coefRow: nil, kCount: g.radial.cols)
        let pfBar = DenseOps.mlpBackward(PairOps.contractRadialBackwardCoefficients(eBar, radial: g.radial),
                                         w.radial, cache: radialMLP)
        let d = config.numFeatures
        for p in 0..<pairs.count {
            for f in 0..<d {
                hBar[pairs.centers[p], f] += pfBar[p, f]
                hBar[pairs.others[p], f] += pfBar[p, d + f]
            }
        }
        return (hBar, aBar)
    }
}
