import XCTest
@testable import LoremModel

final class ClebschGordanTests: XCTestCase {
    private func value(_ t: CouplingTable, _ a: (Int, Int), _ b: (Int, Int), _ c: (Int, Int)) -> Double {
        let (ia, ib, ic) = (SphericalLayout.index(l: a.0, m: a.1), SphericalLayout.index(l: b.0, m: b.1),
                            SphericalLayout.index(l: c.0, m: c.1))
        return t.entries.first { $0.a == ia && $0.b == ib && $0.c == ic }?.value ?? 0
    }

    /// Spot values of docs/MATH.md §4.1.
    func testSpotValues() {
        let t = CouplingTable(maxDegree1: 2, maxDegree2: 2, maxDegree3: 2)
        XCTAssertEqual(value(t, (1, 1), (1, 1), (0, 0)), 0.5773502692, accuracy: 1e-10)
        XCTAssertEqual(value(t, (1, 1), (1, 1), (2, 2)), 0.7071067812, accuracy: 1e-10)
        XCTAssertEqual(value(t, (1, -1), (1, -1), (2, 2)), -0.7071067812, accuracy: 1e-10)
        XCTAssertEqual(value(t, (1, 1), (1, -1), (2, -2)), 0.7071067812, accuracy: 1e-10)
        XCTAssertEqual(value(t, (1, 0), (1, 0), (2, 0)), 0.8164965809, accuracy: 1e-10)
        XCTAssertEqual(value(t, (1, 1), (1, 1), (2, 0)), -0.4082482905, accuracy: 1e-10)
        XCTAssertEqual(value(t, (1, 1), (2, 2), (1, 1)), 0.5477225575, accuracy: 1e-10)
        XCTAssertEqual(value(t, (2, 0), (2, 0), (2, 0)), 0.5345224838, accuracy: 1e-10)
        XCTAssertEqual(value(t, (2, 1), (2, 1), (2, 2)), 0.4629100499, accuracy: 1e-10)
        XCTAssertEqual(value(t, (2, 2), (2, 2), (0, 0)), 0.4472135955, accuracy: 1e-10)
        // The odd-sum cross product path is excluded by the parity mask.
        XCTAssertEqual(value(t, (1, 0), (1, 1), (1, -1)), 0)
    }

    /// Each block is an isometry: Σ_{a,b} C[a,b,c] C[a,b,c'] = δ_cc' per path.
    func testBlocksAreIsometries() {
        let t = CouplingTable(maxDegree1: 6, maxDegree2: 6, maxDegree3: 6)
        var sums: [String: Double] = [:]
        for e in t.entries {
            for f in t.entries where f.l1 == e.l1 && f.l2 == e.l2 && f.l3 == e.l3 && f.a == e.a && f.b == e.b {
                sums["\(e.l1),\(e.l2),\(e.c),\(f.c)", default: 0] += e.value * f.value
            }
        }
        for (k, v) in sums {
            let p = k.split(separator: ",")
            XCTAssertEqual(v, p[2] == p[3] ? 1 : 0, accuracy: 1e-12, k)
        }
    }

    func testPathCounts() {
        func paths(_ L1: Int, _ L2: Int, _ L3: Int) -> Int {
            var n = 0
            for a in 0...L1 { for b in 0...L2 { for c in 0...L3 where CouplingTable.isPath(a, b, c) { n += 1 } } }
            return n
        }
        XCTAssertEqual(paths(6, 6, 6), 106)
        XCTAssertEqual(paths(2, 6, 6), 35)
        XCTAssertEqual(paths(2, 2, 2), 11)
    }
}
