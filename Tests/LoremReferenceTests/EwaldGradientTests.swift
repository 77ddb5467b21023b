import XCTest
@testable import LoremEngineCore
@testable import LoremReference

/// Position gradient and virial of B = Σ vbar·V(q) against central finite differences, with
/// preprocessing frozen (k-grid integers, slab shrink) and the neighbour list rebuilt at every
/// displaced geometry and required to be identical (no pair crosses the cutoff).
final class EwaldGradientTests: XCTestCase {
    struct Case {
        var positions: [SIMD3<Double>]
        var cell: [SIMD3<Double>]
        var pbc: [Bool]
        var q: [[Double]]
        var vbar: [[Double]]
        let cutoff = 5.0
        var reciprocal = ReciprocalMethod.exact
    }

    static func bulk() -> Case {
        var rng = SeededGenerator(seed: 11)
        let cell = [SIMD3(5.0, 0.3, -0.2), SIMD3(0.4, 4.6, 0.3), SIMD3(-0.3, 0.5, 5.3)]
        let n = 6
        return Case(positions: rng.positions(count: n, cell: cell, minimum: 1.2), cell: cell, pbc: [true, true, true],
                    q: [rng.charges(n), rng.charges(n)], vbar: [rng.charges(n), rng.charges(n)])
    }

    static func slab(axis: Int) -> Case {
        var rng = SeededGenerator(seed: 12 + UInt64(axis))
        let cell = [SIMD3(4.5, 0, 0), SIMD3(0.6, 4.8, 0), SIMD3(0.2, -0.3, 20.0)]
        let box = [cell[0], cell[1], SIMD3(0, 0, 4.0)]
        let positions = rng.positions(count: 6, cell: box, minimum: 1.2).map { $0 + SIMD3(0, 0, 3) }
        // Cyclic relabelling of rows and coordinates so that the vacuum vector is row `axis`.
        let perm = (0..<3).map { ($0 + 2 - axis) % 3 }
        func relabel(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(v[perm[0]], v[perm[1]], v[perm[2]]) }
        let pbc = perm.map { $0 != 2 }
        return Case(positions: positions.map(relabel), cell: perm.map { relabel(cell[$0]) }, pbc: pbc, q: [rng.charges(6)], vbar: [rng.charges(6)])
    }

    static func molecule() -> Case {
        var rng = SeededGenerator(seed: 13)
        let box = [SIMD3(5.0, 0, 0), SIMD3(0, 5.0, 0), SIMD3(0, 0, 5.0)]
        return Case(positions: rng.positions(count: 5, cell: box, minimum: 1.0), cell: [.zero, .zero, .zero],
                    pbc: [false, false, false], q: [rng.charges(5), rng.charges(5)], vbar: [rng.charges(5), rng.charges(5)])
    }

    /// B at a displaced geometry, preprocessing frozen at `base`.
    func bilinear(_ c: Case, _ base: EwaldSummation, _ basePairs: PairList,
                          positions: [SIMD3<Double>], cell: [SIMD3<Double>], listCell: [SIMD3<Double>]) throws -> Double {
        let pairs = try NeighborList.build(positions: positions, cell: listCell, pbc: c.pbc, cutoff: c.cutoff)
        XCTAssertEqual(pairs, basePairs, "a pair crossed the cutoff")
        let e = try EwaldSummation(positions: positions, cell: cell, pbc: c.pbc, cutoff: c.cutoff, pairs: pairs,
                                   fixedGrid: base.kGridSize, shrinkSlab: false, reciprocal: c.reciprocal)
        let v = e.potentials(c.q)
        var b = 0.0
        for ch in v.indices { for i in v[ch].indices { b += c.vbar[ch][i] * v[ch][i] } }
        return b
    }

