import XCTest
@testable import LoremEngineCore
@testable import LoremReference

/// docs/MATH.md §8.4: float64 evaluation on float32-rounded inputs, λ = 0.625, σ = 1.25.
final class EwaldTestVectorTests: XCTestCase {
    private func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    private func ewald(_ positions: [SIMD3<Double>], _ cell: [SIMD3<Double>], _ pbc: [Bool]) throws -> EwaldSummation {
        let r = positions.map(f32), h = cell.map(f32)
        let pairs = try NeighborList.build(positions: r, cell: h, pbc: pbc, cutoff: 5)
        return try EwaldSummation(positions: r, cell: h, pbc: pbc, cutoff: 5, pairs: pairs)
    }

    func testBulk() throws {
        let r = [SIMD3(0.1, 0.2, 0.3), SIMD3(2.1, 1.9, 2.05)]
        let h = [SIMD3(4.0, 0, 0), SIMD3(0, 4.0, 0), SIMD3(0, 0, 4.0)]
        let e = try ewald(r, h, [true, true, true])
        XCTAssertEqual(e.pairVectors.count, 28)
        XCTAssertEqual(e.kGridSize, SIMD3(7, 7, 7))
        XCTAssertEqual(e.kVectorCount, 171)
        XCTAssertEqual(e.wavelength, 0.625)
        XCTAssertEqual(e.smearing, 1.25)

        let v = e.potentials([[1, -1], [1, 0.5]])
        let d1 = maxDifference(v[0], [-0.25693552824, 0.25693552824])
        let d2 = maxDifference(v[1], [-0.403535126113, -0.275067361993])
        XCTAssertLessThan(d1, 1e-10)
        XCTAssertLessThan(d2, 1e-10)

        let parts = e.parts([1, -1])
        let expected = [-0.006337749052, 0.068556045133, -0.319153824321, 0]
        let got = [parts.real[0], parts.reciprocal[0], parts.selfInteraction[0], parts.background[0]]
        let d3 = maxDifference(got, expected)
        XCTAssertLessThan(d3, 1e-10)
        XCTAssertEqual(parts.slab, [0, 0])
        print("§8.4 3D: |ΔV| q=(1,-1) \(d1), q=(1,0.5) \(d2), breakdown \(d3)")
    }

    func testMolecule() throws {
        let r = [SIMD3(0.0, 0, 0), SIMD3(1, 0.2, -0.1), SIMD3(0.3, -0.8, 0.5)]
        let e = try ewald(r, [.zero, .zero, .zero], [false, false, false])
        XCTAssertEqual(e.periodicity, .molecule)
        // Positions are float32-rounded; the vector's charges are the float64 literals
        // (rounding them too moves V by ~4e-9, far above the 3e-13 agreement).
        let v = e.potentials([[0.5, -0.3, 0.2]])[0]
        let d = maxDifference(v, [-0.045369757735, 0.317496479977, 0.142255939889])
        XCTAssertLessThan(d, 1e-10)
        print("§8.4 non-PBC: |ΔV| \(d)")
    }

    func testSlab() throws {
        let r = [SIMD3(0.1, 0.2, 5.0), SIMD3(2.1, 1.9, 6.5)]
        let h = [SIMD3(4.0, 0, 0), SIMD3(0.3, 4.2, 0), SIMD3(0, 0, 30.0)]
        let e = try ewald(r, h, [true, true, false])
        XCTAssertEqual(e.periodicity, .slab(nonPeriodicAxis: 2))
        XCTAssertEqual(e.cell[2].z, 7.816051, accuracy: 5e-7)
        XCTAssertEqual(e.cell[2].x, 0)
        XCTAssertEqual(e.kVectorCount, 318)
        let v = e.potentials([[1, -1]])[0]
        let d = maxDifference(v, [-0.162194282838, 0.162194282838])
        XCTAssertLessThan(d, 1e-10)
        print("§8.4 2D: shrunk h_z \(e.cell[2].z), |K+| \(e.kVectorCount), |ΔV| \(d)")
    }

    func testHalfSpaceCountFormula() {
        for ns in [SIMD3(7, 7, 7), SIMD3(8, 5, 6), SIMD3(1, 2, 3), SIMD3(4, 4, 13)] {
            let count = (ns.x - 1) / 2 * ns.y * ns.z + (ns.y - 1) / 2 * ns.z + (ns.z - 1) / 2
            XCTAssertEqual(EwaldKGrid.halfSpace(ns).count, count)
        }
        XCTAssertEqual(EwaldKGrid.frequencies(6), [0, 1, 2, -3, -2, -1])
        XCTAssertEqual(EwaldKGrid.frequencies(7), [0, 1, 2, 3, -3, -2, -1])
    }

    func testRejectsOnePeriodicAxis() throws {
        let h = [SIMD3(4.0, 0, 0), SIMD3(0, 4.0, 0), SIMD3(0, 0, 4.0)]
        XCTAssertThrowsError(try EwaldSummation(
            positions: [.zero], cell: h, pbc: [true, false, false], cutoff: 5, pairs: PairList()))
    }
}
