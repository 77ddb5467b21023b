@testable import LoremCL
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// Every pair-plumbing kernel against PairOps (the float64 reference), forward and backward, in
/// float32 and float64, on a real neighbour list (pairs sorted by center, many pairs per atom).
final class PairKernelTests: XCTestCase {
    func testSegmentSumAndGather() throws {
        try forEachPrecision(Float.self, checkSegmentSumAndGather)
        try forEachPrecision(Double.self, checkSegmentSumAndGather)
    }

    func checkSegmentSumAndGather<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 21)
        let (atoms, list) = try rng.neighbourList()
        let context = kernels.context, pairs = kernels.pairs
        let centers = try CLRowMap(context, index: list.centers, sources: atoms)
        let others = try CLRowMap(context, index: list.others, sources: atoms)

        let x = rng.matrix(list.count, 13)
        let sum = try pairs.segmentSum(try upload(context, x, as: T.self), columns: 13, centers)
        expectClose(T.self, relativeError(try sum.download(),
                                          PairOps.segmentSum(x, centers: list.centers, atoms: atoms).data),
                    "segment sum \(label)")
        // Through the others' map: the transpose of a gather through o(p).
        let byOther = try pairs.segmentSum(try upload(context, x, as: T.self), columns: 13, others)
        expectClose(T.self, relativeError(try byOther.download(),
                                          PairOps.segmentSum(x, centers: list.others, atoms: atoms).data),
                    "segment sum by others \(label)")

        let s = rng.spherical(list.count, 6, 3)
        let sphericalSum = try pairs.segmentSum(try upload(context, s, as: T.self), columns: 49 * 3, centers)
        expectClose(T.self, relativeError(try sphericalSum.download(),
                                          PairOps.segmentSum(s, centers: list.centers, atoms: atoms).data),
                    "spherical segment sum \(label)")

        let h = rng.matrix(atoms, 11), a = rng.spherical(atoms, 2, 5)
        let gathered = try pairs.gather(try upload(context, h, as: T.self), columns: 11, others)
        expectClose(T.self, relativeError(try gathered.download(), PairOps.gather(h, list.others).data),
                    "gather \(label)")
        let sphericalGathered = try pairs.gather(try upload(context, a, as: T.self), columns: 9 * 5, centers)
        expectClose(T.self, relativeError(try sphericalGathered.download(), PairOps.gather(a, list.centers).data),
                    "spherical gather \(label)")
    }

    func testConcat() throws {
        try forEachPrecision(Float.self, checkConcat)
        try forEachPrecision(Double.self, checkConcat)
    }

    func checkConcat<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 22)
        let context = kernels.context
        let (a, b, outBar) = (rng.matrix(17, 7), rng.matrix(17, 9), rng.matrix(17, 16))
        let out = try kernels.pairs.concat(try upload(context, a, as: T.self), columns: 7,
                                           try upload(context, b, as: T.self), columns: 9, rows: 17)
        expectClose(T.self, relativeError(try out.download(), Matrix.concat(a, b).data), "concat \(label)")
        let (aBar, bBar) = try kernels.pairs.concatBackward(try upload(context, outBar, as: T.self), rows: 17,
                                                            columns: 7, 9)
        expectClose(T.self, relativeError(try aBar.download(), outBar.columns(0, 7).data), "concat backward a \(label)")
        expectClose(T.self, relativeError(try bBar.download(), outBar.columns(7, 9).data), "concat backward b \(label)")
    }

    func testRadialContraction() throws {
        try forEachPrecision(Float.self, checkRadialContraction)
        try forEachPrecision(Double.self, checkRadialContraction)
    }

    func checkRadialContraction<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 23)
        let context = kernels.context
        // Two 16-wide feature blocks and a scalar tail (37); three and an 8-wide tail (56, lorem-jax's
        // (L+1)·s); three, an 8-wide and a scalar tail (61).
        for d in [37, 56, 61] {
            let (P, K) = (29, 7)
            let radial = rng.matrix(P, K), eBar = rng.matrix(P, d)
            let radialDevice = try upload(context, radial, as: T.self)
            let eBarDevice = try upload(context, eBar, as: T.self)
            // Per-pair coefficients (message passing), then a species-pair table (Initial).
            let table = rng.matrix(3, K * d)
            let tableRows = (0..<P).map { ($0 * 7) % 3 }
            for (coef, rows) in [(rng.matrix(P, K * d), nil), (table, tableRows)] as [(Matrix, [Int]?)] {
                let what = "radial contraction \(label) d=\(d) \(rows == nil ? "per pair" : "table")"
                let coefDevice = try upload(context, coef, as: T.self)
                let rowsDevice = try rows.map { try CLBuffer<Int32>(context, $0.map { Int32($0) }) }
                let e = try kernels.pairs.contractRadial(coefDevice, coefRows: rowsDevice, radial: radialDevice, pairs: P,
                                                         basis: K, features: d)
                expectClose(T.self, relativeError(try e.download(),
                                                  PairOps.contractRadial(coef, coefRow: rows, radial: radial, features: d).data),
                            what)
                let radialBar = try kernels.pairs.contractRadialBackwardRadial(eBarDevice, coefDevice, coefRows: rowsDevice,
                                                                              pairs: P, basis: K, features: d)
                let radialBarRef = PairOps.contractRadialBackwardRadial(eBar, coef, coefRow: rows, kCount: K)
                expectClose(T.self, relativeError(try radialBar.download(), radialBarRef.data), "\(what) radial̄")
            }
            let coefBar = try kernels.pairs.contractRadialBackwardCoefficients(eBarDevice, radial: radialDevice, pairs: P,
                                                                              basis: K, features: d)
            expectClose(T.self, relativeError(try coefBar.download(),
                                              PairOps.contractRadialBackwardCoefficients(eBar, radial: radial).data),
                        "radial contraction \(label) d=\(d) coef̄")
        }
    }

    /// The species-pair table's fused forms (the initial stage): the radial contraction summed
    /// over each center's pairs equals segmentSum(contractRadial) bit for bit (same products,
    /// same order), and the two-term backward (a Dense folded into the table, plus a center's
    /// node cotangent) equals the reference's two contractions.
    func testFoldedTableContraction() throws {
        try forEachPrecision(Float.self, checkFoldedTableContraction)
        try forEachPrecision(Double.self, checkFoldedTableContraction)
    }

    func checkFoldedTableContraction<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 27)
        let context = kernels.context
        let (P, N, K, d, c) = (33, 8, 7, 37, 21)  // d: two 16-wide blocks and a tail; c: one and a tail
        let centers = (0..<P).map { _ in Int.random(in: 1..<(N - 1), using: &rng) }.sorted()  // atoms 0 and 7: no pairs
        let map = try CLRowMap(context, index: centers, sources: N)
        let table = rng.matrix(4, K * d), folded = rng.matrix(4, K * c)
        // Two species: row(p) = slot(c)·2 + slot(o), as the species-pair table's rows are.
        let slot = (0..<N).map { _ in Int.random(in: 0..<2, using: &rng) }
        let tableRows = (0..<P).map { slot[centers[$0]] * 2 + Int.random(in: 0..<2, using: &rng) }
        let rowsDevice = try CLBuffer<Int32>(context, tableRows.map { Int32($0) })
        let slotsDevice = try CLBuffer<Int32>(context, slot.map { Int32($0) })
        let (tableDevice, radial) = (try upload(context, table, as: T.self), rng.matrix(P, K))
        let radialDevice = try upload(context, radial, as: T.self)
        let what = "folded table contraction \(label)"
        let expectedSum = PairOps.segmentSum(PairOps.contractRadial(table, coefRow: tableRows, radial: radial, features: d),
                                             centers: centers, atoms: N).data
        let whole = try CLBuffer<T>(context, count: N * d, filledWith: 0)
        try kernels.pairs.contractTableSum(tableDevice, coefRows: rowsDevice, slots: slotsDevice, species: 2,
                                           radial: radialDevice, centers: map, basis: K, features: d, into: whole)
        expectClose(T.self, relativeError(try whole.download(), expectedSum), "\(what): Σ_{p→i} e_p against the reference")
        // In chunks of whole centres, row by row: the same bits.
        let chunked = try CLBuffer<T>(context, count: N * d, filledWith: 0)
        var start = 0
        while start < P {
            var end = min(start + 5, P)
            while end < P, centers[end - 1] == centers[end] { end += 1 }
            let chunkMap = try CLRowMap(context, index: Array(centers[start..<end]), sources: N)
            try kernels.pairs.contractTableSum(
                tableDevice, coefRows: CLBuffer<Int32>(context, tableRows[start..<end].map { Int32($0) }), slots: slotsDevice,
                species: 2, radial: upload(context, Matrix(rows: end - start, cols: K,
                                                           data: Array(radial.data[(start * K)..<(end * K)])), as: T.self),
                centers: chunkMap, basis: K, features: d, into: chunked)
            start = end
        }
        XCTAssertEqual(try chunked.download(), try whole.download(), "\(what): chunks of centres")
        let (aBar, nodeBar) = (rng.matrix(P, c), rng.matrix(N, d))
        let radialBar = try kernels.pairs.contractRadialBackwardRadial(
            folded: upload(context, aBar, as: T.self), upload(context, folded, as: T.self), features: c,
            node: upload(context, nodeBar, as: T.self), centers: map, tableDevice, features: d, coefRows: rowsDevice, basis: K)
        let expected = PairOps.contractRadialBackwardRadial(PairOps.gather(nodeBar, centers), table, coefRow: tableRows, kCount: K)
            + PairOps.contractRadialBackwardRadial(aBar, folded, coefRow: tableRows, kCount: K)
        expectClose(T.self, relativeError(try radialBar.download(), expected.data), "\(what) radial̄")
    }

    func testEdgeBasis() throws {
        try forEachPrecision(Float.self, checkEdgeBasis)
        try forEachPrecision(Double.self, checkEdgeBasis)
    }

    func checkEdgeBasis<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 24)
        let context = kernels.context
        for (P, L, s) in [(23, 6, 5), (8, 2, 9)] {
            let w = rng.matrix(P, (L + 1) * s), Y = rng.matrix(P, (L + 1) * (L + 1))
            let gBar = rng.spherical(P, L, s)
            let (wDevice, yDevice) = (try upload(context, w, as: T.self), try upload(context, Y, as: T.self))
            let G = try kernels.pairs.edgeBasis(wDevice, harmonics: yDevice, pairs: P, maxDegree: L, features: s)
            let what = "edge basis \(label) L=\(L) s=\(s)"
            expectClose(T.self, relativeError(try G.download(),
                                              PairOps.edgeBasis(w, harmonics: Y, maxDegree: L, features: s).data), what)
            let (wBar, yBar) = try kernels.pairs.edgeBasisBackward(try upload(context, gBar, as: T.self), wDevice,
                                                                   harmonics: yDevice, pairs: P, maxDegree: L, features: s)
            let (wBarRef, yBarRef) = PairOps.edgeBasisBackward(gBar, w, harmonics: Y)
            expectClose(T.self, relativeError(try wBar.download(), wBarRef.data), "\(what) w̄")
            expectClose(T.self, relativeError(try yBar.download(), yBarRef.data), "\(what) Ȳ")
        }
    }

    /// The fused forms the initial stage uses: Σ_{p→i} G_p without storing G, and its backward
    /// reading Ā[c(p)] in place of the gathered Ḡ, against the unfused kernels (centers in any
    /// order, some atoms without pairs), for s = 4, 8 and 16; for s = 8 and 16 also the kernel
    /// with 8 features per work-item against the one with 1, bit for bit.
    func testFusedEdgeBasisSum() throws {
        try forEachPrecision(Float.self, checkFusedEdgeBasisSum)
        try forEachPrecision(Double.self, checkFusedEdgeBasisSum)
    }

    func checkFusedEdgeBasisSum<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 26)
        let context = kernels.context
        for s in [4, 8, 16] {
            let (P, N, L) = (31, 9, 3)
            let centers = (0..<P).map { _ in Int.random(in: 0..<(N - 2), using: &rng) }  // atoms 7, 8: no pairs
            let map = try CLRowMap(context, index: centers, sources: N)
            let w = try upload(context, rng.matrix(P, (L + 1) * s), as: T.self)
            let Y = try upload(context, rng.matrix(P, (L + 1) * (L + 1)), as: T.self)
            let columns = (L + 1) * (L + 1) * s
            let fused = try kernels.pairs.edgeBasisSum(w, harmonics: Y, centers: map, maxDegree: L, features: s)
            let unfused = try kernels.pairs.segmentSum(kernels.pairs.edgeBasis(w, harmonics: Y, pairs: P, maxDegree: L, features: s),
                                                       columns: columns, map)
            let what = "fused edge basis sum \(label) s=\(s)"
            expectClose(T.self, relativeError(try fused.download().map(Double.init), try unfused.download().map(Double.init)), what)
            if s % 8 == 0 {
                let scalar = try kernels.pairs.edgeBasisSum(w, harmonics: Y, centers: map, maxDegree: L, features: s, eightWide: false)
                XCTAssertEqual(try fused.download(), try scalar.download(), "\(what): 8 features per work-item, the same bits as 1")
            }
            let aBar = try upload(context, rng.matrix(N, columns), as: T.self)
            let (wBar, yBar) = try kernels.pairs.edgeBasisBackward(aBar, w, harmonics: Y, pairs: P, maxDegree: L, features: s, centers: map)
            let (wRef, yRef) = try kernels.pairs.edgeBasisBackward(kernels.pairs.gather(aBar, columns: columns, map), w, harmonics: Y,
                                                                   pairs: P, maxDegree: L, features: s)
            XCTAssertEqual(try wBar.download(), try wRef.download(), "\(what) w̄: same products, same order")
            XCTAssertEqual(try yBar.download(), try yRef.download(), "\(what) Ȳ")
        }
    }

    /// The initial stage's backward from Ā: Ȳ alone equals edgeBasisBackward's, and the radial
    /// cotangent made straight from Ā equals the folded two-term backward of the stored w̄ (to
    /// rounding: same sums, same order, but a compiler may contract them differently), for
    /// (L+1)·s = 10 (a tail only) and 42 (two 16-wide blocks and a tail), centers in any order and
    /// some atoms without pairs; (L+1)·s over the private-memory bound is an error.
    func testAdd() throws {
        try forEachPrecision(Float.self, checkAdd)
        try forEachPrecision(Double.self, checkAdd)
    }

    func checkAdd<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 25)
        let (a, b) = (rng.matrix(19, 7), rng.matrix(19, 7))
        let aDevice = try upload(kernels.context, a, as: T.self)
        // In place: the residual form x ← x + y.
        try kernels.pairs.add(aDevice, try upload(kernels.context, b, as: T.self), count: 19 * 7, into: aDevice)
        expectClose(T.self, relativeError(try aDevice.download(), (a + b).data), "add \(label)")
    }
}
