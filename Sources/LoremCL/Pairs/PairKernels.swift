import LoremModel

/// The pair↔atom plumbing on the device (Kernels/pairs.cl), mirroring LoremReference's PairOps
/// op for op: segment sums over pairs (Σ_{p→i}, docs/MATH.md §7.2), row gathers, the
/// concatenation [h_c ‖ h_o] and its split, RadialCoefficients' contraction (§7.1), the
/// spherical edge basis (§7.2 steps 5 and 9), and an elementwise add for residuals.
///
/// Matrices are row-major with explicit row counts; a spherical array [rows, (L+1)², F] is a
/// matrix of (L+1)²·F columns for the sums and gathers. Sums over pairs go through a
/// `CLRowMap`'s CSR, so every output is owned by one work-item: no atomics, deterministic.
public final class PairKernels<T: CLReal> {
    public let context: CLContext
    private let segmentSum, gather, copyColumns, contract, contractRadialBar, contractCoefBar: CLKernel
    private let radialSpeciesSum, contractTableSum, contractRadialBarFolded, contractTableNode: CLKernel
    private let edgeBasis, edgeBasisSum, edgeBasisSum8, edgeBasisWeightsBar, edgeBasisHarmonicsBar, add: CLKernel

    public init(context: CLContext) throws {
        self.context = context
        let program = try context.program(family: "pairs", precision: T.self)
        segmentSum = try program.kernel("segment_sum")
        gather = try program.kernel("gather_rows")
        copyColumns = try program.kernel("copy_columns")
        contract = try program.kernel("contract_radial")
        contractRadialBar = try program.kernel("contract_radial_backward_radial")
        contractCoefBar = try program.kernel("contract_radial_backward_coefficients")
        radialSpeciesSum = try program.kernel("radial_species_sum")
        contractTableSum = try program.kernel("contract_table_sum")
        contractRadialBarFolded = try program.kernel("contract_radial_backward_radial_folded")
        contractTableNode = try program.kernel("contract_table_node")
        edgeBasis = try program.kernel("edge_basis")
        edgeBasisSum = try program.kernel("edge_basis_segment_sum")
        edgeBasisSum8 = try program.kernel("edge_basis_segment_sum8")
        edgeBasisWeightsBar = try program.kernel("edge_basis_backward_weights")
        edgeBasisHarmonicsBar = try program.kernel("edge_basis_backward_harmonics")
        add = try program.kernel("add")
    }

    // MARK: Sums and gathers

    /// out[r] = Σ_{p: map.index[p] = r} x[p] over `columns` columns, in increasing p: with the
    /// centers' map the segment sum Σ_{p→i}; with the others' map the transpose of a gather
    /// through o(p). Rows no pair maps to are 0.
    ///
    /// `accumulating`: out[r] continues from its value instead (rows no pair maps to keep it).
    /// Summing the chunks of a pair range one after another into one zeroed buffer, each with
    /// its own map, then gives every row the same terms in the same order as one launch: chunked
    /// sums are bit-identical to unchunked ones (`DevicePairChunks`).
    public func segmentSum(_ x: CLBuffer<T>, columns: Int, _ map: CLRowMap, into out: CLBuffer<T>,
                           accumulating: Bool = false) throws {
        try x.require(map.rows, columns, "segment sum input")
        try out.require(map.sources, columns, "segment sum output")
        guard map.sources > 0, columns > 0 else { return }
        // Accumulating, rows no pair maps to keep their values: launch over the mapped ones only
        // (a chunk's centres and nearby neighbours, not all N atoms for every chunk).
        let rows = accumulating ? map.mappedSources : 0..<map.sources
        guard !rows.isEmpty else { return }
        try segmentSum.launch(global: [columns, rows.count], x, map.offsets, map.members, out, Int32(map.sources),
                              Int32(columns), Int32(accumulating ? 1 : 0), Int32(rows.lowerBound))
    }

    public func segmentSum(_ x: CLBuffer<T>, columns: Int, _ map: CLRowMap) throws -> CLBuffer<T> {
        let out = try CLBuffer<T>(context, count: map.sources * columns)
        try segmentSum(x, columns: columns, map, into: out)
        return out
    }

