import Dispatch
import LoremCL
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// Not a timed assertion: prints the device time of the Ewald forward and geometric gradient on
/// a 512-atom NaCl cell (4×4×4 conventional cells, a = 5.64 Å, cutoff 5 Å, 10 channels), and the
/// float32 and float64 errors against the reference on that cell (large phases k·R are what float32 pays
/// for in big cells). Best of three after a warm-up, wall-clock to queue completion.
final class EwaldBenchmarkTests: XCTestCase {
    static func nacl() -> EwaldCase {
        var rng = SeededGenerator(seed: 31)
        let a = 5.64, reps = 4
        let basis = [SIMD3(0.0, 0, 0), SIMD3(0.5, 0.5, 0), SIMD3(0.5, 0, 0.5), SIMD3(0, 0.5, 0.5)]
        var positions: [SIMD3<Double>] = [], sign: [Double] = []
        for x in 0..<reps { for y in 0..<reps { for z in 0..<reps {
            let origin = SIMD3(Double(x), Double(y), Double(z))
            for b in basis {
                positions.append(a * (origin + b) + rng.vector(-0.1...0.1)); sign.append(1)
                positions.append(a * (origin + b + SIMD3(0.5, 0, 0)) + rng.vector(-0.1...0.1)); sign.append(-1)
            }
        } } }
        let n = positions.count
        let l = a * Double(reps)
        let q = (0..<EwaldCases.channels).map { _ in (0..<n).map { sign[$0] * (0.8 + 0.2 * Double.random(in: 0...1, using: &rng)) } }
        return EwaldCase(name: "NaCl 512", positions: positions,
                         cell: [SIMD3(l, 0, 0), SIMD3(0, l, 0), SIMD3(0, 0, l)], pbc: [true, true, true],
                         q: q, vbar: rng.channels(EwaldCases.channels, n, neutral: false))
    }

    func testPrintNaClTimings() throws {
        try measure(Float.self)
        try measure(Double.self)
    }

    func measure<T: CLReal>(_ type: T.Type) throws {
        try withEwaldContext(T.self) { context in
            let c = Self.nacl().rounded(to: T.self)
            var start = DispatchTime.now().uptimeNanoseconds
            func lap() -> Double {
                let now = DispatchTime.now().uptimeNanoseconds
                defer { start = now }
                return Double(now - start) * 1e-9
            }
            let pairs = try c.pairs()
            let ewald = try c.summation(pairs)
            let setup = lap()
            let kernels = try EwaldKernels<T>(context: context, channels: c.q.count)
            _ = lap()
            let geometry = try EwaldGeometry<T>(context: context, summation: ewald, pairs: pairs)
            let upload = lap()
            let q = try CLBuffer<T>(context, interleave(c.q).map { T($0) })
            let vbar = try CLBuffer<T>(context, interleave(c.vbar).map { T($0) })
            let v = try CLBuffer<T>(context, count: q.count)

            func best(_ body: () throws -> Void) throws -> Double {
                try body()
                try context.finish()
                var times: [Double] = []
                for _ in 0..<3 {
                    _ = lap()
                    try body()
                    try context.finish()
                    times.append(lap())
                }
                return times.min()!
            }
            let forward = try best { try kernels.potentials(q, geometry, into: v) }
            var gradient: EwaldGeometryGradient<T>?
            let backward = try best { gradient = try kernels.geometryGradient(charges: q, cotangent: vbar, geometry) }
            print(String(format: "ewald %@ %@ on %@: N=%d, P=%d, N_k=%d, C=%d; host setup (list + plan) %.3f s, upload %.3f s, "
                         + "potentials %.4f s, geometric gradient %.4f s", precisionName(T.self), c.name,
                         context.device.name, geometry.atomCount, geometry.pairCount, geometry.kVectorCount,
                         c.q.count, setup, upload, forward, backward))

            if let gradient {
                let reference = ewald.potentials(c.q)
                let referenceGradient = ewald.geometryGradient(charges: c.q, cotangent: c.vbar)
                let ev = relativeError(try v.download(), interleave(reference))
                let eg = relativeError(try gradient.positions.download(),
                                       referenceGradient.positions.flatMap { [$0.x, $0.y, $0.z] })
                let ew = relativeError(gradient.virial.flatMap { $0 }, referenceGradient.virial.flatMap { $0 })
                print(String(format: "ewald %@ %@ vs reference: potentials %.2e, position gradient %.2e, virial %.2e",
                             precisionName(T.self), c.name, ev, eg, ew))
                XCTAssertLessThanOrEqual(max(ev, eg, ew), EwaldKernelTests.tolerance(T.self))
            }
        }
    }
}
