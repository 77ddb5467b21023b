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
        diagonal = try CLBuffer(context, T.converting(Self.diagonal(maxDegree)))
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
    /// pair uses its center's structure's cell. Without `edgeInputs` only the pair vectors and
    /// distances are made (the radial basis and harmonics are then empty buffers, as after
    /// `CLPairFeatures.dropping`): for an engine that makes those a chunk of pairs at a time
    /// (`edgeInputs(…)`).
    public func forward(positions: CLBuffer<T>, cells: CLBuffer<T>, layout: CLStructureLayout, pairs: CLPairList,
                        keepingDerivatives: Bool = false, edgeInputs: Bool = true) throws -> CLPairFeatures<T>
    {
        try check(positions: positions, cells: cells, layout: layout, pairs: pairs)
        let P = pairs.count, K = radialCount, S = harmonicsCount
        let derivatives = keepingDerivatives && edgeInputs
        let out = CLPairFeatures<T>(
            count: P, radialCount: K, harmonicsCount: S,
            vectors: try CLBuffer(context, shape: [P, 3], name: "pair vectors"),
            distances: try CLBuffer(context, shape: [P], name: "pair distances"),
            radial: try CLBuffer(context, shape: [edgeInputs ? P : 0, K], name: "radial basis"),
            radialDerivative: derivatives ? try CLBuffer(context, shape: [P, K], name: "radial basis derivative") : nil,
            harmonics: try CLBuffer(context, shape: [edgeInputs ? P : 0, S], name: "spherical harmonics"),
            harmonicGradients: derivatives ? try CLBuffer(context, shape: [P, S, 3], name: "spherical harmonics gradient")
                : nil)
        try launch(positions, cells, layout, pairs, 0..<P, geometry: (out.vectors, out.distances),
                   edges: edgeInputs ? (out.radial, out.harmonics) : nil,
                   derivatives: derivatives ? (out.radialDerivative!, out.harmonicGradients!) : nil)
        return out
    }

    /// The radial basis [n, K] and harmonics [n, (L+1)²] of the pairs `range` (n of them) alone,
    /// the same numbers as `forward`'s rows for them.
    public func edgeInputs(positions: CLBuffer<T>, cells: CLBuffer<T>, layout: CLStructureLayout, pairs: CLPairList,
                           range: Range<Int>) throws -> (radial: CLBuffer<T>, harmonics: CLBuffer<T>)
    {
        try check(positions: positions, cells: cells, layout: layout, pairs: pairs)
        precondition(range.lowerBound >= 0 && range.upperBound <= pairs.count, "edge inputs: pairs out of range")
        let radial = try CLBuffer<T>(context, shape: [range.count, radialCount], name: "radial basis (chunk)")
        let harmonics = try CLBuffer<T>(context, shape: [range.count, harmonicsCount], name: "spherical harmonics (chunk)")
        try launch(positions, cells, layout, pairs, range, geometry: nil, edges: (radial, harmonics), derivatives: nil)
        return (radial, harmonics)
    }

    private func check(positions: CLBuffer<T>, cells: CLBuffer<T>, layout: CLStructureLayout, pairs: CLPairList) throws {
        try positions.require(pairs.atoms, 3, "pair features positions")
        try cells.require(layout.structures, 9, "pair features cells")
        guard layout.atoms == pairs.atoms else {
            throw CLError.sizeMismatch("pair features: the layout has \(layout.atoms) atoms, the pair list \(pairs.atoms)")
        }
    }

    private func launch(_ positions: CLBuffer<T>, _ cells: CLBuffer<T>, _ layout: CLStructureLayout, _ pairs: CLPairList,
                        _ range: Range<Int>, geometry: (CLBuffer<T>, CLBuffer<T>)?, edges: (CLBuffer<T>, CLBuffer<T>)?,
                        derivatives: (CLBuffer<T>, CLBuffer<T>)?) throws {
        guard !range.isEmpty else { return }
        let null = CLNullBuffer()
        // Work-groups of 64: the kernel's private arrays (the harmonics, 169 values at L ≤ 12, and
        // the Bernstein terms) are replicated per work-item of a group on PoCL's thread stack, and
        // a group of thousands of work-items, PoCL's own choice, overflows it.
        try featuresKernel.launch(global: [roundUp(range.count, 64)], local: [64], positions, cells, layout.atomStructure,
                                  pairs.centers, pairs.others, pairs.shifts, Int32(range.lowerBound), Int32(range.count),
                                  T(cutoff), Int32(radialCount), beta, betaLower, Int32(maxDegree), diagonal,
                                  Int32(geometry == nil ? 0 : 1), geometry?.0 ?? null, geometry?.1 ?? null,
                                  Int32(edges == nil ? 0 : 1), edges?.0 ?? null, Int32(derivatives == nil ? 0 : 1),
                                  derivatives?.0 ?? null, edges?.1 ?? null, derivatives?.1 ?? null)
    }

    // MARK: Backward

    /// ḡ_p = ∂E/∂R_p [P,3] from the cotangents radial̄ [P,K] and Ȳ [P,(L+1)²] (§10.2 G1): the
    /// stored sums (either may be absent: no stage added to it) plus, with `initial`, the
    /// initial layers' share made inside the kernel from its per-atom form. Other pair-vector
    /// paths (e.g. Ewald real space, G2) can be added to ḡ before `scatter`.
    public func pairVectorGradients(_ f: CLPairFeatures<T>, radialBar: CLBuffer<T>?, harmonicsBar: CLBuffer<T>?,
                                    initial: CLInitialEdgeCotangent<T>? = nil) throws -> CLBuffer<T>
    {
        let (P, L) = (f.count, maxDegree)
        try radialBar?.require(P, f.radialCount, "radial cotangent")
        try harmonicsBar?.require(P, f.harmonicsCount, "harmonics cotangent")
        if let initial, P > 0 { try check(initial, pairs: P) }
        let g = try CLBuffer<T>(context, shape: [P, 3], name: "pair-vector gradient")
        guard P > 0 else { return g }
        // The derivatives are recomputed from the pair vectors whether or not the forward kept them.
        let null = CLNullBuffer()
        try gradientsKernel.launch(global: [roundUp(P, 64)], local: [64], f.vectors, f.distances, Int32(radialBar == nil ? 0 : 1),
                                   radialBar ?? null, Int32(harmonicsBar == nil ? 0 : 1), harmonicsBar ?? null,
                                   Int32(P), T(cutoff), Int32(f.radialCount), beta, betaLower, Int32(L), diagonal,
                                   Int32(initial == nil ? 0 : 1), initial?.centers.index ?? null, initial?.aBar ?? null,
                                   Int32(initial?.sphericalFeatures ?? 0), initial?.folded ?? null, initial?.node ?? null,
                                   Int32(initial?.species ?? 0), initial?.rows ?? null, g)
        return g
    }

    private func check(_ initial: CLInitialEdgeCotangent<T>, pairs P: Int) throws {
        let (s, S, K) = (initial.sphericalFeatures, initial.species, radialCount)
        let c = (maxDegree + 1) * s
        guard c <= CLInitialEdgeCotangent<T>.maxWeights else {
            throw CLError.unsupported("the initial layers' pair cotangent: (L+1)·s = \(c) weights per pair, at most "
                + "\(CLInitialEdgeCotangent<T>.maxWeights)")
        }
        guard initial.centers.rows == P else {
            throw CLError.sizeMismatch("the initial layers' pair cotangent maps \(initial.centers.rows) pairs, not \(P)")
        }
        let N = initial.centers.sources
        try initial.aBar.require(N * harmonicsCount, s, "summed edge basis cotangent")
        try initial.node.require(N * max(S, 1), K, "scalar message share of the radial cotangent")
        try initial.rows.require(P, 1, "species-pair table rows")
        try initial.folded.require(S * S, K * c, "folded species-pair table")
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
    public func backward(_ f: CLPairFeatures<T>, pairs: CLPairList, radialBar: CLBuffer<T>?,
                         harmonicsBar: CLBuffer<T>?, initial: CLInitialEdgeCotangent<T>? = nil,
                         layout: CLStructureLayout? = nil) throws -> (gradient: CLBuffer<T>, virial: CLBuffer<T>)
    {
        let g = try pairVectorGradients(f, radialBar: radialBar, harmonicsBar: harmonicsBar, initial: initial)
        return try scatter(g, vectors: f.vectors, pairs: pairs,
                           layout: layout ?? CLStructureLayout(context, atomCounts: [pairs.atoms]))
    }
}
