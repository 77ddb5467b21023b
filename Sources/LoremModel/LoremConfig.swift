/// Hyper-parameters of `lorem.models.mlip.Lorem` (docs/MATH.md §0), with lorem-jax's defaults.
public struct LoremConfig: Sendable, Equatable {
    public var cutoff: Double = 5.0
    public var maxDegree: Int = 6
    public var maxDegreeLR: Int = 2
    public var numFeatures: Int = 128
    public var numRadial: Int = 32
    public var numSpecies: Int = 8
    public var numSphericalFeatures: Int = 8
    public var cutoffFunction: String = "cosine_cutoff"
    public var radialBasis: String = "basic_bernstein"
    public var longRange: Bool = true
    public var numMessagePassing: Int = 0
    public var equivariantMessagePassing: Bool = true
    public var initializeNodeFeatures: Bool = true
    /// `lorem.models.bec.LoremBEC`: the same energy model plus per-atom Born effective charges
    /// (docs/MATH.md §12).
    public var bornEffectiveCharges: Bool = false

    public init() {}

    /// LoremBEC's defaults: the energy model's, except that equivariant message passing and node
    /// initialisation are off (§12.1).
    public static func bornEffectiveChargeDefaults() -> LoremConfig {
        var c = LoremConfig()
        c.bornEffectiveCharges = true
        c.equivariantMessagePassing = false
        c.initializeNodeFeatures = false
        return c
    }

    /// The class name model.yaml must carry.
    public static let modelClass = "lorem.models.mlip.Lorem"
    /// The class name of Born-effective-charge models.
    public static let bornEffectiveChargeClass = "lorem.models.bec.LoremBEC"

    /// (L+1)² slots of the short-range spherical features.
    public var sphericalCount: Int { SphericalLayout.count(maxDegree: maxDegree) }
    /// Number of long-range charge channels: 1 scalar + (L_lr+1)² spherical.
    public var chargeChannels: Int { 1 + SphericalLayout.count(maxDegree: maxDegreeLR) }

    /// Rejects values lorem-jax itself could not run or that we do not implement.
    public func validate(file: String) throws {
        func bad(_ name: String, _ reason: String) -> ModelError {
            .badHyperParameter(file: file, name: name, reason: reason)
        }
        guard cutoff > 0, cutoff.isFinite else { throw bad("cutoff", "must be a positive number, got \(cutoff)") }
        guard maxDegree >= 0 else { throw bad("max_degree", "must be ≥ 0, got \(maxDegree)") }
        guard maxDegree <= 12 else { throw ModelError.unsupported("max_degree = \(maxDegree) (at most 12)") }
        guard maxDegreeLR >= 0 else { throw bad("max_degree_lr", "must be ≥ 0, got \(maxDegreeLR)") }
        if longRange && maxDegreeLR > maxDegree {
            throw bad("max_degree_lr", "must not exceed max_degree (\(maxDegreeLR) > \(maxDegree)); lorem-jax cannot run it either")
        }
        for (name, v) in [("num_features", numFeatures), ("num_radial", numRadial), ("num_species", numSpecies),
                          ("num_spherical_features", numSphericalFeatures)] where v < 1 {
            throw bad(name, "must be ≥ 1, got \(v)")
        }
        if bornEffectiveCharges && maxDegree < 1 {
            throw bad("max_degree", "must be ≥ 1 for LoremBEC (its tensor heads need l = 1 features; lorem-jax raises too)")
        }
        guard numMessagePassing >= 0 else { throw bad("num_message_passing", "must be ≥ 0, got \(numMessagePassing)") }
        guard cutoffFunction == "cosine_cutoff" else {
            throw ModelError.unsupported("cutoff_fn '\(cutoffFunction)' in \(file) (only 'cosine_cutoff')")
        }
        guard radialBasis == "basic_bernstein" else {
            throw ModelError.unsupported("radial_basis '\(radialBasis)' in \(file) (only 'basic_bernstein')")
        }
    }
}
