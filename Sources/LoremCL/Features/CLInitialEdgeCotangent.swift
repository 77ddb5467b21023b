/// The initial layers' share of the pair-feature cotangents in its per-atom form (docs/MATH.md
/// §7.2 backward): what `FeatureKernels.pairVectorGradients` needs to make that share's Ȳ and
/// radial̄ pair by pair, inside the kernel that consumes them, instead of from [P, (L+1)²] and
/// [P, K] buffers and the kept pair weights [P, (L+1)·s] (124, 84 and 144 MiB for a 12,288-atom
/// water box with lorem-jax's defaults). The kernel recomputes the weights from the table.
///
/// The edge basis summed over each center's pairs, A0_i = Σ_{p→i} w_p ⊗ Y_p, has the cotangent
/// Ā0 [N, (L+1)², s]; its weights come from the species-pair table,
/// w_p = Σ_k (T_k W)[row(p)]·radial_k(p), and the scalar message Σ_{p→i} Σ_k T_k[row(p)]·radial_k
/// has the cotangent n̄ [N, d], whose share of radial̄_p, Σ_f n̄[c(p),f]·T_k,f[row(p)], depends
/// only on the centre and the neighbour's species: `node` [N, S, K] (`PairKernels.contractTableNode`).
public struct CLInitialEdgeCotangent<T: CLReal> {
    /// Ā0 [N, (L+1)², s], read at each pair's center.
    public let aBar: CLBuffer<T>
    /// Pairs → centers.
    public let centers: CLRowMap
    /// s, the spherical features per slot.
    public let sphericalFeatures: Int
    /// The table folded with the coefficients' Dense, (T_k W) [S², K, (L+1)·s].
    public let folded: CLBuffer<T>
    /// The scalar message's share of radial̄ per centre and neighbour species, [N, S, K].
    public let node: CLBuffer<T>
    /// S, the species the tables cover (row = slot(Z_c)·S + slot(Z_o)).
    public let species: Int
    /// The table row of each pair [P].
    public let rows: CLBuffer<Int32>

    public init(aBar: CLBuffer<T>, centers: CLRowMap, sphericalFeatures: Int, folded: CLBuffer<T>, node: CLBuffer<T>,
                species: Int, rows: CLBuffer<Int32>) {
        self.aBar = aBar
        self.centers = centers
        self.sphericalFeatures = sphericalFeatures
        self.folded = folded
        self.node = node
        self.species = species
        self.rows = rows
    }

    /// The most weights (L+1)·s per pair the kernel keeps in private memory (MAX_EDGE_WEIGHTS
    /// in features.cl); lorem-jax's defaults have 56. Wider models use the stored cotangents.
    public static var maxWeights: Int { 128 }
}