    /// out[p] = x[map.index[p]] (the node→pair gather, and the backward of a segment sum).
    public func gather(_ x: CLBuffer<T>, columns: Int, _ map: CLRowMap, into out: CLBuffer<T>) throws {
        try x.require(map.sources, columns, "gather input")
        try out.require(map.rows, columns, "gather output")
        guard map.rows > 0, columns > 0 else { return }
        try gather.launch(global: [columns, map.rows], x, map.index, out, Int32(map.rows), Int32(columns))
    }

    public func gather(_ x: CLBuffer<T>, columns: Int, _ map: CLRowMap) throws -> CLBuffer<T> {
        let out = try CLBuffer<T>(context, shape: [map.rows, columns], name: "gathered rows")
        try gather(x, columns: columns, map, into: out)
        return out
    }

    // MARK: Concatenation

    /// [a ‖ b] along columns for `rows` rows (RadialCoefficients' [h_c ‖ h_o], §7.2).
    public func concat(_ a: CLBuffer<T>, columns ca: Int, _ b: CLBuffer<T>, columns cb: Int, rows: Int) throws
        -> CLBuffer<T>
    {
        let out = try CLBuffer<T>(context, shape: [rows, ca + cb], name: "column concatenation")
        try copy(a, stride: ca, offset: 0, into: out, stride: ca + cb, offset: 0, rows: rows, columns: ca)
        try copy(b, stride: cb, offset: 0, into: out, stride: ca + cb, offset: ca, rows: rows, columns: cb)
        return out
    }

    /// The backward of `concat`: the two column blocks of the cotangent.
    public func concatBackward(_ outBar: CLBuffer<T>, rows: Int, columns ca: Int, _ cb: Int) throws
        -> (aBar: CLBuffer<T>, bBar: CLBuffer<T>)
    {
        let aBar = try CLBuffer<T>(context, shape: [rows, ca], name: "column split")
        let bBar = try CLBuffer<T>(context, shape: [rows, cb], name: "column split")
        try copy(outBar, stride: ca + cb, offset: 0, into: aBar, stride: ca, offset: 0, rows: rows, columns: ca)
        try copy(outBar, stride: ca + cb, offset: ca, into: bBar, stride: cb, offset: 0, rows: rows, columns: cb)
        return (aBar, bBar)
    }

    private func copy(_ src: CLBuffer<T>, stride ss: Int, offset so: Int, into dst: CLBuffer<T>, stride ds: Int,
                      offset dOff: Int, rows: Int, columns: Int) throws {
        try src.require(rows, ss, "column copy source")
        try dst.require(rows, ds, "column copy destination")
        guard rows > 0, columns > 0 else { return }
        try copyColumns.launch(global: [columns, rows], src, Int32(ss), Int32(so), dst, Int32(ds), Int32(dOff),
                               Int32(rows), Int32(columns))
    }

    // MARK: Radial contraction (§7.1)

    /// e[p,f] = Σ_k coef[row(p), k·d+f]·radial[p,k] for `pairs` pairs, with row(p) =
    /// coefRows[p] (a species-pair table row) or p when nil.
    public func contractRadial(_ coef: CLBuffer<T>, coefRows: CLBuffer<Int32>?, radial: CLBuffer<T>, pairs: Int,
                               basis K: Int, features d: Int) throws -> CLBuffer<T> {
        if coefRows == nil { try coef.require(pairs, K * d, "radial contraction coefficients") }
        try coefRows?.require(pairs, 1, "radial contraction coefficient rows")
        try radial.require(pairs, K, "radial contraction basis")
        let e = try CLBuffer<T>(context, shape: [pairs, d], name: "radial contraction e")
        guard pairs > 0, d > 0 else { return e }
        try contract.launch(global: [(d + 15) / 16, pairs], coef, coefRows ?? CLNullBuffer(), Int32(coefRows == nil ? 0 : 1),
                            radial, e, Int32(pairs), Int32(K), Int32(d))
        return e
    }

