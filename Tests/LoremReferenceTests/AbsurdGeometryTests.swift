import XCTest
import LoremIO
@testable import LoremEngineCore
@testable import LoremReference

/// Geometries the fuzzer (LoremGPUTests.FuzzTests) turned up that used to crash the process:
/// each must now be a clear error.
final class AbsurdGeometryTests: XCTestCase {
    let cell = [SIMD3(5.64, 0, 0), SIMD3(0, 5.64, 0), SIMD3(0, 0, 5.64)]

    /// An atom 1e308 Å away in a periodic cell: its wrap count does not fit an integer.
    func testAtomFarOutsideAPeriodicCell() {
        XCTAssertThrowsError(try NeighborList.build(positions: [.zero, SIMD3(1e308, 0, 0)], cell: cell, pbc: [true, true, true],
                                                    cutoff: 5)) { error in
            XCTAssertTrue("\(error)".contains("cell lengths away from the cell"), "\(error)")
        }
    }

    /// A 5.6e9 Å cell vector: exact Ewald would need 72 GB of k-vectors, PME a mesh as absurd.
    func testHugeCellIsRefusedByBothReciprocalMethods() throws {
        let huge = [SIMD3(5.64, 0, 0), SIMD3(0, -5.64e9, 0), SIMD3(0, 0, 5.64)]
        let positions = [SIMD3(0.1, 0.2, 0.3), SIMD3(2.8, 0.1, 0.2)]
        let pairs = try NeighborList.build(positions: positions, cell: huge, pbc: [true, true, true], cutoff: 5)
        for (method, words) in [(ReciprocalMethod.exact, "k-points"), (.pme(PMEParameters()), "PME mesh")] {
            XCTAssertThrowsError(try EwaldSummation(positions: positions, cell: huge, pbc: [true, true, true], cutoff: 5, pairs: pairs,
                                                    reciprocal: method)) { error in
                XCTAssertTrue("\(error)".contains(words), "\(error)")
            }
        }
    }
}
