import LoremCL
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// The device neighbour list against LoremReference.NeighborList on bulk, slab, wire, molecule
/// and a tiny cell with many images: the same pairs in the same canonical order, a correct
/// `start` and `reverse`, bit-identical reruns, and the overlapping-atoms error.
final class NeighborKernelTests: XCTestCase {
    func testMatchesReference() throws {
        try check(Float.self)
        let context = try TestDevice.context()
        if context.device.supportsFP64 { try check(Double.self) }
    }

    func check<T: CLReal>(_ type: T.Type) throws {
        let kernels = try NeighborKernels<T>(context: try TestDevice.context())
        for fixture in GeometryFixture.all() {
            let f = fixture.rounded(to: T.self)
            let reference = try f.referencePairs()
            let list = try kernels.build(positions: f.positions, cell: f.cell, pbc: f.pbc, cutoff: f.cutoff)
            let got = try list.download()
            let label = "\(f.name) \(precisionName(T.self))"
            print("\(label): \(list.count) pairs for \(f.positions.count) atoms")
            XCTAssertGreaterThan(reference.count, 0, label)
            XCTAssertEqual(list.count, reference.count, label)
            XCTAssertEqual(got.centers, reference.centers, "\(label) centers")
            XCTAssertEqual(got.others, reference.others, "\(label) others")
            XCTAssertEqual(got.shifts, intShifts(reference), "\(label) shifts")
            // start is the CSR of the centers.
            XCTAssertEqual(got.start.count, f.positions.count + 1, label)
            for i in 0..<f.positions.count {
                XCTAssertTrue(got.centers[got.start[i]..<got.start[i + 1]].allSatisfy { $0 == i }, "\(label) start")
            }
            XCTAssertEqual(got.start.last, list.count, label)
            // reverse[p] is (o, c, −S), and an involution.
            for p in 0..<list.count {
                let q = got.reverse[p]
                XCTAssertTrue(q >= 0 && q < list.count, "\(label) reverse[\(p)] = \(q)")
                guard q >= 0 && q < list.count else { break }
                XCTAssertTrue(got.centers[q] == got.others[p] && got.others[q] == got.centers[p]
                              && got.shifts[q] == 0 &- got.shifts[p] && got.reverse[q] == p, "\(label) reverse[\(p)]")
            }
            // Bit-identical rerun (integers only, so equal means identical).
            let again = try kernels.build(positions: f.positions, cell: f.cell, pbc: f.pbc, cutoff: f.cutoff).download()
            XCTAssertTrue(again.centers == got.centers && again.others == got.others && again.shifts == got.shifts
                          && again.start == got.start && again.reverse == got.reverse, "\(label) rerun")
        }
    }

    /// The tiny cell really exercises several images per direction, self-images included.
    func testTinyCellHasManyImages() throws {
        let f = GeometryFixture.all().first { $0.name == "tiny" }!
        let list = try NeighborKernels<Float>(context: try TestDevice.context())
            .build(positions: f.positions, cell: f.cell, pbc: f.pbc, cutoff: f.cutoff).download()
        let maxShift = list.shifts.map { max(abs($0.x), abs($0.y), abs($0.z)) }.max() ?? 0
        XCTAssertGreaterThanOrEqual(maxShift, 2)
        XCTAssertTrue(zip(list.centers, list.others).contains { $0 == $1 }, "self-images present")
    }

    func testOverlappingAtomsAreAnError() throws {
        let kernels = try NeighborKernels<Float>(context: try TestDevice.context())
        let positions = [SIMD3<Double>(0, 0, 0), SIMD3(1.5, 0, 0), SIMD3(1.55, 0.02, 0)]
        XCTAssertThrowsError(try kernels.build(positions: positions, cell: [.zero, .zero, .zero],
                                               pbc: [false, false, false], cutoff: 5)) { error in
            XCTAssertTrue(error is NeighborSearchError)
            XCTAssertTrue("\(error)".contains("atoms 1 and 2"), "\(error)")
        }
        // An atom 0.05 Å from its own image in a periodic direction.
        let cell = [SIMD3<Double>(0.05, 0, 0), SIMD3(0, 5, 0), SIMD3(0, 0, 5)]
        XCTAssertThrowsError(try kernels.build(positions: [.zero], cell: cell, pbc: [true, false, false], cutoff: 3))
    }

    func testEmptyAndIsolated() throws {
        let kernels = try NeighborKernels<Float>(context: try TestDevice.context())
        let none = [SIMD3<Double>](repeating: .zero, count: 3)
        XCTAssertEqual(try kernels.build(positions: [], cell: none, pbc: [false, false, false], cutoff: 5).count, 0)
        let far = [SIMD3<Double>(0, 0, 0), SIMD3(10, 0, 0)]
        let list = try kernels.build(positions: far, cell: none, pbc: [false, false, false], cutoff: 5)
        XCTAssertEqual(list.count, 0)
        XCTAssertEqual(try list.start.download(), [0, 0, 0])
    }
}
