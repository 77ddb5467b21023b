import LoremModel

/// The pair geometry of LOREM's `Initial` on the device (Kernels/features.cl), mirroring
/// LoremReference's PairGeometry so it can be checked against it: pair vectors, distances, the
/// cutoff-weighted Bernstein basis with its custom derivative (docs/MATH.md §2), spherical
/// harmonics with gradients (§1), and the backward to atoms and virial (§10.2 G1).
///
/// The model constants are uploaded once here: the float32 β tables for n = K−1 and n = K−2
/// (the latter only for the custom derivative rule) and the diagonal Q_m^m of the harmonics
/// recursion. Every reduction has a fixed order and there are no atomics, so results are
/// bit-reproducible.
public final class FeatureKernels<T: CLReal> {
    public let context: CLContext
    public let cutoff: Double
    public let radialCount: Int
    public let maxDegree: Int
    public var harmonicsCount: Int { (maxDegree + 1) * (maxDegree + 1) }
    private let beta, betaLower, diagonal: CLBuffer<T>
    private let featuresKernel, gradientsKernel, scatterKernel, virialKernel: CLKernel

    /// Largest supported K and L: the kernels' private arrays are sized by them (features.cl).
    public static var maxRadialCount: Int { 64 }
    public static var maxSupportedDegree: Int { 12 }

    public init(context: CLContext, cutoff: Double, radialCount: Int, maxDegree: Int) throws {
        guard cutoff > 0, cutoff.isFinite else { throw CLError.unsupported("cutoff must be positive, got \(cutoff)") }
        guard radialCount >= 2, radialCount <= Self.maxRadialCount,
              let b = BernsteinTables.beta(n: radialCount - 1), let bl = BernsteinTables.beta(n: radialCount - 2)
        else { throw CLError.unsupported("num_radial = \(radialCount) (supported: 2…\(Self.maxRadialCount))") }
        guard (0...Self.maxSupportedDegree).contains(maxDegree) else {
            throw CLError.unsupported("max_degree = \(maxDegree) (supported: 0…\(Self.maxSupportedDegree))")
        }
        self.context = context
        self.cutoff = cutoff
        self.radialCount = radialCount
        self.maxDegree = maxDegree
        beta = try CLBuffer(context, b.map { T(Double($0)) })
        betaLower = try CLBuffer(context, bl.map { T(Double($0)) })
        diagonal = try CLBuffer(context, Self.diagonal(maxDegree).map { T($0) })
        let program = try context.program(family: "features", precision: T.self)
        featuresKernel = try program.kernel("pair_features")
        gradientsKernel = try program.kernel("pair_vector_gradients")
        scatterKernel = try program.kernel("scatter_pair_gradients")
        virialKernel = try program.kernel("sum_virial")
    }

    /// Q_m^m = sqrt((2m)!)/(2^m m!) for m = 0…L (§1), by the ratio sqrt(2m(2m−1))/(2m), which
    /// never forms the factorials.
    static func diagonal(_ L: Int) -> [Double] {
        var d = [Double](repeating: 1, count: L + 1)
        for m in stride(from: 1, through: L, by: 1) {
            d[m] = d[m - 1] * (Double(2 * m) * Double(2 * m - 1)).squareRoot() / Double(2 * m)
        }
        return d
    }

    // MARK: Forward

    /// Per-pair features of `pairs` for positions [N,3] and cell [3,3] (rows = lattice vectors;
    /// any values when no shift is non-zero, e.g. molecules).
    /// With `keepingDerivatives` the radial derivative and ∂Y/∂u are stored too (tests compare
    /// them with the reference); the backward never reads them but recomputes them: 716 bytes a
    /// pair less in float32 at lorem-jax's defaults (K = 32, L = 6), −16 to −23% of device
    /// memory (`Benchmarks/README.md`).
    public func forward(positions: CLBuffer<T>, cell: CLBuffer<T>, pairs: CLPairList, keepingDerivatives: Bool = false)
        throws -> CLPairFeatures<T>
    {
        try forward(positions: positions, cells: cell, layout: CLStructureLayout(context, atomCounts: [pairs.atoms]),
                    pairs: pairs, keepingDerivatives: keepingDerivatives)
    }