    /// Returns (max relative error of the position gradient, of the virial).
    func check(_ c: Case, checkVirial: Bool = true) throws -> (Double, Double) {
        let pairs = try NeighborList.build(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff)
        let e = try EwaldSummation(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff, pairs: pairs,
                                   reciprocal: c.reciprocal)
        let (grad, virial) = e.geometryGradient(charges: c.q, cotangent: c.vbar)
        let step = 1e-5
        var gradError = 0.0
        let gradScale = grad.map { max(abs($0.x), abs($0.y), abs($0.z)) }.max()!
        for m in c.positions.indices {
            for a in 0..<3 {
                var plus = c.positions, minus = c.positions
                plus[m][a] += step
                minus[m][a] -= step
                let fd = (try bilinear(c, e, pairs, positions: plus, cell: e.cell, listCell: c.cell)
                    - bilinear(c, e, pairs, positions: minus, cell: e.cell, listCell: c.cell)) / (2 * step)
                gradError = max(gradError, abs(fd - grad[m][a]) / gradScale)
            }
        }
        var virialError = 0.0
        if checkVirial {
            let virialScale = virial.flatMap { $0.map(abs) }.max()!
            func strained(_ rows: [SIMD3<Double>], _ a: Int, _ b: Int, _ eps: Double) -> [SIMD3<Double>] {
                rows.map { r in var s = r; s[b] += eps * r[a]; return s }
            }
            for a in 0..<3 {
                for b in 0..<3 {
                    let fd = (try bilinear(c, e, pairs, positions: strained(c.positions, a, b, step),
                                           cell: strained(e.cell, a, b, step), listCell: strained(c.cell, a, b, step))
                        - bilinear(c, e, pairs, positions: strained(c.positions, a, b, -step),
                                   cell: strained(e.cell, a, b, -step), listCell: strained(c.cell, a, b, -step))) / (2 * step)
                    virialError = max(virialError, abs(fd - virial[a][b]) / virialScale)
                }
            }
        }
        return (gradError, virialError)
    }

    func testBulkTriclinic() throws {
        let (g, w) = try check(Self.bulk())
        print("FD bulk: gradient \(g), virial \(w)")
        XCTAssertLessThan(g, 1e-7)
        XCTAssertLessThan(w, 1e-7)
    }

    func testSlabs() throws {
        for axis in [2, 0] {
            let c = Self.slab(axis: axis)
            XCTAssertEqual(c.pbc.firstIndex(of: false), axis)
            let (g, w) = try check(c)
            print("FD slab κ=\(axis): gradient \(g), virial \(w)")
            XCTAssertLessThan(g, 1e-7)
            XCTAssertLessThan(w, 1e-7)
        }
    }

    func testMolecule() throws {
        let (g, w) = try check(Self.molecule())
        print("FD molecule: gradient \(g), virial \(w)")
        XCTAssertLessThan(g, 1e-7)
        XCTAssertLessThan(w, 1e-7)
    }

    /// G5: the charge cotangent is the operator applied to vbar, because A is symmetric.
    func testOperatorSymmetryAndLinearity() throws {
        for c in [Self.bulk(), Self.slab(axis: 2), Self.slab(axis: 0), Self.molecule()] {
            let pairs = try NeighborList.build(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff)
            let e = try EwaldSummation(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff, pairs: pairs)
            let vq = e.potentials(c.q), vv = e.potentials(c.vbar)
            var forward = 0.0, backward = 0.0
            for ch in c.q.indices {
                for i in c.q[ch].indices {
                    forward += c.vbar[ch][i] * vq[ch][i]
                    backward += c.q[ch][i] * vv[ch][i]
                }
            }
            XCTAssertEqual(forward, backward, accuracy: 1e-13 * max(1, abs(forward)), "\(c.pbc)")
            // Linearity: V(2q − 3vbar) = 2V(q) − 3V(vbar), channel by channel.
            let mixed = e.potentials(zip(c.q, c.vbar).map { q, v in zip(q, v).map { 2 * $0 - 3 * $1 } })
            for ch in mixed.indices {
                for i in mixed[ch].indices {
                    XCTAssertEqual(mixed[ch][i], 2 * vq[ch][i] - 3 * vv[ch][i], accuracy: 1e-12, "\(c.pbc)")
                }
            }
        }
    }

    func testBulkTranslationInvariance() throws {
        let c = Self.bulk()
        let moved = c.positions.map { $0 + SIMD3(0.37, -1.2, 2.9) }
        let p0 = try NeighborList.build(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff)
        let p1 = try NeighborList.build(positions: moved, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff)
        let v0 = try EwaldSummation(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: 5, pairs: p0).potentials(c.q)
        let v1 = try EwaldSummation(positions: moved, cell: c.cell, pbc: c.pbc, cutoff: 5, pairs: p1).potentials(c.q)
        for ch in v0.indices {
            for i in v0[ch].indices { XCTAssertEqual(v0[ch][i], v1[ch][i], accuracy: 1e-12) }
        }
    }
}
