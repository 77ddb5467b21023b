import LoremIO

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

/// Inputs no engine can evaluate, found before any work.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case unsupportedElement(Int)
    public var description: String {
        switch self {
        case .unsupportedElement(let z): return "atomic number \(z) is outside the model's embedding table (1…99)"
        }
    }
}
