import LoremCL
@testable import LoremModel
import XCTest

/// No atomics and fixed summation orders: two runs of the same MLP and LayerNorm forward and
/// backward must agree bit for bit, in every precision and variant.
final class DeterminismTests: XCTestCase {
    func testTwoRunsAreBitIdentical() throws {
        try forEachVariant(Float.self, checkDeterminism)
        try forEachVariant(Double.self, checkDeterminism)
    }

    func checkDeterminism<T: CLReal>(_ kernels: DenseKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 7)
        let rows = 300
        let mlp = try CLMLP<T>(kernels.context, rng.mlp([32, 96, 32]))
        let norm = try CLLayerNorm<T>(kernels.context, rng.layerNorm(32))
        let x = try CLBuffer<T>(kernels.context, rng.values(rows * 32).map { T($0) })
        let yBar = try CLBuffer<T>(kernels.context, rng.values(rows * 32).map { T($0) })

        func run() throws -> [T] {
            var mlpCache = CLMLPCache<T>(), normCache = CLLayerNormCache<T>()
            let h = try kernels.mlp(x, rows: rows, mlp, cache: &mlpCache)
            let y = try kernels.layerNorm(h, rows: rows, norm, cache: &normCache)
            let hBar = try kernels.layerNormBackward(yBar, rows: rows, norm, cache: normCache)
            let xBar = try kernels.mlpBackward(hBar, rows: rows, mlp, cache: mlpCache)
            return try y.download() + xBar.download()
        }
        let first = try run(), second = try run()
        XCTAssertTrue(zip(first, second).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(label) not bit-identical")
    }
}

extension BinaryFloatingPoint {
    fileprivate var bitPattern: UInt64 { Double(self).bitPattern }
}
