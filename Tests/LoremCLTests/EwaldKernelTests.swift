@testable import LoremCL
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// EwaldKernels against LoremReference.EwaldSummation (float64) on random 3D triclinic, 2D slab
/// (vacuum along z and along x) and molecular structures, neutral and charged, 10 channels:
/// potentials, the charge cotangent, the geometric position gradient and the virial.
///
/// Errors are normwise, max |device − reference| / max |reference|, with the reference run on
/// the inputs rounded to the device precision. float64 must agree to 1e-11. float32 is held to
/// `float32Tolerance`; what limits it is recorded there.
final class EwaldKernelTests: XCTestCase {
    /// float32 bound. Measured on PoCL: these 7 Å cells ≤ 8e-7 (potentials), ≤ 3e-7 (position
    /// gradient), ≤ 1.1e-6 (virial); the 512-atom NaCl cell of EwaldBenchmarkTests 1.7e-6,
    /// 2.7e-6, 1.9e-6. The phases e^{ik·R} are products of three per-axis table entries computed in
    /// float64 and rounded to float32 (EwaldGeometry), so their error is a few ε whatever |k·R|
    /// (direct float32 sin/cos of k·R, tens of radians in a 22 Å cell, gave 1.9e-6, 2.8e-6, 5.5e-7
    /// on NaCl; the product is not exactly unit-modulus, which the NaCl virial, a sum of 25k
    /// per-k products of nearly cancelling structure factors, feels most). The rest is float32
    /// accumulation over atoms and k-vectors. Not the literal 1/r − erf(r/(σ√2))/r: that loses up
    /// to ~2e-4 of φ_sr itself near the cutoff (EwaldShortRangeAccuracyTests), but φ_sr is ~1e-5
    /// of 1/r there, so it costs ~1e-8 of the largest potential.
    static let float32Tolerance = 1e-5

    static func tolerance<T: CLReal>(_ type: T.Type) -> Double { T.self == Double.self ? 1e-11 : float32Tolerance }

    struct Errors { var potentials = 0.0, gradient = 0.0, virial = 0.0 }

    /// Device vs reference errors for one case in precision `T`.
    func errors<T: CLReal>(_ base: EwaldCase, _ context: CLContext, _ type: T.Type) throws -> Errors {
        let c = base.rounded(to: T.self)
        let pairs = try c.pairs()
        let ewald = try c.summation(pairs)
        let kernels = try EwaldKernels<T>(context: context, channels: c.q.count)
        let geometry = try EwaldGeometry<T>(context: context, summation: ewald, pairs: pairs)
        let q = try CLBuffer<T>(context, interleave(c.q).map { T($0) })
        let vbar = try CLBuffer<T>(context, interleave(c.vbar).map { T($0) })

        var e = Errors()
        e.potentials = relativeError(try kernels.potentials(q, geometry).download(), interleave(ewald.potentials(c.q)))
        let qBar = try kernels.chargeCotangent(vbar, geometry).download()
        e.potentials = max(e.potentials, relativeError(qBar, interleave(ewald.potentials(c.vbar))))

        let device = try kernels.geometryGradient(charges: q, cotangent: vbar, geometry)
        let reference = ewald.geometryGradient(charges: c.q, cotangent: c.vbar)
        e.gradient = relativeError(try device.positions.download(), reference.positions.flatMap { [$0.x, $0.y, $0.z] })
        e.virial = relativeError(device.virial.flatMap { $0 }, reference.virial.flatMap { $0 })
        return e
    }

    func check<T: CLReal>(_ type: T.Type) throws {
        try withEwaldContext(T.self) { context in
            for c in EwaldCases.all() {
                let e = try errors(c, context, T.self)
                let label = "ewald \(precisionName(T.self)) \(c.name)"
                print(String(format: "%@: potentials %.2e, position gradient %.2e, virial %.2e", label,
                             e.potentials, e.gradient, e.virial))
                let tol = Self.tolerance(T.self)
                XCTAssertLessThanOrEqual(e.potentials, tol, "\(label) potentials")
                XCTAssertLessThanOrEqual(e.gradient, tol, "\(label) gradient")
                XCTAssertLessThanOrEqual(e.virial, tol, "\(label) virial")
            }
        }
    }

    func testFloat64AgainstReference() throws { try check(Double.self) }

    func testFloat32AgainstReference() throws { try check(Float.self) }

    /// No atomics and fixed orders: reruns of the forward and the gradient are bit-identical.
    func testRerunsAreBitIdentical() throws {
        try determinism(Float.self)
        try determinism(Double.self)
    }

