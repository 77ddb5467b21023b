import XCTest
@testable import LoremIO

final class StructureTests: XCTestCase {
    func testPeriodicDimensions() {
        let s = Structure(numbers: [1, 1], positions: [.zero, SIMD3(0, 0, 0.74)], pbc: [true, true, false])
        XCTAssertEqual(s.periodicDimensions, 2)
        XCTAssertEqual(s.count, 2)
    }
}
