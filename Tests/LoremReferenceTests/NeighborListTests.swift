import XCTest
@testable import LoremEngineCore
@testable import LoremReference

final class NeighborListTests: XCTestCase {
    /// O(N²·images) enumeration used as ground truth, produced directly in canonical order.
    private func bruteForce(
        _ positions: [SIMD3<Double>], _ cell: [SIMD3<Double>], _ pbc: [Bool], _ cutoff: Double
    ) -> PairList {
        // Generous image ranges from a lower bound on each periodic axis' width; atoms may sit
        // anywhere (unwrapped), so the largest interatomic distance adds to the reach.
        var spread = 0.0
        for a in positions { for b in positions { spread = max(spread, norm(a - b)) } }
        var range = [0, 0, 0]
        let periodic = (0..<3).filter { pbc[$0] }
        for a in periodic {
            var width = norm(cell[a])
            for b in periodic where b != a { width = min(width, norm(cross(cell[a], cell[b])) / norm(cell[b])) }
            if periodic.count == 3 {
                width = abs(Mat3(rows: cell).determinant) / norm(cross(cell[(a + 1) % 3], cell[(a + 2) % 3]))
            }
            range[a] = Int(((cutoff + spread) / width).rounded(.up)) + 1
        }
        var list = PairList()
        let h = Mat3(rows: cell)
        for i in positions.indices {
            for j in positions.indices {
                for sx in -range[0]...range[0] {
                    for sy in -range[1]...range[1] {
                        for sz in -range[2]...range[2] {
                            if i == j && sx == 0 && sy == 0 && sz == 0 { continue }
                            let s = SIMD3<Double>(Double(sx), Double(sy), Double(sz))
                            let d = positions[j] - positions[i] + h.leftMultiply(s)
                            if dot(d, d) < cutoff * cutoff {
                                list.centers.append(i)
                                list.others.append(j)
                                list.shifts.append(s)
                            }
                        }
                    }
                }
            }
        }
        return list
    }

    private func check(
        _ positions: [SIMD3<Double>], _ cell: [SIMD3<Double>], _ pbc: [Bool], _ cutoff: Double,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let list = try NeighborList.build(positions: positions, cell: cell, pbc: pbc, cutoff: cutoff)
        let truth = bruteForce(positions, cell, pbc, cutoff)
        XCTAssertGreaterThan(truth.count, 0, "degenerate test", file: file, line: line)
        XCTAssertEqual(list.count, truth.count, "pair count", file: file, line: line)
        if let p = (0..<min(list.count, truth.count)).first(where: {
            list.centers[$0] != truth.centers[$0] || list.others[$0] != truth.others[$0] || list.shifts[$0] != truth.shifts[$0]
        }) {
            XCTFail("pair \(p) differs: \((list.centers[p], list.others[p], list.shifts[p])) vs brute force "
                + "\((truth.centers[p], truth.others[p], truth.shifts[p]))", file: file, line: line)
        }
        // Symmetry: (i, j, S) ⇔ (j, i, −S).
        struct Key: Hashable { let i: Int, j: Int, s: SIMD3<Double> }
        let keys = Set((0..<list.count).map { Key(i: list.centers[$0], j: list.others[$0], s: list.shifts[$0]) })
        for k in keys {
            XCTAssertTrue(keys.contains(Key(i: k.j, j: k.i, s: -k.s)), "missing reverse of \(k)", file: file, line: line)
        }
    }

    func testTriclinicCellsMatchBruteForce() throws {
        var rng = SeededGenerator(seed: 1)
        for _ in 0..<4 {
            let cell = [SIMD3(9.0, 0, 0) + rng.vector(-1...1), SIMD3(0, 8.5, 0) + rng.vector(-1.5...1.5),
                        SIMD3(0, 0, 10.0) + rng.vector(-2...2)]
            let pos = rng.positions(count: 40, cell: cell, minimum: 1.0)
            try check(pos, cell, [true, true, true], 4.0)
        }
    }

    func testUnwrappedPositionsKeepOriginalShifts() throws {
        var rng = SeededGenerator(seed: 2)
        let cell = [SIMD3(5.0, 0.4, 0), SIMD3(-0.7, 5.5, 0.2), SIMD3(0.3, -0.5, 6.0)]
        // Atoms far outside the cell: shifts must refer to these original positions.
        let pos = rng.positions(count: 12, cell: cell, minimum: 1.0).enumerated().map { i, r in
            r + Double(i % 3 - 1) * 2 * cell[0] - Double(i % 4) * cell[2]
        }
        try check(pos, cell, [true, true, true], 5.0)
    }

