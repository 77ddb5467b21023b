import LoremIO

/// What `--long-range` asks for: how an engine picks each structure's reciprocal method.
public enum LongRangeMethod: Sendable, Equatable {
    /// The exact half-space k-sum for every periodic structure (lorem-jax's definition).
    case ewald
    /// PME for every periodic structure.
    case pme(PMEParameters)
    /// PME for periodic structures of at least `threshold` atoms, exact Ewald below: the exact
    /// k-sum costs O(N·N_k) ∝ N² at fixed density, PME O(N + M log M).
    case auto(PMEParameters, threshold: Int)

    /// Where PME overtakes the exact k-sum with the default model and PME settings, measured
    /// with `lorem-gpu bench` on rocksalt NaCl (OpenCL float32, PoCL on 2 cores; see
    /// Benchmarks/README.md). GPUs may cross over elsewhere; `--long-range` chooses explicitly.
    public static let defaultThreshold = 1000

    /// The method for a structure of `atoms` atoms (molecules ignore it: §8.3 is a direct sum).
    public func reciprocal(atoms: Int) -> ReciprocalMethod {
        switch self {
        case .ewald: return .exact
        case .pme(let p): return .pme(p)
        case .auto(let p, let threshold): return atoms >= threshold ? .pme(p) : .exact
        }
    }
}

extension ReciprocalMethod: CustomStringConvertible {
    public var description: String {
        switch self {
        case .exact: return "exact Ewald"
        case .pme(let p): return "PME (order \(p.order), spacing \(p.spacing.map { "\($0) Å" } ?? "λ/2"))"
        }
    }
}

extension LongRangeMethod {
    /// How a structure's long range is summed under this method, for verbose output.
    public func summary(for s: Structure) -> String {
        s.pbc.contains(true) ? reciprocal(atoms: s.count).description : "direct 1/r sum (non-periodic)"
    }
}
