import XCTest
@testable import LoremModel

final class BernsteinTests: XCTestCase {
    /// docs/MATH.md §2.3 test values (r = 1.3, K = 32, c = 5). They come from e3x in float32,
    /// where the exponent β_k + k·ln x + (n−k)·log1p(−x) (magnitude ~10) is rounded to a few
    /// 1e-7 absolute, i.e. ~1e-6 relative in B. Derivatives are compared absolutely because they
    /// cancel near their zero crossings.
    func testTestValues() throws {
        let b = try BernsteinBasis(count: 32, cutoff: 5)
        let v = b.values(1.3), d = b.derivatives(1.3)
        let expected: [(Int, Double, Double)] = [
            (0, 8.83453322e-05, -7.40189571e-04), (5, 0.0803733692, -0.255657136),
            (8, 0.161854222, -0.0100934869), (10, 0.112334579, 0.226538509),
        ]
        for (k, bk, dk) in expected {
            XCTAssertEqual(v[k] / bk, 1, accuracy: 3e-6, "B_\(k) relative")
            XCTAssertEqual(d[k], dk, accuracy: 1e-6, "dB_\(k)/dr")
        }
    }

    func testOneHotEnds() throws {
        let b = try BernsteinBasis(count: 32, cutoff: 5)
        XCTAssertEqual(b.values(0)[0], 1)
        XCTAssertEqual(b.values(5.5)[31], 1)
        XCTAssertEqual(b.values(5.5).reduce(0, +), 1)
    }

    /// float32 reference values (§2.2): agreement to a float32 ulp or so.
    func testCosineCutoff() {
        XCTAssertEqual(CosineCutoff.value(1.3, cutoff: 5), 0.842273593, accuracy: 1e-7)
        XCTAssertEqual(CosineCutoff.derivative(1.3, cutoff: 5), -0.229012251, accuracy: 1e-7)
        XCTAssertEqual(CosineCutoff.value(5, cutoff: 5), 0)
    }

    func testUnsupportedCountIsAnError() {
        XCTAssertThrowsError(try BernsteinBasis(count: 1, cutoff: 5))
    }
}
