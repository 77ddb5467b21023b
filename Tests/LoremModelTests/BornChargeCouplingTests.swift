import XCTest
@testable import LoremModel

/// The coupling of LoremBEC's tensor head (docs/MATH.md §12.2): the (l,l,1) generator blocks
/// against the section's spot values and their defining properties, and the 3×3 map.
final class BornChargeCouplingTests: XCTestCase {
    let coupling = BornChargeCoupling(maxDegree: 3)

    func value(_ a: (Int, Int), _ b: (Int, Int), _ c: (Int, Int)) -> Double {
        let (ia, ib, ic) = (SphericalLayout.index(l: a.0, m: a.1), SphericalLayout.index(l: b.0, m: b.1), SphericalLayout.index(l: c.0, m: c.1))
        return coupling.entries.first { $0.a == ia && $0.b == ib && $0.c == ic }?.value ?? 0
    }

    func testSpotValuesOfTheGeneratorBlocks() {
        XCTAssertEqual(value((1, 0), (1, 1), (1, -1)), 0.7071067812, accuracy: 1e-10)
        XCTAssertEqual(value((2, 2), (2, -2), (1, 0)), 0.6324555320, accuracy: 1e-10)
        XCTAssertEqual(value((2, 1), (2, -1), (1, 0)), 0.3162277660, accuracy: 1e-10)
        XCTAssertEqual(value((2, -1), (2, 0), (1, 1)), 0.5477225575, accuracy: 1e-10)
        XCTAssertEqual(value((3, 0), (3, 1), (1, -1)), 0.4629100499, accuracy: 1e-10)
    }

    /// l = 1 is ε_abc/√2; every block is antisymmetric in (a, b) and an isometry (Σ_ab C² = 1);
    /// the z-generator has the closed form G^z_{(l,m),(l,−m)} = m.
    func testGeneratorBlockProperties() {
        let xyz = [(1, 1), (1, -1), (1, 0)]
        for a in 0..<3 { for b in 0..<3 { for c in 0..<3 {
            let eps = Double((a - b) * (b - c) * (c - a)) / 2
            XCTAssertEqual(value(xyz[a], xyz[b], xyz[c]), eps / 2.0.squareRoot(), accuracy: 1e-14)
        } } }
        for l in 1...3 {
            let kappa = (3 / Double(l * (l + 1) * (2 * l + 1))).squareRoot()
            for c in xyz {
                var norm = 0.0
                for m1 in -l...l { for m2 in -l...l {
                    let v = value((l, m1), (l, m2), c)
                    norm += v * v
                    XCTAssertEqual(v, -value((l, m2), (l, m1), c), accuracy: 1e-14)
                } }
                XCTAssertEqual(norm, 1, accuracy: 1e-12, "l = \(l)")
            }
            for m in 1...l { XCTAssertEqual(value((l, m), (l, -m), (1, 0)), kappa * Double(m), accuracy: 1e-13) }
        }
    }

    /// Only the even-parity output slot survives: degree-0 and degree-2 outputs come from l1 + l2
    /// even paths, degree 1 only from (l, l).
    func testOnlyEvenParityPaths() {
        for e in coupling.entries {
            XCTAssertEqual((e.l1 + e.l2) % 2, 0, "\(e)")
            if e.l3 == 1 { XCTAssertEqual(e.l1, e.l2) }
            XCTAssertLessThan(e.c, 9)
        }
    }

    /// M = s0·I/√3 + ε v/√2 + t: trace √3·s0, antisymmetric part from v, t traceless symmetric.
    func testThreeByThreeMap() {
        let m = BornChargeCoupling.tensor([2, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(m, [2 / 3.0.squareRoot(), 0, 0, 0, 2 / 3.0.squareRoot(), 0, 0, 0, 2 / 3.0.squareRoot()])
        let v = BornChargeCoupling.tensor([0, 1, 0, 0, 0, 0, 0, 0, 0])  // v_x
        XCTAssertEqual(v[5], 1 / 2.0.squareRoot())
        XCTAssertEqual(v[7], -1 / 2.0.squareRoot())
        let t = BornChargeCoupling.tensor([0, 0, 0, 0, 0.3, -0.2, 0.7, 0.1, 0.5])
        XCTAssertEqual(t[0] + t[4] + t[8], 0, accuracy: 1e-15)
        for (a, b) in [(1, 3), (2, 6), (5, 7)] { XCTAssertEqual(t[a], t[b]) }
    }
}