    /// out[i,f] = Σ_{p→i} Σ_k table[row(p), k·d+f]·radial[p,k], segmentSum(contractRadial(…))
    /// of a species-pair table [S², K·d] whose rows are row(p) = slots[c(p)]·S + slot(o(p)): the
    /// radial basis summed per centre and neighbour species first, then one contraction per atom
    /// and species, never a [P, d] intermediate and K·d multiply-adds per atom and species rather
    /// than per pair. Writes the rows of the centres `centers` maps pairs to
    /// (`centers.mappedSources`): all of them for a whole pair list, a chunk's centres for a
    /// chunk of whole centres, whose rows are complete within it. Rows of atoms without pairs
    /// are left as they are (0 in a zeroed `out`). The same numbers for any chunking.
    public func contractTableSum(_ table: CLBuffer<T>, coefRows: CLBuffer<Int32>, slots: CLBuffer<Int32>, species S: Int,
                                 radial: CLBuffer<T>, centers: CLRowMap, basis K: Int, features d: Int,
                                 into out: CLBuffer<T>) throws {
        try coefRows.require(centers.rows, 1, "radial contraction coefficient rows")
        try radial.require(centers.rows, K, "radial contraction basis")
        try slots.require(centers.sources, 1, "species slots")
        try table.require(S * S, K * d, "species-pair table")
        try out.require(centers.sources, d, "summed radial contraction")
        let rows = centers.mappedSources
        guard !rows.isEmpty, d > 0, K > 0 else { return }
        let R = try CLBuffer<T>(context, shape: [rows.count, S, K], name: "radial basis per neighbour species")
        try radialSpeciesSum.launch(global: [K, rows.count], radial, coefRows, Int32(S), centers.offsets, centers.members,
                                    R, Int32(centers.sources), Int32(K), Int32(rows.lowerBound))
        try contractTableSum.launch(global: [(d + 15) / 16, rows.count], table, slots, Int32(S), R, out,
                                    Int32(centers.sources), Int32(K), Int32(d), Int32(rows.lowerBound))
    }

    /// radial̄[p,k] = Σ_j ā[p,j]·folded[row(p), k·c+j] + Σ_f n̄[c(p),f]·table[row(p), k·d+f]: the
    /// radial cotangent of a species-pair table used twice, through a Dense folded into it
    /// (ā [P, c], `folded` [rows, K·c]) and summed over each center's pairs (n̄ [atoms, d]).
    public func contractRadialBackwardRadial(folded aBar: CLBuffer<T>, _ folded: CLBuffer<T>, features c: Int,
                                             node nodeBar: CLBuffer<T>, centers: CLRowMap, _ table: CLBuffer<T>,
                                             features d: Int, coefRows: CLBuffer<Int32>, basis K: Int) throws -> CLBuffer<T> {
        let pairs = centers.rows
        try aBar.require(pairs, c, "folded radial contraction cotangent")
        try nodeBar.require(centers.sources, d, "radial contraction backward node cotangent")
        try coefRows.require(pairs, 1, "radial contraction coefficient rows")
        let radialBar = try CLBuffer<T>(context, shape: [pairs, K], name: "radial basis cotangent")
        guard pairs > 0, K > 0 else { return radialBar }
        try contractRadialBarFolded.launch(global: [K, pairs], aBar, folded, Int32(c), nodeBar, centers.index, table,
                                           Int32(d), coefRows, radialBar, Int32(pairs), Int32(K))
        return radialBar
    }

    /// node [N, S, K]: node[i,o,k] = Σ_f n̄[i,f]·table[slot(i)·S+o, k·d+f], the scalar message's
    /// share of the radial cotangent of every pair of centre i and a neighbour of species slot o
    /// (`contractRadialBackwardRadial(folded:…)`'s n̄ term, the same bits), per atom instead of
    /// per pair. `slots` [N] is each atom's species slot and `table` [S², K·d].
    public func contractTableNode(_ nodeBar: CLBuffer<T>, _ table: CLBuffer<T>, slots: CLBuffer<Int32>, species S: Int,
                                  basis K: Int, features d: Int) throws -> CLBuffer<T> {
        let N = slots.count
        try nodeBar.require(N, d, "scalar message cotangent")
        try table.require(S * S, K * d, "species-pair table")
        let node = try CLBuffer<T>(context, shape: [N, S, K], name: "scalar message share of radial̄")
        guard N > 0, S > 0, K > 0 else { return node }
        try contractTableNode.launch(global: [K, S, N], nodeBar, table, slots, Int32(S), Int32(d), node, Int32(N), Int32(K))
        return node
    }

