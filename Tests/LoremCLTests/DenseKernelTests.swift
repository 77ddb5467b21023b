import LoremCL
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// Every dense-family kernel against DenseOps (the float64 reference), in float32 and float64
/// and in both matrix-product variants, on shapes that are not multiples of the 16-wide tiles.
final class DenseKernelTests: XCTestCase {
    /// (rows, inputs, outputs): tile-aligned, ragged (37 and 39 rows leave 5 and 7 rows over a
    /// multiple of the CPU shape's 8 rows per work-item), and a single row.
    static let shapes = [(64, 32, 48), (37, 19, 45), (39, 16, 40), (1, 128, 7)]

    func testDenseForward() throws {
        try forEachVariant(Float.self, checkDenseForward)
        try forEachVariant(Double.self, checkDenseForward)
    }

    func checkDenseForward<T: CLReal>(_ kernels: DenseKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 1)
        for (rows, k, n) in Self.shapes {
            for bias in [true, false] {
                let x = rng.matrix(rows, k)
                let w = rng.dense(k, n, bias: bias)
                let y = try kernels.dense(try upload(kernels.context, x, as: T.self), rows: rows,
                                          CLDenseLayer(kernels.context, w)).download()
                expectClose(T.self, relativeError(y, DenseOps.dense(x, w).data),
                            "dense \(label) \(rows)x\(k)x\(n) bias=\(bias)")
            }
        }
    }

    func testDenseBackward() throws {
        try forEachVariant(Float.self, checkDenseBackward)
        try forEachVariant(Double.self, checkDenseBackward)
    }

    func checkDenseBackward<T: CLReal>(_ kernels: DenseKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 2)
        for (rows, k, n) in Self.shapes {
            let yBar = rng.matrix(rows, n)
            let w = rng.dense(k, n)
            let xBar = try kernels.denseBackward(try upload(kernels.context, yBar, as: T.self), rows: rows,
                                                 CLDenseLayer(kernels.context, w)).download()
            expectClose(T.self, relativeError(xBar, DenseOps.denseBackward(yBar, w).data),
                        "dense backward \(label) \(rows)x\(k)x\(n)")
        }
    }

    func testSilu() throws {
        try forEachVariant(Float.self, checkSilu)
        try forEachVariant(Double.self, checkSilu)
    }

    func checkSilu<T: CLReal>(_ kernels: DenseKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 3)
        let z = rng.matrix(13, 11, -8...8)
        let g = rng.matrix(13, 11)
        let zBuffer = try upload(kernels.context, z, as: T.self)
        let h = try CLBuffer<T>(kernels.context, count: z.data.count)
        try kernels.silu(zBuffer, count: z.data.count, into: h)
        let reference = z.data.map { $0 * DenseOps.sigmoid($0) }
        expectClose(T.self, relativeError(try h.download(), reference), "silu \(label)")

        let gBuffer = try upload(kernels.context, g, as: T.self)
        try kernels.siluBackward(gBuffer, preActivation: zBuffer, count: z.data.count)
        let gReference = zip(g.data, z.data).map { g, z in
            let s = DenseOps.sigmoid(z)
            return g * s * (1 + z * (1 - s))
        }
        expectClose(T.self, relativeError(try gBuffer.download(), gReference), "silu backward \(label)")

        // 8 elements per work-item, the last block padded: an element's bits do not depend on
        // whether it falls in the padded tail (the last 7 of 143 = 17·8 + 7) or a whole block
        // (the same 7 values and one more, 8 in all).
        let tail = try upload(kernels.context, Matrix(rows: 1, cols: 8, data: Array(z.data.suffix(7)) + [0.5]), as: T.self)
        let tailOut = try CLBuffer<T>(kernels.context, count: 8)
        try kernels.silu(tail, count: 8, into: tailOut)
        XCTAssertEqual(Array(try tailOut.download().prefix(7)).map { Double($0).bitPattern },
                       Array(try h.download().suffix(7)).map { Double($0).bitPattern }, "silu \(label) padded tail")
    }

    func testMLP() throws {
        try forEachVariant(Float.self, checkMLP)
        try forEachVariant(Double.self, checkMLP)
    }

    func checkMLP<T: CLReal>(_ kernels: DenseKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 4)
        let rows = 29
        let weights = rng.mlp([24, 64, 33, 16])
        let x = rng.matrix(rows, 24)
        let yBar = rng.matrix(rows, 16)
        var referenceCache = DenseOps.MLPCache()
        let y = DenseOps.mlp(x, weights, cache: &referenceCache)
        let xBar = DenseOps.mlpBackward(yBar, weights, cache: referenceCache)

        let mlp = try CLMLP<T>(kernels.context, weights)
        var cache = CLMLPCache<T>()
        let yDevice = try kernels.mlp(try upload(kernels.context, x, as: T.self), rows: rows, mlp, cache: &cache)
        expectClose(T.self, relativeError(try yDevice.download(), y.data), "mlp \(label)")
        for (device, reference) in zip(cache.preActivations, referenceCache.preActivations) {
            expectClose(T.self, relativeError(try device.download(), reference.data), "mlp pre-activation \(label)")
        }
        let xBarDevice = try kernels.mlpBackward(try upload(kernels.context, yBar, as: T.self), rows: rows, mlp,
                                                 cache: cache)
        expectClose(T.self, relativeError(try xBarDevice.download(), xBar.data), "mlp backward \(label)")

        // Keeping only the input: the backward recomputes the pre-activations with the same
        // kernels on the same input, so y and x̄ are the same bits, and the cache holds no
        // hidden-layer buffer between the passes.
        var lean = CLMLPCache<T>(keeping: .input)
        let xDevice = try upload(kernels.context, x, as: T.self)
        let yLean = try kernels.mlp(xDevice, rows: rows, mlp, cache: &lean)
        XCTAssertTrue(lean.preActivations.isEmpty, "mlp \(label): an input cache keeps no pre-activations")
        XCTAssertTrue(lean.input === xDevice, "mlp \(label): an input cache keeps the input")
        XCTAssertEqual(try yLean.download(), try yDevice.download(), "mlp \(label): y with an input cache")
        let xBarLean = try kernels.mlpBackward(try upload(kernels.context, yBar, as: T.self), rows: rows, mlp,
                                               cache: lean)
        XCTAssertEqual(try xBarLean.download(), try xBarDevice.download(), "mlp backward \(label): input cache")
        XCTAssertThrowsError(try kernels.mlpBackward(try upload(kernels.context, yBar, as: T.self), rows: rows,
                                                     mlp, cache: CLMLPCache<T>(keeping: .input)),
                             "mlp backward \(label): an input cache without a forward pass")
    }

    func testLayerNorm() throws {
        try forEachVariant(Float.self, checkLayerNorm)
        try forEachVariant(Double.self, checkLayerNorm)
    }

    func checkLayerNorm<T: CLReal>(_ kernels: DenseKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 5)
        let (rows, features) = (23, 40)
        // An offset mean, as residual streams have, exercises the fast-variance form.
        let x = Matrix(rows: rows, cols: features, data: rng.values(rows * features, 1.5...3.5))
        let yBar = rng.matrix(rows, features)
        let weights = rng.layerNorm(features)
        var referenceCache = DenseOps.LayerNormCache()
        let y = DenseOps.layerNorm(x, weights, cache: &referenceCache)
        let xBar = DenseOps.layerNormBackward(yBar, weights, cache: referenceCache)

        let norm = try CLLayerNorm<T>(kernels.context, weights)
        var cache = CLLayerNormCache<T>()
        let yDevice = try kernels.layerNorm(try upload(kernels.context, x, as: T.self), rows: rows, norm,
                                            cache: &cache)
        expectClose(T.self, relativeError(try yDevice.download(), y.data), "layer norm \(label)")
        let xBarDevice = try kernels.layerNormBackward(try upload(kernels.context, yBar, as: T.self), rows: rows,
                                                       norm, cache: cache)
        expectClose(T.self, relativeError(try xBarDevice.download(), xBar.data), "layer norm backward \(label)")
    }

    /// An empty batch is legal (a frame with no pairs in a chunk) and launches nothing.
    func testEmptyBatch() throws {
        let context = try TestDevice.context()
        var rng = SeededGenerator(seed: 6)
        let kernels = try DenseKernels<Float>(context: context)
        let layer = try CLDenseLayer<Float>(context, rng.dense(8, 4))
        let y = try kernels.dense(try CLBuffer<Float>(context, count: 0), rows: 0, layer)
        XCTAssertEqual(try y.download(), [])
    }
}
