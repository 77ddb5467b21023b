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

    /// Measured with `lorem-gpu bench` on rocksalt NaCl, lorem-jax's default hyper-parameters,
    /// OpenCL float32 on PoCL (2 cores), ms per energy+forces, exact Ewald vs default PME:
    /// 64 atoms 63 vs 49, 216 atoms 181 vs 158, 512 atoms 647 vs 413. Below ~200 atoms the two
    /// cost about the same, and exact Ewald is lorem-jax's own definition and needs no clFFT
    /// kernel build per new mesh shape (seconds on PoCL, the first time), so it keeps them.
    public static let defaultThreshold = 200

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
        case .pme(let p): return "PME (order \(p.order), spacing \(p.spacing.map { "\($0) Å" } ?? "λ"))"
        }
    }
}

extension LongRangeMethod {
    /// How a structure's long range is summed under this method, for verbose output.
    public func summary(for s: Structure) -> String {
        s.pbc.contains(true) ? reciprocal(atoms: s.count).description : "direct 1/r sum (non-periodic)"
    }
}