    /// radial̄[p,k] = Σ_f ē[p,f]·coef[row(p), k·d+f].
    public func contractRadialBackwardRadial(_ eBar: CLBuffer<T>, _ coef: CLBuffer<T>, coefRows: CLBuffer<Int32>?,
                                             pairs: Int, basis K: Int, features d: Int) throws -> CLBuffer<T> {
        try eBar.require(pairs, d, "radial contraction backward input")
        if coefRows == nil { try coef.require(pairs, K * d, "radial contraction coefficients") }
        try coefRows?.require(pairs, 1, "radial contraction coefficient rows")
        let radialBar = try CLBuffer<T>(context, shape: [pairs, K], name: "radial basis cotangent")
        guard pairs > 0, K > 0 else { return radialBar }
        try contractRadialBar.launch(global: [K, pairs], eBar, coef, coefRows ?? CLNullBuffer(), Int32(coefRows == nil ? 0 : 1),
                                     radialBar, Int32(pairs), Int32(K), Int32(d))
        return radialBar
    }

    /// coef̄[p, k·d+f] = ē[p,f]·radial[p,k] (per-pair coefficients only).
    public func contractRadialBackwardCoefficients(_ eBar: CLBuffer<T>, radial: CLBuffer<T>, pairs: Int, basis K: Int,
                                                   features d: Int) throws -> CLBuffer<T> {
        try eBar.require(pairs, d, "radial contraction backward input")
        try radial.require(pairs, K, "radial contraction basis")
        let coefBar = try CLBuffer<T>(context, shape: [pairs, K, d], name: "radial coefficients cotangent")
        guard pairs > 0, K * d > 0 else { return coefBar }
        try contractCoefBar.launch(global: [K * d, pairs], eBar, radial, coefBar, Int32(pairs), Int32(K), Int32(d))
        return coefBar
    }

    // MARK: Spherical edge basis (§7.2)

    /// G[p,a,f] = w[p, deg a·s+f]·Y[p,a]: w [pairs, (L+1)·s], Y [pairs, (L+1)²].
    public func edgeBasis(_ w: CLBuffer<T>, harmonics Y: CLBuffer<T>, pairs: Int, maxDegree L: Int, features s: Int)
        throws -> CLBuffer<T>
    {
        let slots = (L + 1) * (L + 1)
        try w.require(pairs, (L + 1) * s, "edge basis weights")
        try Y.require(pairs, slots, "edge basis harmonics")
        let G = try CLBuffer<T>(context, shape: [pairs, slots, s], name: "edge basis G")
        guard pairs > 0, s > 0 else { return G }
        try edgeBasis.launch(global: [s, slots, pairs], w, Y, G, Int32(pairs), Int32(L), Int32(s))
        return G
    }

    /// A [N, slots, s] = segmentSum(edgeBasis(w, Y), centers) without the [P, slots, s]
    /// intermediate (docs/MATH.md §7.2 step 5: A_i = Σ_{p→i} G_p).
    public func edgeBasisSum(_ w: CLBuffer<T>, harmonics Y: CLBuffer<T>, centers: CLRowMap, maxDegree L: Int, features s: Int)
        throws -> CLBuffer<T>
    {
        try edgeBasisSum(w, harmonics: Y, centers: centers, maxDegree: L, features: s, eightWide: s % 8 == 0)
    }

    /// `eightWide` picks the kernel (tests compare the two).
    func edgeBasisSum(_ w: CLBuffer<T>, harmonics Y: CLBuffer<T>, centers: CLRowMap, maxDegree L: Int, features s: Int,
                      eightWide: Bool) throws -> CLBuffer<T> {
        let A = try CLBuffer<T>(context, count: centers.sources * (L + 1) * (L + 1) * s, filledWith: 0,
                                name: "summed edge basis")
        try edgeBasisSum(w, harmonics: Y, centers: centers, maxDegree: L, features: s, into: A, eightWide: eightWide)
        return A
    }