    /// The same for a batch: `cells` [S,3,3] holds one cell per structure of `layout`, and each
    /// pair uses its center's structure's cell.
    public func forward(positions: CLBuffer<T>, cells: CLBuffer<T>, layout: CLStructureLayout, pairs: CLPairList,
                        keepingDerivatives: Bool = false) throws -> CLPairFeatures<T>
    {
        try positions.require(pairs.atoms, 3, "pair features positions")
        try cells.require(layout.structures, 9, "pair features cells")
        guard layout.atoms == pairs.atoms else {
            throw CLError.sizeMismatch("pair features: the layout has \(layout.atoms) atoms, the pair list \(pairs.atoms)")
        }
        let P = pairs.count, K = radialCount, S = harmonicsCount
        let out = CLPairFeatures<T>(
            count: P, radialCount: K, harmonicsCount: S,
            vectors: try CLBuffer(context, shape: [P, 3], name: "pair vectors"),
            distances: try CLBuffer(context, shape: [P], name: "pair distances"),
            radial: try CLBuffer(context, shape: [P, K], name: "radial basis"),
            radialDerivative: keepingDerivatives ? try CLBuffer(context, shape: [P, K], name: "radial basis derivative") : nil,
            harmonics: try CLBuffer(context, shape: [P, S], name: "spherical harmonics"),
            harmonicGradients: keepingDerivatives ? try CLBuffer(context, shape: [P, S, 3], name: "spherical harmonics gradient")
                : nil)
        guard P > 0 else { return out }
        try featuresKernel.launch(global: [roundUp(P, 64)], positions, cells, layout.atomStructure, pairs.centers,
                                  pairs.others, pairs.shifts, Int32(P), T(cutoff), Int32(K), beta, betaLower,
                                  Int32(maxDegree), diagonal, out.vectors, out.distances, out.radial,
                                  Int32(keepingDerivatives ? 1 : 0), out.radialDerivative ?? CLNullBuffer(), out.harmonics,
                                  out.harmonicGradients ?? CLNullBuffer())
        return out
    }

    // MARK: Backward

    /// ḡ_p = ∂E/∂R_p [P,3] from the cotangents radial̄ [P,K] and Ȳ [P,(L+1)²] (§10.2 G1). Other
    /// pair-vector paths (e.g. Ewald real space, G2) can be added to it before `scatter`.
    public func pairVectorGradients(_ f: CLPairFeatures<T>, radialBar: CLBuffer<T>, harmonicsBar: CLBuffer<T>)
        throws -> CLBuffer<T>
    {
        try radialBar.require(f.count, f.radialCount, "radial cotangent")
        try harmonicsBar.require(f.count, f.harmonicsCount, "harmonics cotangent")
        let g = try CLBuffer<T>(context, shape: [f.count, 3], name: "pair-vector gradient")
        guard f.count > 0 else { return g }
        // The derivatives are recomputed from the pair vectors whether or not the forward kept them.
        try gradientsKernel.launch(global: [roundUp(f.count, 64)], f.vectors, f.distances, radialBar, harmonicsBar,
                                   Int32(f.count), T(cutoff), Int32(f.radialCount), beta, betaLower, Int32(maxDegree),
                                   diagonal, g)
        return g
    }

    /// ∂E/∂R [N,3] and the virial W = Σ_p R_p ⊗ ḡ_p [3,3] row-major (which holds the cell path,
    /// §10.2 G1) from pair-vector gradients ḡ [P,3]. Per-atom gathers through `pairs.reverse`
    /// and per-atom virial partials summed over atoms in increasing order.
    public func scatter(_ g: CLBuffer<T>, vectors: CLBuffer<T>, pairs: CLPairList) throws
        -> (gradient: CLBuffer<T>, virial: CLBuffer<T>)
    {
        try scatter(g, vectors: vectors, pairs: pairs, layout: CLStructureLayout(context, atomCounts: [pairs.atoms]))
    }

    /// The same for a batch: one virial [3,3] per structure of `layout` ([S,9]).
    public func scatter(_ g: CLBuffer<T>, vectors: CLBuffer<T>, pairs: CLPairList, layout: CLStructureLayout) throws
        -> (gradient: CLBuffer<T>, virial: CLBuffer<T>)
    {
        try g.require(pairs.count, 3, "pair-vector gradients")
        try vectors.require(pairs.count, 3, "pair vectors")
        let N = pairs.atoms
        let gradient = try CLBuffer<T>(context, count: N * 3)
        let partial = try CLBuffer<T>(context, count: N * 9)
        let virial = try CLBuffer<T>(context, count: 9 * layout.structures)
        if N > 0 {
            try scatterKernel.launch(global: [roundUp(N, 64)], vectors, g, pairs.start, pairs.reverse, Int32(N), gradient,
                                     partial)
        }
        try virialKernel.launch(global: [9, layout.structures], partial, layout.structureStart,
                                Int32(layout.structures), virial)
        return (gradient, virial)
    }

    /// The whole backward of the features: `pairVectorGradients` then `scatter` (one virial per
    /// structure of `layout`, or one in total when it is nil).
    public func backward(_ f: CLPairFeatures<T>, pairs: CLPairList, radialBar: CLBuffer<T>,
                         harmonicsBar: CLBuffer<T>, layout: CLStructureLayout? = nil) throws
        -> (gradient: CLBuffer<T>, virial: CLBuffer<T>)
    {
        let g = try pairVectorGradients(f, radialBar: radialBar, harmonicsBar: harmonicsBar)
        return try scatter(g, vectors: f.vectors, pairs: pairs,
                           layout: layout ?? CLStructureLayout(context, atomCounts: [pairs.atoms]))
    }
}
