import LoremIO
import LoremModel

/// An engine evaluates the model on one structure: the float64 reference here, the OpenCL
/// engine in LoremGPU. The CLI and `verify` see engines only through this.
public protocol LoremEngine {
    func evaluate(_ structure: Structure, forces: Bool) throws -> EngineResult
    /// Several structures at once; engines that can share launches across structures (OpenCL)
    /// override this, the default evaluates them one by one.
    func evaluate(batch: [Structure], forces: Bool) throws -> [EngineResult]
}

extension LoremEngine {
    public func evaluate(batch: [Structure], forces: Bool) throws -> [EngineResult] {
        try batch.map { try evaluate($0, forces: forces) }
    }
}

/// What one evaluation produces. Energies exclude the elemental baseline (the caller adds it).
public struct EngineResult: Sendable {
    public var energy: Double
    public var perAtomEnergies: [Double]
    /// F_i = −∂E/∂R_i; nil when forces were not requested.
    public var forces: [SIMD3<Double>]?
    /// W[a][b] = Σ_i R_ia ∂E/∂R_ib + Σ_A h_Aa ∂E/∂h_Ab, lorem-jax's "stress" (docs/MATH.md §10.1),
    /// not divided by the volume. Meaningful for 3D-periodic structures.
    public var virial: [[Double]]?
    /// Long-range charges Q[channel][atom] and potentials V[channel][atom] (empty without `lr`).
    public var charges: [[Double]]
    public var potentials: [[Double]]
    /// LoremBEC's Born effective charges (atomic polar tensors) in e, after the acoustic sum rule:
    /// per atom the row-major 3×3 Z_i,ab (a: force/displacement, b: field), lorem-jax's `apt`.
    /// Nil for `Lorem` models.
    public var bornEffectiveCharges: [[Double]]?

    public init(energy: Double, perAtomEnergies: [Double], forces: [SIMD3<Double>]?, virial: [[Double]]?,
                charges: [[Double]], potentials: [[Double]], bornEffectiveCharges: [[Double]]? = nil) {
        self.energy = energy
        self.perAtomEnergies = perAtomEnergies
        self.forces = forces
        self.virial = virial
        self.charges = charges
        self.potentials = potentials
        self.bornEffectiveCharges = bornEffectiveCharges
    }

    /// The first quantity that is not finite ("energy", "the forces of atom 3", …), or nil. No
    /// caller may hand on a NaN: predict and the driver turn this into an error naming the frame.
    public var nonFiniteQuantity: String? {
        if !energy.isFinite { return "energy" }
        if let f = forces, let i = f.firstIndex(where: { !($0.x.isFinite && $0.y.isFinite && $0.z.isFinite) }) {
            return "the forces of atom \(i)"
        }
        if let w = virial, !w.joined().allSatisfy(\.isFinite) { return "virial (stress)" }
        if let z = bornEffectiveCharges, let i = z.firstIndex(where: { !$0.allSatisfy(\.isFinite) }) {
            return "the Born charges of atom \(i)"
        }
        return nil
    }

    /// The forces in a homogeneous electric field E (V/Å): F_i,a += Σ_b Z_i,ab·E_b, as lorem-jax's
    /// `predict(..., electric_field=E)` (docs/MATH.md §12.4; the column index contracts with E).
    /// Energy and virial are unchanged: LoremBEC adds no −μ·E term.
    public func inField(_ field: SIMD3<Double>) -> EngineResult {
        guard let z = bornEffectiveCharges, let f = forces else { return self }
        var out = self
        out.forces = f.indices.map { i in
            f[i] + SIMD3((0..<3).map { a in (0..<3).reduce(0.0) { $0 + z[i][3 * a + $1] * field[$1] } })
        }
        return out
    }
}

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
            throw ReferenceError.unsupportedElement(z)
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
            bornEffectiveCharges: apt.map(TensorPredictor.acousticSumRule))
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

public enum ReferenceError: Error, CustomStringConvertible, Equatable {
    case unsupportedElement(Int)
    public var description: String {
        switch self {
        case .unsupportedElement(let z): return "atomic number \(z) is outside the model's embedding table (1…99)"
        }
    }
}