    /// The same into the rows of A [N, slots, s] of the centres `centers` maps pairs to (a chunk
    /// of whole centres, whose rows are complete within it), as `contractTableSum`; other rows
    /// are left as they are.
    public func edgeBasisSum(_ w: CLBuffer<T>, harmonics Y: CLBuffer<T>, centers: CLRowMap, maxDegree L: Int, features s: Int,
                             into A: CLBuffer<T>) throws {
        try edgeBasisSum(w, harmonics: Y, centers: centers, maxDegree: L, features: s, into: A, eightWide: s % 8 == 0)
    }

    func edgeBasisSum(_ w: CLBuffer<T>, harmonics Y: CLBuffer<T>, centers: CLRowMap, maxDegree L: Int, features s: Int,
                      into A: CLBuffer<T>, eightWide: Bool) throws {
        guard !eightWide || s % 8 == 0 else {
            throw CLError.unsupported("edge basis sum: 8 features per work-item needs s a multiple of 8, got \(s)")
        }
        let slots = (L + 1) * (L + 1), pairs = centers.rows
        try w.require(pairs, (L + 1) * s, "edge basis weights")
        try Y.require(pairs, slots, "edge basis harmonics")
        try A.require(centers.sources * slots, s, "summed edge basis")
        let rows = centers.mappedSources
        guard !rows.isEmpty, s > 0 else { return }
        // 8 features per work-item when s allows (`edge_basis_segment_sum8`, the same bits).
        let (kernel, width) = eightWide ? (edgeBasisSum8, s / 8) : (edgeBasisSum, s)
        try kernel.launch(global: [width, slots, rows.count], w, Y, centers.offsets, centers.members, A,
                          Int32(centers.sources), Int32(L), Int32(s), Int32(rows.lowerBound))
    }

    /// (w̄, Ȳ) of `edgeBasis`, or with `centers` of `edgeBasisSum` (Ḡ[p] = Ā[c(p)], read in place).
    public func edgeBasisBackward(_ gBar: CLBuffer<T>, _ w: CLBuffer<T>, harmonics Y: CLBuffer<T>, pairs: Int,
                                  maxDegree L: Int, features s: Int, centers: CLRowMap? = nil)
        throws -> (wBar: CLBuffer<T>, yBar: CLBuffer<T>)
    {
        let slots = (L + 1) * (L + 1)
        if let centers {
            precondition(centers.rows == pairs, "edge basis backward: the centers map must cover the pairs")
            try gBar.require(centers.sources * slots, s, "edge basis backward input")
        } else {
            try gBar.require(pairs * slots, s, "edge basis backward input")
        }
        let row: any CLKernelArgument = centers?.index ?? CLNullBuffer(), hasRow = Int32(centers == nil ? 0 : 1)
        try w.require(pairs, (L + 1) * s, "edge basis weights")
        try Y.require(pairs, slots, "edge basis harmonics")
        let wBar = try CLBuffer<T>(context, shape: [pairs, L + 1, s], name: "edge basis weights cotangent")
        let yBar = try CLBuffer<T>(context, shape: [pairs, slots], name: "edge basis harmonics cotangent")
        guard pairs > 0 else { return (wBar, yBar) }
        if s > 0 {
            try edgeBasisWeightsBar.launch(global: [s, L + 1, pairs], gBar, row, hasRow, Y, wBar, Int32(pairs), Int32(L), Int32(s))
        }
        try edgeBasisHarmonicsBar.launch(global: [slots, pairs], gBar, row, hasRow, w, yBar, Int32(pairs), Int32(L), Int32(s))
        return (wBar, yBar)
    }

    // MARK: Residuals

    /// out = a + b on the first `count` elements; `out` may be `a` or `b`.
    public func add(_ a: CLBuffer<T>, _ b: CLBuffer<T>, count: Int, into out: CLBuffer<T>) throws {
        try a.require(count, 1, "add operand")
        try b.require(count, 1, "add operand")
        try out.require(count, 1, "add output")
        guard count > 0 else { return }
        try add.launch(global: [roundUp((count + 7) / 8, 64)], a, b, out, Int32(count))
    }
}
