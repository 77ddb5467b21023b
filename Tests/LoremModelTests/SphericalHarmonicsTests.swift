import XCTest
@testable import LoremModel

final class SphericalHarmonicsTests: XCTestCase {
    /// docs/MATH.md §1 test vector, u = (0.36, −0.48, 0.8).
    func testTestVector() {
        let expected: [Double] = [
            1.0, 0.36, -0.48, 0.8, -0.087295360701, -0.299298379548, 0.498830632580, -0.665107510106, 0.46,
            -0.159834162056, -0.060108573764, -0.156158688519, -0.535401217780, 0.484998969071, -0.646665292095, 0.08,
        ]
        let y = SphericalHarmonics(maxDegree: 3).values(SIMD3(0.36, -0.48, 0.8))
        for (a, e) in expected.enumerated() { XCTAssertEqual(y[a], e, accuracy: 1e-11, "slot \(a)") }
    }

    /// Σ_m Y_l^m(u)² = 1 for every unit u and every l ≤ 8.
    func testRacahNormalization() {
        let sh = SphericalHarmonics(maxDegree: 8)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<20 {
            let u = rng.unitVector()
            let y = sh.values(u)
            for l in 0...8 {
                let s = (l * l..<(l + 1) * (l + 1)).reduce(0.0) { $0 + y[$1] * y[$1] }
                XCTAssertEqual(s, 1, accuracy: 1e-12, "l = \(l)")
            }
        }
    }

    /// Tangential gradient against central differences along the sphere.
    func testGradientMatchesFiniteDifferences() {
        let sh = SphericalHarmonics(maxDegree: 6)
        var rng = SplitMix64(seed: 5)
        for _ in 0..<5 {
            let u = rng.unitVector()
            let (_, g) = sh.valuesAndGradients(u)
            // A tangent direction t ⟂ u; move along the great circle.
            var t = rng.unitVector()
            t -= (t * u).sum() * u
            t /= (t * t).sum().squareRoot()
            let h = 1e-6
            let yp = sh.values(cos(h) * u + sin(h) * t), ym = sh.values(cos(h) * u - sin(h) * t)
            for a in 0..<sh.count {
                XCTAssertEqual((yp[a] - ym[a]) / (2 * h), (g[a] * t).sum(), accuracy: 1e-7, "slot \(a)")
            }
        }
    }

    func testLayoutIndex() {
        XCTAssertEqual(SphericalLayout.index(l: 1, m: 1), 1)
        XCTAssertEqual(SphericalLayout.index(l: 1, m: -1), 2)
        XCTAssertEqual(SphericalLayout.index(l: 1, m: 0), 3)
        XCTAssertEqual(SphericalLayout.index(l: 2, m: 0), 8)
        XCTAssertEqual(SphericalLayout.index(l: 3, m: -3), 10)
        XCTAssertEqual(SphericalLayout.degrees(maxDegree: 2), [0, 1, 1, 1, 2, 2, 2, 2, 2])
    }
}
