import LoremCL
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// Random structures covering every kind of cell the neighbour list must handle (docs/MATH.md
/// §0): triclinic bulk, a 2D slab, a 1D wire, a molecule (small ones with one bin per axis and
/// large ones with several), and a tiny triclinic cell whose cutoff sphere holds many periodic
/// images (self-images included).
struct GeometryFixture {
    let name: String
    var positions: [SIMD3<Double>]
    var cell: [SIMD3<Double>]
    let pbc: [Bool]
    let cutoff: Double

    /// The same structure with positions and cell rounded to `T`, so a float32 kernel and the
    /// float64 reference see identical inputs and only the kernel's own rounding is measured.
    func rounded<T: CLReal>(to type: T.Type) -> GeometryFixture {
        func round(_ v: SIMD3<Double>) -> SIMD3<Double> {
            SIMD3(Double(T(v.x)), Double(T(v.y)), Double(T(v.z)))
        }
        var copy = self
        copy.positions = positions.map(round)
        copy.cell = cell.map(round)
        return copy
    }

    func referencePairs() throws -> PairList {
        try NeighborList.build(positions: positions, cell: cell, pbc: pbc, cutoff: cutoff)
    }

    static func all() -> [GeometryFixture] {
        var rng = SeededGenerator(seed: 42)
        let bulkCell = [SIMD3<Double>(8.1, 0, 0), SIMD3(1.3, 7.6, 0), SIMD3(-0.9, 1.1, 8.4)]
        let slabCell = [SIMD3<Double>(7.2, 0.4, 0), SIMD3(-2.1, 6.8, 0.3), SIMD3(0.5, 0.3, 25)]
        let wireCell = [SIMD3<Double>(0, 0, 0), SIMD3(0, 0, 0), SIMD3(0.4, -0.3, 6.5)]
        let largeCell = [SIMD3<Double>(17.3, 0, 0), SIMD3(2.1, 16.2, 0), SIMD3(-1.4, 1.9, 18.8)]
        let largeSlabCell = [SIMD3<Double>(16.5, -0.8, 0), SIMD3(3.2, 15.9, 0), SIMD3(0.3, -0.2, 30)]
        let tinyCell = [SIMD3<Double>(2.3, 0, 0), SIMD3(0.8, 2.1, 0), SIMD3(-0.4, 0.6, 2.6)]
        return [
            GeometryFixture(name: "bulk", positions: jittered(bulkCell, grid: SIMD3(3, 3, 4), periodic: [true, true, true],
                                                              rng: &rng),
                            cell: bulkCell, pbc: [true, true, true], cutoff: 5),
            GeometryFixture(name: "slab", positions: jittered(slabCell, grid: SIMD3(3, 3, 3), periodic: [true, true, false],
                                                              rng: &rng, depth: 0.25),
                            cell: slabCell, pbc: [true, true, false], cutoff: 5),
            GeometryFixture(name: "wire", positions: jittered([SIMD3(4, 0, 0), SIMD3(0, 4, 0), wireCell[2]],
                                                              grid: SIMD3(2, 2, 3), periodic: [false, false, true], rng: &rng),
                            cell: wireCell, pbc: [false, false, true], cutoff: 4.5),
            GeometryFixture(name: "molecule", positions: jittered([SIMD3(6, 0, 0), SIMD3(0, 6, 0), SIMD3(0, 0, 6)],
                                                                  grid: SIMD3(3, 3, 3), periodic: [false, false, false],
                                                                  rng: &rng),
                            cell: [.zero, .zero, .zero], pbc: [false, false, false], cutoff: 5),
            // Cells wide enough for several bins per axis (the bin-offset search, not only images).
            GeometryFixture(name: "large bulk", positions: jittered(largeCell, grid: SIMD3(6, 6, 7),
                                                                    periodic: [true, true, true], rng: &rng),
                            cell: largeCell, pbc: [true, true, true], cutoff: 5),
            GeometryFixture(name: "large slab", positions: jittered(largeSlabCell, grid: SIMD3(6, 6, 3),
                                                                    periodic: [true, true, false], rng: &rng,
                                                                    depth: 0.4),
                            cell: largeSlabCell, pbc: [true, true, false], cutoff: 5),
            GeometryFixture(name: "large molecule", positions: jittered([SIMD3(16, 0, 0), SIMD3(0, 15, 0), SIMD3(0, 0, 14)],
                                                                        grid: SIMD3(6, 6, 5),
                                                                        periodic: [false, false, false], rng: &rng),
                            cell: [.zero, .zero, .zero], pbc: [false, false, false], cutoff: 5),
            GeometryFixture(name: "tiny", positions: jittered(tinyCell, grid: SIMD3(1, 1, 2), periodic: [true, true, true],
                                                              rng: &rng),
                            cell: tinyCell, pbc: [true, true, true], cutoff: 5),
        ]
    }

    /// Atoms near the points of a grid in fractional coordinates of `cell`, jittered by ±15 % of
    /// a grid step (so no two are closer than the minimum distance), and moved by random whole
    /// lattice vectors along periodic axes (the list must not assume wrapped positions).
    /// `depth` < 1 squeezes the last axis (a slab's atoms fill only part of the vacuum vector).
    static func jittered(_ cell: [SIMD3<Double>], grid: SIMD3<Int>, periodic: [Bool], rng: inout SeededGenerator,
                         depth: Double = 1) -> [SIMD3<Double>] {
        var out: [SIMD3<Double>] = []
        for a in 0..<grid.x {
            for b in 0..<grid.y {
                for c in 0..<grid.z {
                    var f = SIMD3<Double>((Double(a) + 0.5) / Double(grid.x), (Double(b) + 0.5) / Double(grid.y),
                                          (Double(c) + 0.5) / Double(grid.z) * depth)
                    for axis in 0..<3 {
                        f[axis] += Double.random(in: -0.15...0.15, using: &rng) / Double(grid[axis])
                        if periodic[axis] { f[axis] += Double(Int.random(in: -1...1, using: &rng)) }
                    }
                    out.append(f.x * cell[0] + f.y * cell[1] + f.z * cell[2])
                }
            }
        }
        return out
    }
}

func intShifts(_ pairs: PairList) -> [SIMD3<Int>] {
    pairs.shifts.map { SIMD3(Int($0.x), Int($0.y), Int($0.z)) }
}