    func testTinyCellWithManyImages() throws {
        // A 2 Å vector with a 5 Å cutoff needs three images on each side.
        let cell = [SIMD3(2.0, 0, 0), SIMD3(0.5, 4.5, 0), SIMD3(-0.4, 0.8, 3.8)]
        var rng = SeededGenerator(seed: 3)
        let pos = rng.positions(count: 3, cell: cell, minimum: 0.9)
        try check(pos, cell, [true, true, true], 5.0)
        try check([SIMD3(0.1, 0.2, 0.3)], cell, [true, true, true], 5.0)
    }

    func testSlabs() throws {
        var rng = SeededGenerator(seed: 4)
        let cell = [SIMD3(6.0, 0, 0), SIMD3(1.2, 5.6, 0), SIMD3(0, 0, 25.0)]
        let pos = rng.positions(count: 20, cell: [cell[0], cell[1], SIMD3(0, 0, 6.0)], minimum: 1.0)
        try check(pos, cell, [true, true, false], 5.0)
        // Non-periodic axis first, tilted vacuum vector, small periodic cell (many images).
        let cell2 = [SIMD3(30.0, 1.0, 0.5), SIMD3(0, 3.1, 0), SIMD3(2.9, 0.4, 0)]
        let pos2 = rng.positions(count: 6, cell: [SIMD3(0, 0, 4), cell2[1], cell2[2]], minimum: 1.0)
        try check(pos2, cell2, [false, true, true], 5.0)
    }

    func testMoleculesAndSingleAxis() throws {
        var rng = SeededGenerator(seed: 5)
        let box = [SIMD3(12.0, 0, 0), SIMD3(0, 12.0, 0), SIMD3(0, 0, 12.0)]
        let pos = rng.positions(count: 30, cell: box, minimum: 1.0)
        try check(pos, [.zero, .zero, .zero], [false, false, false], 4.0)
        let list = try NeighborList.build(positions: pos, cell: [.zero, .zero, .zero], pbc: [false, false, false], cutoff: 4)
        XCTAssertTrue(list.shifts.allSatisfy { $0 == .zero })
        // One periodic axis (a wire), with a junk cell vector on a non-periodic axis.
        let wire = [SIMD3(7.0, 0, 0), SIMD3(0, 0, 0), SIMD3(0.3, 0.2, 2.5)]
        try check(Array(pos.prefix(8)), wire, [false, false, true], 4.0)
    }

    func testEmptyAndSingleAtom() throws {
        let zero = [SIMD3<Double>](repeating: .zero, count: 3)
        XCTAssertEqual(try NeighborList.build(positions: [], cell: zero, pbc: [false, false, false], cutoff: 5).count, 0)
        XCTAssertEqual(try NeighborList.build(positions: [.zero], cell: zero, pbc: [false, false, false], cutoff: 5).count, 0)
    }

    func testRejectsCloseAtomsAndBadCells() {
        let cell = [SIMD3(5.0, 0, 0), SIMD3(0, 5.0, 0), SIMD3(0, 0, 5.0)]
        XCTAssertThrowsError(try NeighborList.build(
            positions: [.zero, SIMD3(1, 1, 1), SIMD3(1, 1, 1.02)], cell: cell, pbc: [true, true, true], cutoff: 5)) { error in
            XCTAssertEqual("\(error)", "atoms 1 and 2 are 0.02 Å apart (minimum 0.1 Å)")
        }
        // An atom and its own image via a tiny cell vector.
        XCTAssertThrowsError(try NeighborList.build(
            positions: [.zero], cell: [SIMD3(0.05, 0, 0), cell[1], cell[2]], pbc: [true, true, true], cutoff: 5))
        XCTAssertThrowsError(try NeighborList.build(
            positions: [.zero], cell: [.zero, cell[1], cell[2]], pbc: [true, true, true], cutoff: 5))
        XCTAssertThrowsError(try NeighborList.build(
            positions: [.zero], cell: [cell[0], 2 * cell[0], cell[2]], pbc: [true, true, false], cutoff: 5))
    }
}
