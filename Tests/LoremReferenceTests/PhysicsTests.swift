import XCTest
import LoremIO
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference

/// Symmetries every correct implementation must have, with random weights: rotation (forces
/// rotate, energy invariant), translation, permutation of atoms, and Newton's third law.
final class PhysicsTests: XCTestCase {
    let config = ModelGradientTests.config(mp: 1, L: 3, Llr: 2)

    func engine() throws -> ReferenceEngine {
        try ModelGradientTests.engine(config, seed: 99)
    }

    /// A proper rotation from Euler-like angles.
    static func rotation(_ a: Double, _ b: Double, _ c: Double) -> [SIMD3<Double>] {
        let rz = [SIMD3(cos(a), -sin(a), 0), SIMD3(sin(a), cos(a), 0), SIMD3(0, 0, 1)]
        let ry = [SIMD3(cos(b), 0, sin(b)), SIMD3(0, 1, 0), SIMD3(-sin(b), 0, cos(b))]
        let rx = [SIMD3(1, 0, 0), SIMD3(0, cos(c), -sin(c)), SIMD3(0, sin(c), cos(c))]
        func mul(_ m: [SIMD3<Double>], _ n: [SIMD3<Double>]) -> [SIMD3<Double>] {
            (0..<3).map { i in SIMD3((0..<3).map { j in (0..<3).reduce(0.0) { $0 + m[i][$1] * n[$1][j] } }) }
        }
        return mul(rz, mul(ry, rx))
    }

    static func apply(_ m: [SIMD3<Double>], _ v: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3((m[0] * v).sum(), (m[1] * v).sum(), (m[2] * v).sum())
    }

    func checkRotation(_ s: Structure) throws {
        let e = try engine()
        let q = Self.rotation(0.7, -1.1, 2.3)
        var r = s
        r.positions = s.positions.map { Self.apply(q, $0) }
        r.cell = s.cell.map { Self.apply(q, $0) }
        let a = try e.evaluate(s), b = try e.evaluate(r)
        XCTAssertEqual(a.energy, b.energy, accuracy: 1e-10 * max(1, abs(a.energy)))
        for (fa, fb) in zip(a.forces!, b.forces!) {
            let rotated = Self.apply(q, fa)
            for k in 0..<3 { XCTAssertEqual(rotated[k], fb[k], accuracy: 1e-10) }
        }
    }

    func testRotationBulk() throws { try checkRotation(ModelGradientTests.bulk()) }
    func testRotationSlab() throws { try checkRotation(ModelGradientTests.slab()) }
    func testRotationMolecule() throws { try checkRotation(ModelGradientTests.molecule()) }

    func testTranslationAndNewtonsThirdLaw() throws {
        let e = try engine()
        for s in [ModelGradientTests.bulk(), ModelGradientTests.slab(), ModelGradientTests.molecule()] {
            var t = s
            t.positions = s.positions.map { $0 + SIMD3(0.37, -1.21, 0.55) }
            let a = try e.evaluate(s), b = try e.evaluate(t)
            XCTAssertEqual(a.energy, b.energy, accuracy: 1e-10 * max(1, abs(a.energy)))
            let total = a.forces!.reduce(SIMD3<Double>.zero, +)
            for k in 0..<3 { XCTAssertEqual(total[k], 0, accuracy: 1e-10, "Σ F = 0") }
            for (fa, fb) in zip(a.forces!, b.forces!) { for k in 0..<3 { XCTAssertEqual(fa[k], fb[k], accuracy: 1e-10) } }
        }
    }

    func testPermutation() throws {
        let e = try engine()
        let s = ModelGradientTests.bulk()
        let perm = [3, 0, 4, 1, 2]
        var p = s
        p.numbers = perm.map { s.numbers[$0] }
        p.positions = perm.map { s.positions[$0] }
        let a = try e.evaluate(s), b = try e.evaluate(p)
        XCTAssertEqual(a.energy, b.energy, accuracy: 1e-10 * max(1, abs(a.energy)))
        for (k, i) in perm.enumerated() {
            XCTAssertEqual(b.perAtomEnergies[k], a.perAtomEnergies[i], accuracy: 1e-10)
            for d in 0..<3 { XCTAssertEqual(b.forces![k][d], a.forces![i][d], accuracy: 1e-10) }
        }
    }

    /// Wrapping an atom into a neighbouring periodic image changes nothing.
    func testPeriodicImageInvariance() throws {
        let e = try engine()
        let s = ModelGradientTests.bulk()
        var w = s
        w.positions[2] += s.cell[0] - s.cell[2]
        let a = try e.evaluate(s), b = try e.evaluate(w)
        XCTAssertEqual(a.energy, b.energy, accuracy: 1e-10 * max(1, abs(a.energy)))
        for (fa, fb) in zip(a.forces!, b.forces!) { for k in 0..<3 { XCTAssertEqual(fa[k], fb[k], accuracy: 1e-10) } }
    }
}
