import LoremCL
@testable import LoremModel
import XCTest

/// Not a timed assertion: prints GFLOP/s of both dense variants on the default device for the
/// dense-layer shape typical of the default model (8192×128 · 128×256), so the variant choice per device type can be
/// re-checked on whatever device the tests run on. Times are wall-clock to queue completion,
/// best of three after a warm-up (which also pays the PoCL compile).
final class DenseBenchmarkTests: XCTestCase {
    func testPrintDenseThroughput() throws {
        try forEachVariant(Float.self, measure)
        try forEachVariant(Double.self, measure)
    }

    func measure<T: CLReal>(_ kernels: DenseKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 8)
        let (m, k, n) = (8192, 128, 256)
        let layer = try CLDenseLayer<T>(kernels.context, rng.dense(k, n))
        let x = try CLBuffer<T>(kernels.context, rng.values(m * k).map { T($0) })
        let y = try CLBuffer<T>(kernels.context, count: m * n)
        let yBar = try CLBuffer<T>(kernels.context, rng.values(m * n).map { T($0) })
        let xBar = try CLBuffer<T>(kernels.context, count: m * k)
        let flops = 2.0 * Double(m * k * n)

        func best(_ body: () throws -> Void) throws -> Double {
            try body()  // warm-up
            try kernels.context.finish()
            var times: [Double] = []
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                try kernels.context.finish()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            return times.min()!
        }
        let forward = try best { try kernels.dense(x, rows: m, layer, into: y) }
        let backward = try best { try kernels.denseBackward(yBar, rows: m, layer, into: xBar) }
        print(String(format: "dense %@ on %@: forward %.1f GFLOP/s, backward %.1f GFLOP/s", label,
                     kernels.context.device.name, flops / forward * 1e-9, flops / backward * 1e-9))
    }
}
