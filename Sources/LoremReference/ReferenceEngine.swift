import LoremEngineCore
import LoremIO
import LoremModel

/// The float64 CPU reference: every operation of `Lorem` written for clarity, with a
/// hand-written reverse pass (one backward per forward, docs/MATH.md §10.2) for forces and virial.
public struct ReferenceEngine: LoremEngine, Sendable {
    public let config: LoremConfig
    public let weights: LoremWeights
    /// Exact k-sum (lorem-jax's definition) or PME for the periodic long range.
    public let longRange: LongRangeMethod
    private let basis: BernsteinBasis
    private let harmonics: SphericalHarmonics

    public init(config: LoremConfig, weights: LoremWeights, longRange: LongRangeMethod = .ewald) throws {
        try self.init(config: config, weights: weights,
                      basis: BernsteinBasis(count: config.numRadial, cutoff: config.cutoff), longRange: longRange)
    }

    /// One reciprocal method for every periodic structure.
    public init(config: LoremConfig, weights: LoremWeights, reciprocal: ReciprocalMethod) throws {
        switch reciprocal {
        case .exact: try self.init(config: config, weights: weights, longRange: .ewald)
        case .pme(let p): try self.init(config: config, weights: weights, longRange: .pme(p))
        }
    }

    /// With an explicit radial basis (tests use the exact-binomial one, see `BernsteinBasis`).
    init(config: LoremConfig, weights: LoremWeights, basis: BernsteinBasis, longRange: LongRangeMethod = .ewald) throws {
        self.config = config
        self.weights = weights
        self.basis = basis
        self.longRange = longRange
        self.harmonics = SphericalHarmonics(maxDegree: config.maxDegree)
    }

    public func evaluate(_ s: Structure, forces wantForces: Bool = true) throws -> EngineResult {
        for z in s.numbers where !(1..<100).contains(z) {
            throw EngineError.unsupportedElement(z)
        }
        // Training-time neighbour list: r < cutoff exactly (docs/MATH.md §0).
        let pairs = try NeighborList.build(positions: s.positions, cell: s.cell, pbc: s.pbc, cutoff: config.cutoff)
        let geometry = PairGeometry(positions: s.positions, cell: s.cell, pairs: pairs, basis: basis, sh: harmonics)

        var initial = InitialStage(weights: weights.initial, config: config)
        var (h, A, energies) = initial.forward(numbers: s.numbers, pairs: pairs, geometry: geometry)
        // LoremBEC's heads read A after the initial layers and after each iteration, and U of the
        // long range (docs/MATH.md §12.1); each adds into `apt` at once.
        var heads = weights.tensorPredictors.makeIterator()
        var apt = weights.tensorPredictors.isEmpty ? nil : [[Double]](repeating: [Double](repeating: 0, count: 9), count: s.count)
        func head(_ x: SphericalArray) {
            guard apt != nil, let w = heads.next() else { return }
            for (i, t) in TensorPredictor.forward(x, w).enumerated() { for c in 0..<9 { apt![i][c] += t[c] } }
        }
        head(A)
        var interactions = weights.interactions.map { InteractionStage(weights: $0, config: config) }
        for t in interactions.indices {
            let (h2, A2, e) = interactions[t].forward(h: h, A: A, pairs: pairs, geometry: geometry)
            (h, A) = (h2, A2)
            for i in energies.indices { energies[i] += e[i] }
            head(A)
        }
        var longRange = weights.longRange.map { LongRangeStage(weights: $0, config: config) }
        var ewald: EwaldSummation? = nil
        if longRange != nil {
            ewald = try EwaldSummation(positions: s.positions, cell: s.cell, pbc: s.pbc, cutoff: config.cutoff,
                                       pairs: pairs, reciprocal: self.longRange.reciprocal(atoms: s.positions.count))
            let (h2, e) = longRange!.forward(h: h, A: A, ewald: ewald!)
            h = h2
            for i in energies.indices { energies[i] += e[i] }
            head(longRange!.mixed)
        }
        var result = EngineResult(
            energy: energies.reduce(0, +), perAtomEnergies: energies, forces: nil, virial: nil,
            charges: longRange?.charges ?? [], potentials: longRange?.potentials ?? [],
            bornEffectiveCharges: apt.map(BornChargeCoupling.acousticSumRule))
        guard wantForces else { return result }

        // Reverse pass: every energy head has Ē_i = 1; cotangents flow back stage by stage.
        let N = s.count
        var positionsBar = [SIMD3<Double>](repeating: .zero, count: N)
        var virial = [[Double]](repeating: [0, 0, 0], count: 3)
        var hBar = Matrix(zeros: N, config.numFeatures)
        var aBar = SphericalArray(rows: N, maxDegree: config.maxDegree, features: config.numSphericalFeatures)
        if let lr = longRange, let ew = ewald {
            (hBar, aBar) = lr.backward(hBar: hBar, ewald: ew, positionsBar: &positionsBar, virial: &virial)
        }
        var radialBar = Matrix(zeros: pairs.count, config.numRadial)
        var harmonicsBar = Matrix(zeros: pairs.count, config.sphericalCount)
        for stage in interactions.reversed() {
            (hBar, aBar) = stage.backward(hBar: hBar, aBar: aBar, pairs: pairs, geometry: geometry,
                                          radialBar: &radialBar, harmonicsBar: &harmonicsBar)
        }
        initial.backward(hBar: hBar, aBar: aBar, pairs: pairs, geometry: geometry,
                         radialBar: &radialBar, harmonicsBar: &harmonicsBar)
        let g = geometry.pairVectorGradients(radialBar: radialBar, harmonicsBar: harmonicsBar)
        scatterPairGradients(g, pairs: pairs, vectors: geometry.vectors, into: &positionsBar, virial: &virial)
        result.forces = positionsBar.map { -$0 }
        result.virial = virial
        return result
    }
}
