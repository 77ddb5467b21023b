import Foundation
import XCTest
import LoremIO
import LoremModel
@testable import LoremEngineCore
@testable import LoremReference

/// LoremBEC on the float64 reference engine (docs/MATH.md §12) against float64 lorem-jax 0.2.0
/// (Tests/Fixtures/make_bec_fixtures.py: checkpoints `bec`, T = 0, and `bec_mp1`, T = 1, both
/// L = 2 with the long range; periodic, slab and molecular frames): energy, forces, stress, the
/// Born charges after the acoustic sum rule, and the forces in an electric field. Then the
/// physics: Z(R·x) = R·Z(x)·Rᵀ, the sum rule, and a zero field.
final class BornChargeTests: XCTestCase {
    typealias Fixtures = LoremJaxFixtureTests

    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (model, frames) = try Fixtures.load(name)
        XCTAssertTrue(model.config.bornEffectiveCharges)
        XCTAssertEqual(model.weights.tensorPredictors.count, model.config.numMessagePassing + 2)
        let engine = try ReferenceEngine(config: model.config, weights: model.weights)
        for (k, frame) in frames.enumerated() {
            let tag = "\(name) frame \(k)"
            let r = try engine.evaluate(frame.structure)
            let energy = frame.number("energy")
            XCTAssertEqual(r.energy, energy, accuracy: 1e-9 * max(1, abs(energy)), tag, file: file, line: line)
            var worstForce = 0.0
            for (f, g) in zip(r.forces!, frame.vectors("forces")) { worstForce = max(worstForce, ((f - g) * (f - g)).max().squareRoot()) }
            XCTAssertLessThan(worstForce, 1e-9, "\(tag) forces", file: file, line: line)
            if frame.structure.periodicDimensions == 3, let ref = frame.list("stress_ase") {
                let stress = Fixtures.stressVoigt(r.virial!, volume: frame.number("volume"))
                for c in 0..<6 { XCTAssertEqual(stress[c], ref[c], accuracy: 1e-9, "\(tag) stress", file: file, line: line) }
            }
            let apt = try XCTUnwrap(r.bornEffectiveCharges, tag)
            let expected = (frame.json["apt"] as! [[[NSNumber]]]).map { $0.flatMap { $0.map(\.doubleValue) } }
            let scale = expected.flatMap { $0 }.map(abs).max()!
            var worstAPT = 0.0
            for (z, e) in zip(apt, expected) { for c in 0..<9 { worstAPT = max(worstAPT, abs(z[c] - e[c])) } }
            XCTAssertLessThan(worstAPT, 1e-9 * scale, "\(tag) Born charges", file: file, line: line)
            let field = SIMD3(frame.list("electric_field")!.map { $0 })
            var worstField = 0.0
            for (f, g) in zip(r.inField(field).forces!, frame.vectors("forces_in_field")) { worstField = max(worstField, ((f - g) * (f - g)).max().squareRoot()) }
            XCTAssertLessThan(worstField, 1e-9, "\(tag) forces in a field", file: file, line: line)
            print("\(tag): |ΔE| = \(abs(r.energy - energy)) eV, max |ΔF| = \(worstForce), max |ΔZ| = \(worstAPT) "
                  + "(max |Z| \(scale)), max |ΔF(E)| = \(worstField)")
        }
    }

    func testT0() throws { for s in ["bulk_triclinic", "slab", "molecule"] { try check("bec__\(s)") } }
    func testT1() throws { for s in ["bulk_triclinic", "slab", "molecule"] { try check("bec_mp1__\(s)") } }

    /// A config (L = 3, equivariant message passing and node initialisation on, cutoff 4.5) and
    /// structures that no development run used.
    func testHoldout() throws { for s in ["bulk_holdout", "molecule_holdout"] { try check("bec_holdout__\(s)") } }

    /// Born charges rotate as rank-2 tensors, Z(R·x) = R·Z(x)·Rᵀ; forces and energy are those of
    /// the energy model; the sum rule holds to rounding; a zero field changes nothing.
    func testRotationSumRuleAndZeroField() throws {
        let (model, frames) = try Fixtures.load("bec_mp1__molecule")
        let engine = try ReferenceEngine(config: model.config, weights: model.weights)
        let s = frames[0].structure
        let r = try engine.evaluate(s)
        let z = try XCTUnwrap(r.bornEffectiveCharges)
        for c in 0..<9 { XCTAssertEqual(z.reduce(0.0) { $0 + $1[c] }, 0, accuracy: 1e-16) }
        XCTAssertGreaterThan(z.flatMap { $0 }.map(abs).max()!, 1e-4, "Born charges worth rotating")
        XCTAssertEqual(r.inField(.zero).forces, r.forces)

        // R = rotation by 0.7 rad about (1, 2, −0.5)/|…|, by Rodrigues' formula.
        let axis = SIMD3<Double>(1, 2, -0.5) / (SIMD3<Double>(1, 2, -0.5) * SIMD3<Double>(1, 2, -0.5)).sum().squareRoot()
        let (c, sn) = (cos(0.7), sin(0.7))
        let R: [[Double]] = (0..<3).map { a in (0..<3).map { b in
            let k: [[Double]] = [[0, -axis.z, axis.y], [axis.z, 0, -axis.x], [-axis.y, axis.x, 0]]
            return (a == b ? c : 0) + sn * k[a][b] + (1 - c) * axis[a] * axis[b]
        } }
        func rotate(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3((0..<3).map { a in (0..<3).reduce(0.0) { $0 + R[a][$1] * v[$1] } }) }
        var rotated = s
        rotated.positions = s.positions.map(rotate)
        let zr = try XCTUnwrap(try engine.evaluate(rotated).bornEffectiveCharges)
        for i in 0..<s.count {
            for a in 0..<3 { for b in 0..<3 {
                var expected = 0.0
                for p in 0..<3 { for q in 0..<3 { expected += R[a][p] * z[i][3 * p + q] * R[b][q] } }
                XCTAssertEqual(zr[i][3 * a + b], expected, accuracy: 1e-12, "atom \(i) [\(a)][\(b)]")
            } }
        }
    }
}
