import LoremCL
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// A random structure with C charge channels and cotangents, for the Ewald kernels.
struct EwaldCase {
    var name: String
    var positions: [SIMD3<Double>]
    var cell: [SIMD3<Double>]
    var pbc: [Bool]
    /// [channel][atom], as LoremReference takes them.
    var q: [[Double]]
    var vbar: [[Double]]
    var cutoff = 5.0

    /// The same case with every input rounded to `T`, so that the float64 reference and the
    /// device see identical operands and only the kernels' arithmetic differs.
    func rounded<T: CLReal>(to type: T.Type) -> EwaldCase {
        func r(_ x: Double) -> Double { Double(T(x)) }
        func r3(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(r(v.x), r(v.y), r(v.z)) }
        var c = self
        c.positions = positions.map(r3)
        c.cell = cell.map(r3)
        c.q = q.map { $0.map(r) }
        c.vbar = vbar.map { $0.map(r) }
        return c
    }

    func pairs() throws -> PairList {
        try NeighborList.build(positions: positions, cell: cell, pbc: pbc, cutoff: cutoff)
    }

    func summation(_ pairs: PairList) throws -> EwaldSummation {
        try EwaldSummation(positions: positions, cell: cell, pbc: pbc, cutoff: cutoff, pairs: pairs)
    }
}

extension SeededGenerator {
    mutating func vector(_ range: ClosedRange<Double>) -> SIMD3<Double> {
        SIMD3(Double.random(in: range, using: &self), Double.random(in: range, using: &self),
              Double.random(in: range, using: &self))
    }

    /// R = f·h, at least `minimum` apart (ignoring images; the neighbour list checks those).
    mutating func positions(count: Int, cell: [SIMD3<Double>], minimum: Double) -> [SIMD3<Double>] {
        var out: [SIMD3<Double>] = []
        while out.count < count {
            let f = vector(0...1)
            let r = f.x * cell[0] + f.y * cell[1] + f.z * cell[2]
            if out.allSatisfy({ (($0 - r) * ($0 - r)).sum() >= minimum * minimum }) { out.append(r) }
        }
        return out
    }

    /// `channels` × `count` charges in [−1, 1]; `neutral` removes each channel's mean.
    mutating func channels(_ channels: Int, _ count: Int, neutral: Bool) -> [[Double]] {
        (0..<channels).map { _ in
            let q = values(count)
            let mean = neutral ? q.reduce(0, +) / Double(count) : 0
            return q.map { $0 - mean }
        }
    }
}

enum EwaldCases {
    static let channels = 10

    /// 3D triclinic cell, ~7 Å, 24 atoms.
    static func bulk(neutral: Bool, seed: UInt64 = 21) -> EwaldCase {
        var rng = SeededGenerator(seed: seed)
        let cell = [SIMD3(7.1, 0.4, -0.3), SIMD3(0.6, 6.6, 0.5), SIMD3(-0.4, 0.7, 7.4)]
        let n = 24
        return EwaldCase(name: "bulk \(neutral ? "neutral" : "charged")",
                         positions: rng.positions(count: n, cell: cell, minimum: 1.2), cell: cell,
                         pbc: [true, true, true], q: rng.channels(channels, n, neutral: neutral),
                         vbar: rng.channels(channels, n, neutral: false))
    }

    /// 2D slab, vacuum vector = cell row `axis` (the atoms fill 4 Å of a 25 Å vacuum cell, so
    /// the §8.2 shrink applies), 20 atoms.
    static func slab(axis: Int, neutral: Bool, seed: UInt64 = 22) -> EwaldCase {
        var rng = SeededGenerator(seed: seed + UInt64(axis))
        let cell = [SIMD3(6.5, 0, 0), SIMD3(0.7, 6.2, 0), SIMD3(0.3, -0.4, 25.0)]
        let box = [cell[0], cell[1], SIMD3(0, 0, 4.0)]
        let n = 20
        let positions = rng.positions(count: n, cell: box, minimum: 1.2).map { $0 + SIMD3(0, 0, 6) }
        // Cyclic relabelling of rows and coordinates so that the vacuum vector is row `axis`.
        let perm = (0..<3).map { ($0 + 2 - axis) % 3 }
        func relabel(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(v[perm[0]], v[perm[1]], v[perm[2]]) }
        return EwaldCase(name: "slab axis \(axis) \(neutral ? "neutral" : "charged")",
                         positions: positions.map(relabel), cell: perm.map { relabel(cell[$0]) },
                         pbc: perm.map { $0 != 2 }, q: rng.channels(channels, n, neutral: neutral),
                         vbar: rng.channels(channels, n, neutral: false))
    }

    /// Non-periodic, 30 atoms in a 9 Å box.
    static func molecule(neutral: Bool, seed: UInt64 = 24) -> EwaldCase {
        var rng = SeededGenerator(seed: seed)
        let box = [SIMD3(9.0, 0, 0), SIMD3(0, 9.0, 0), SIMD3(0, 0, 9.0)]
        let n = 30
        return EwaldCase(name: "molecule \(neutral ? "neutral" : "charged")",
                         positions: rng.positions(count: n, cell: box, minimum: 1.0), cell: [.zero, .zero, .zero],
                         pbc: [false, false, false], q: rng.channels(channels, n, neutral: neutral),
                         vbar: rng.channels(channels, n, neutral: false))
    }

    static func all() -> [EwaldCase] {
        [true, false].flatMap { neutral in
            [bulk(neutral: neutral), slab(axis: 2, neutral: neutral), slab(axis: 0, neutral: neutral),
             molecule(neutral: neutral)]
        }
    }
}

/// [channel][atom] → [atom, channel] row-major, the device layout.
func interleave(_ x: [[Double]]) -> [Double] {
    let n = x.first?.count ?? 0
    return (0..<n).flatMap { i in x.map { $0[i] } }
}

/// Runs `body` with the default test context if it supports precision `T`.
func withEwaldContext<T: CLReal>(_ type: T.Type, _ body: (CLContext) throws -> Void) throws {
    let context = try TestDevice.context()
    if T.requiresFP64 && !context.device.supportsFP64 {
        print("note: \(context.device) has no float64; f64 Ewald checks skipped")
        return
    }
    try body(context)
}
