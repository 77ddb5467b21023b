@testable import LoremCL
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// Every equivariant-family kernel against EquivariantOps (the float64 reference), forward and
/// backward, in float32 and float64, for degrees up to 6 and feature counts that are not
/// multiples of 4.
final class EquivariantKernelTests: XCTestCase {
    /// (L1, L2, L3) of the Tensor checks: mixed degrees, the full (6,6,6) table, LOREM's (2,6,6).
    static let tensorDegrees = [(2, 3, 3), (6, 6, 6), (2, 6, 6)]

    func testDense() throws {
        try forEachPrecision(Float.self, checkDense)
        try forEachPrecision(Double.self, checkDense)
    }

    func checkDense<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 11)
        for (rows, L, fin, fout) in [(7, 6, 5, 11), (13, 2, 9, 18), (1, 0, 3, 2)] {
            let x = rng.spherical(rows, L, fin), yBar = rng.spherical(rows, L, fout)
            let w = rng.equivariantDense(L, fin, fout)
            let layer = try CLEquivariantDense<T>(kernels.context, w)
            let y = try kernels.dense(try upload(kernels.context, x, as: T.self), rows: rows, layer)
            expectClose(T.self, relativeError(try y.download(), EquivariantOps.dense(x, w).data),
                        "eq dense \(label) L=\(L) \(fin)→\(fout)")
            let xBar = try kernels.denseBackward(try upload(kernels.context, yBar, as: T.self), rows: rows, layer)
            expectClose(T.self, relativeError(try xBar.download(), EquivariantOps.denseBackward(yBar, w).data),
                        "eq dense backward \(label) L=\(L) \(fin)→\(fout)")
        }
    }

    func testTensor() throws {
        try forEachPrecision(Float.self, checkTensor)
        try forEachPrecision(Double.self, checkTensor)
    }

    func checkTensor<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 12)
        let rows = 9
        // F = 16 takes the 8-features-per-work-item kernels on CPU devices.
        for F in [7, 16] { for (l1, l2, l3) in Self.tensorDegrees {
            let w = rng.tensor(l1, l2, l3, features: F)
            let x = rng.spherical(rows, l1, F), y = rng.spherical(rows, l2, F), zBar = rng.spherical(rows, l3, F)
            let t = try CLTensor<T>(kernels.context, w)
            let (xd, yd) = (try upload(kernels.context, x, as: T.self), try upload(kernels.context, y, as: T.self))
            let z = try kernels.tensor(xd, yd, rows: rows, t)
            let what = "tensor \(label) (\(l1),\(l2),\(l3)) F=\(F)"
            expectClose(T.self, relativeError(try z.download(), EquivariantOps.tensor(x, y, w).data), what)
            let (xBar, yBar) = try kernels.tensorBackward(try upload(kernels.context, zBar, as: T.self), xd, yd,
                                                          rows: rows, t)
            let (xRef, yRef) = EquivariantOps.tensorBackward(zBar, x, y, w)
            expectClose(T.self, relativeError(try xBar.download(), xRef.data), "\(what) x̄")
            expectClose(T.self, relativeError(try yBar.download(), yRef.data), "\(what) ȳ")
        } }
    }

    /// The 8-features-per-work-item tensor kernels (CPUs) and the one-feature kernels (GPUs) give
    /// the same bits: gathered y rows (MessagePass), and TensorDense's strided halves (offset 8
    /// inside rows of 16), forward and backward, float32 and float64; and the 16-wide Dense.
    func testWideTensorKernelsEqualNarrowBitwise() throws {
        try forEachPrecision(Float.self) { kernels, _ in try checkWideEqualsNarrow(kernels.context, Float.self) }
        try forEachPrecision(Double.self) { kernels, _ in try checkWideEqualsNarrow(kernels.context, Double.self) }
    }

    func checkWideEqualsNarrow<T: CLReal>(_ context: CLContext, _ type: T.Type) throws {
        var rng = SeededGenerator(seed: 16)
        let (atoms, pairs) = try rng.neighbourList()
        let others = try CLRowMap(context, index: pairs.others, sources: atoms)
        let F = 16
        let w = rng.tensor(6, 6, 6, features: F)
        let x = rng.spherical(pairs.count, 6, F), y = rng.spherical(atoms, 6, F), zBar = rng.spherical(pairs.count, 6, F)
        let dense = TensorDenseWeights(dense: rng.equivariantDense(6, 8, 16), tensor: rng.tensor(6, 6, 6, features: 8))
        let xDense = rng.spherical(11, 6, 8), zBarDense = rng.spherical(11, 6, 8)
        // Dense 12 → 37: two 16-wide blocks and a tail of 5 outputs.
        let wide = rng.equivariantDense(6, 12, 37), xWide = rng.spherical(5, 6, 12)
        func run(_ shape: KernelShape) throws -> [[T]] {
            let kernels = try EquivariantKernels<T>(context: context, tensorShape: shape)
            XCTAssertEqual(kernels.tensorForward8 != nil, shape == .rows)
            XCTAssertEqual(kernels.denseForward16 != nil, shape == .rows)
            let t = try CLTensor<T>(context, w)
            let (xd, yd) = (try upload(context, x, as: T.self), try upload(context, y, as: T.self))
            let z = try kernels.tensor(xd, yd, rows: pairs.count, t, yRows: others)
            let (xBar, yBar) = try kernels.tensorBackward(try upload(context, zBar, as: T.self), xd, yd, rows: pairs.count, t,
                                                          yRows: others)
            let layer = try CLTensorDense<T>(context, dense)
            let (out, hidden) = try kernels.tensorDense(try upload(context, xDense, as: T.self), rows: 11, layer)
            let back = try kernels.tensorDenseBackward(try upload(context, zBarDense, as: T.self), rows: 11, layer, hidden: hidden)
            let y = try kernels.dense(try upload(context, xWide, as: T.self), rows: 5, try CLEquivariantDense<T>(context, wide))
            return try [z, xBar, yBar, out, back, y].map { try $0.download() }
        }
        let (wide16, narrow) = (try run(.rows), try run(.tiled))
        for (k, name) in ["z", "x̄", "ȳ", "tensor dense", "tensor dense backward", "dense 12 → 37"].enumerated() {
            XCTAssertEqual(wide16[k].map { Double($0).bitPattern }, narrow[k].map { Double($0).bitPattern }, "\(name) \(T.self)")
        }
    }

    /// MessagePass's form: x per pair, y per atom read through o(p) of a real neighbour list, ȳ
    /// reduced per source atom.
    func testTensorWithGatheredRows() throws {
        try forEachPrecision(Float.self, checkTensorGathered)
        try forEachPrecision(Double.self, checkTensorGathered)
    }

    func checkTensorGathered<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 13)
        let (atoms, pairs) = try rng.neighbourList()
        XCTAssertGreaterThan(pairs.count, 2 * atoms)
        let F = 5
        let others = try CLRowMap(kernels.context, index: pairs.others, sources: atoms)
        for (l1, l2, l3) in [(6, 6, 6), (2, 3, 3)] {
            let w = rng.tensor(l1, l2, l3, features: F)
            let x = rng.spherical(pairs.count, l1, F), y = rng.spherical(atoms, l2, F)
            let zBar = rng.spherical(pairs.count, l3, F)
            let t = try CLTensor<T>(kernels.context, w)
            let (xd, yd) = (try upload(kernels.context, x, as: T.self), try upload(kernels.context, y, as: T.self))
            let what = "gathered tensor \(label) (\(l1),\(l2),\(l3)) \(pairs.count) pairs"
            let z = try kernels.tensor(xd, yd, rows: pairs.count, t, yRows: others)
            expectClose(T.self, relativeError(try z.download(), EquivariantOps.tensor(x, y, w, yRows: pairs.others).data),
                        what)
            let (xBar, yBar) = try kernels.tensorBackward(try upload(kernels.context, zBar, as: T.self), xd, yd,
                                                          rows: pairs.count, t, yRows: others)
            let (xRef, yRef) = EquivariantOps.tensorBackward(zBar, x, y, w, yRows: pairs.others)
            expectClose(T.self, relativeError(try xBar.download(), xRef.data), "\(what) x̄")
            expectClose(T.self, relativeError(try yBar.download(), yRef.data), "\(what) ȳ")
        }
    }

    func testTensorDense() throws {
        try forEachPrecision(Float.self, checkTensorDense)
        try forEachPrecision(Double.self, checkTensorDense)
    }

    func checkTensorDense<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 14)
        let rows = 6
        // LOREM's two uses: s→s at L→L, and features=1 at L_lr = 2 (the spherical charges).
        for (L, fin, fout, lOut) in [(6, 7, 7, 6), (3, 7, 1, 2), (6, 8, 8, 6)] {
            let w = TensorDenseWeights(dense: rng.equivariantDense(L, fin, 2 * fout),
                                       tensor: rng.tensor(L, L, lOut, features: fout))
            let x = rng.spherical(rows, L, fin), zBar = rng.spherical(rows, lOut, fout)
            let layer = try CLTensorDense<T>(kernels.context, w)
            let (out, hidden) = try kernels.tensorDense(try upload(kernels.context, x, as: T.self), rows: rows, layer)
            let (outRef, halves) = EquivariantOps.tensorDense(x, w)
            let what = "tensor dense \(label) L=\(L) \(fin)→\(fout) L_out=\(lOut)"
            expectClose(T.self, relativeError(try out.download(), outRef.data), what)
            expectClose(T.self, relativeError(try hidden.download(), EquivariantOps.join(halves.0, halves.1).data),
                        "\(what) hidden")
            let xBar = try kernels.tensorDenseBackward(try upload(kernels.context, zBar, as: T.self), rows: rows,
                                                       layer, hidden: hidden)
            expectClose(T.self, relativeError(try xBar.download(),
                                              EquivariantOps.tensorDenseBackward(zBar, w, halves: halves).data),
                        "\(what) backward")
        }
    }

    /// MessagePass against the reference's composition (InteractionStage): filter Dense,
    /// Tensor(filter, X_o(p)), Σ_{p→i}; and its backward.
    func testMessagePass() throws {
        try forEachPrecision(Float.self, checkMessagePass)
        try forEachPrecision(Double.self, checkMessagePass)
    }

    func checkMessagePass<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 15)
        let (atoms, pairs) = try rng.neighbourList()
        let (L, F) = (3, 6)
        let w = MessagePassWeights(filter: rng.equivariantDense(L, F, F), tensor: rng.tensor(L, L, L, features: F))
        let nodes = rng.spherical(atoms, L, F), basis = rng.spherical(pairs.count, L, F)
        let mBar = rng.spherical(atoms, L, F)
        let filtered = EquivariantOps.dense(basis, w.filter)
        let mRef = PairOps.segmentSum(EquivariantOps.tensor(filtered, nodes, w.tensor, yRows: pairs.others),
                                      centers: pairs.centers, atoms: atoms)
        let (filtBar, nodesBarRef) = EquivariantOps.tensorBackward(PairOps.gather(mBar, pairs.centers), filtered,
                                                                   nodes, w.tensor, yRows: pairs.others)
        let basisBarRef = EquivariantOps.denseBackward(filtBar, w.filter)

        let context = kernels.context
        let layer = try CLMessagePass<T>(context, w)
        let centers = try CLRowMap(context, index: pairs.centers, sources: atoms)
        let others = try CLRowMap(context, index: pairs.others, sources: atoms)
        let nodesDevice = try upload(context, nodes, as: T.self)
        let (m, filteredDevice) = try kernels.messagePass(nodesDevice, edgeBasis: try upload(context, basis, as: T.self),
                                                          layer, centers: centers, others: others)
        expectClose(T.self, relativeError(try m.download(), mRef.data), "message pass \(label)")
        let (nodesBar, basisBar) = try kernels.messagePassBackward(
            try upload(context, mBar, as: T.self), nodes: nodesDevice, filtered: filteredDevice, layer,
            centers: centers, others: others)
        expectClose(T.self, relativeError(try nodesBar.download(), nodesBarRef.data), "message pass \(label) X̄")
        expectClose(T.self, relativeError(try basisBar.download(), basisBarRef.data), "message pass \(label) Ḡ")
    }

    func testNormFeatures() throws {
        try forEachPrecision(Float.self, checkNormFeatures)
        try forEachPrecision(Double.self, checkNormFeatures)
    }

    func checkNormFeatures<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 16)
        let (rows, L, F) = (5, 6, 7)
        var x = rng.spherical(rows, L, F)
        // Vanishing blocks: all of row 0's degree 1, and row 3's degree 4 at feature 2.
        for a in 1..<4 { for f in 0..<F { x.data[x.offset(0, a) + f] = 0 } }
        for a in 16..<25 { x.data[x.offset(3, a) + 2] = 0 }
        let outBar = rng.matrix(rows, (L + 1) * F)
        let xd = try upload(kernels.context, x, as: T.self)
        let out = try kernels.normFeatures(xd, rows: rows, maxDegree: L, features: F)
        expectClose(T.self, relativeError(try out.download(), EquivariantOps.normFeatures(x).data),
                    "norm features \(label)")
        let xBar = try kernels.normFeaturesBackward(try upload(kernels.context, outBar, as: T.self), xd, rows: rows,
                                                    maxDegree: L, features: F).download()
        XCTAssertTrue(xBar.allSatisfy { $0.isFinite }, "norm backward produced NaN/inf")
        XCTAssertEqual(xBar[x.offset(0, 2) + 3], 0)
        XCTAssertEqual(xBar[x.offset(3, 20) + 2], 0)
        expectClose(T.self, relativeError(xBar, EquivariantOps.normFeaturesBackward(outBar, x).data),
                    "norm features backward \(label) (vanishing blocks)")
    }

    /// An empty batch (a chunk without pairs) launches nothing, and a gathered ȳ is then 0.
    func testEmptyBatch() throws {
        let context = try TestDevice.context()
        var rng = SeededGenerator(seed: 17)
        let kernels = try EquivariantKernels<Float>(context: context)
        let t = try CLTensor<Float>(context, rng.tensor(2, 2, 2, features: 3))
        let map = try CLRowMap(context, index: [], sources: 4)
        let empty = try CLBuffer<Float>(context, count: 0)
        let y = try CLBuffer<Float>(context, rng.values(4 * 9 * 3).map { Float($0) })
        let (xBar, yBar) = try kernels.tensorBackward(empty, empty, y, rows: 0, t, yRows: map)
        XCTAssertEqual(try xBar.download(), [])
        XCTAssertEqual(try yBar.download(), [Float](repeating: 0, count: 4 * 9 * 3))
    }
}