    func determinism<T: CLReal>(_ type: T.Type) throws {
        try withEwaldContext(T.self) { context in
            for base in [EwaldCases.bulk(neutral: false), EwaldCases.slab(axis: 2, neutral: false),
                         EwaldCases.molecule(neutral: false)] {
                let c = base.rounded(to: T.self)
                let pairs = try c.pairs()
                let kernels = try EwaldKernels<T>(context: context, channels: c.q.count)
                let geometry = try EwaldGeometry<T>(context: context, summation: try c.summation(pairs), pairs: pairs)
                let q = try CLBuffer<T>(context, interleave(c.q).map { T($0) })
                let vbar = try CLBuffer<T>(context, interleave(c.vbar).map { T($0) })
                func run() throws -> [Double] {
                    let g = try kernels.geometryGradient(charges: q, cotangent: vbar, geometry)
                    return try (kernels.potentials(q, geometry).download() + g.positions.download()).map(Double.init)
                        + g.virial.flatMap { $0 }
                }
                let first = try run(), second = try run()
                XCTAssertEqual(first.map(\.bitPattern), second.map(\.bitPattern),
                               "\(precisionName(T.self)) \(c.name) not bit-identical")
            }
        }
    }

    func testPairTopologyReverse() throws {
        let c = EwaldCases.bulk(neutral: true)
        let pairs = try c.pairs()
        let topology = try PairTopology(pairs, atomCount: c.positions.count)
        XCTAssertEqual(topology.rowStarts.last, pairs.count)
        for p in 0..<pairs.count {
            let r = topology.reverse[p]
            XCTAssertEqual(pairs.centers[r], pairs.others[p])
            XCTAssertEqual(pairs.others[r], pairs.centers[p])
            XCTAssertEqual(pairs.shifts[r], -pairs.shifts[p])
            XCTAssertEqual(topology.reverse[r], p)
        }
        for i in 0..<c.positions.count {
            for p in topology.rowStarts[i]..<topology.rowStarts[i + 1] { XCTAssertEqual(pairs.centers[p], i) }
        }
        let half = PairList(centers: [0], others: [1], shifts: [.zero])
        XCTAssertThrowsError(try PairTopology(half, atomCount: 2))
    }
}

/// Measures (and bounds) what the literal φ_sr(r) = 1/r − erf(r/(σ√2))/r costs near the cutoff
/// (docs/MATH.md §8.2): two atoms in a 14 Å cube, q = (0, 1), no k-vectors, so V_0 is exactly
/// the real-space term ½ φ_sr(r) (plus the background). Its relative error grows as φ_sr
/// shrinks: measured on PoCL in float32, 8e-8 at r = 1, 2e-5 at 4, 2e-4 at 4.9–4.99 (§8.2 quotes
/// ~1e-3 for XLA), while the absolute error stays ~ε/r (error·r ≤ 2e-8), i.e. ~1e-8 of the
/// Coulomb scale: negligible next to the potentials. float64 agrees to ≤ 1e-14 relative.
final class EwaldShortRangeAccuracyTests: XCTestCase {
    func testLiteralShortRangeNearCutoff() throws {
        try measure(Float.self, relativeBound: 1e-3, absoluteBound: 1e-7)
        try measure(Double.self, relativeBound: 1e-12, absoluteBound: 1e-15)
    }

    func measure<T: CLReal>(_ type: T.Type, relativeBound: Double, absoluteBound: Double) throws {
        try withEwaldContext(T.self) { context in
            let kernels = try EwaldKernels<T>(context: context, channels: 1)
            let cell = [SIMD3(14.0, 0, 0), SIMD3(0, 14.0, 0), SIMD3(0, 0, 14.0)]
            for distance in [1.0, 2.0, 3.0, 4.0, 4.5, 4.9, 4.99] {
                let c = EwaldCase(name: "pair", positions: [SIMD3(1, 1, 1), SIMD3(1 + distance, 1, 1)], cell: cell,
                                  pbc: [true, true, true], q: [[0, 1]], vbar: [[0, 0]]).rounded(to: T.self)
                let pairs = try c.pairs()
                let ewald = try c.summation(pairs)
                let geometry = try EwaldGeometry<T>(context: context, summation: ewald, pairs: pairs, reciprocal: false)
                let device = Double(try kernels.potentials(try CLBuffer<T>(context, [0, 1]), geometry).download()[0])
                // The cell is charged (Q = 1): the known background −πσ²Q/V rides along.
                let parts = ewald.parts(c.q[0])
                let exact = parts.real[0]
                let v0 = device - parts.background[0]
                let absolute = abs(v0 - exact) * distance  // relative to the Coulomb scale ½·1/r ~ 1/r
                let relative = abs(v0 - exact) / abs(exact)
                print(String(format: "φ_sr %@ at r = %.2f: ½φ_sr = %.3e, relative error %.2e, error·r %.2e",
                             precisionName(T.self), distance, exact, relative, absolute))
                XCTAssertLessThanOrEqual(relative, relativeBound)
                XCTAssertLessThanOrEqual(absolute, absoluteBound)
            }
        }
    }
}
