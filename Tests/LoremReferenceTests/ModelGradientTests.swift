import XCTest
import LoremIO
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference

/// The whole model's hand-written reverse pass against finite differences of its energy, with
/// random weights, for every branch of the architecture and every kind of periodicity. The radial
/// basis uses exact binomials, for which e3x's custom Bernstein derivative rule is the true
/// derivative (with the float32 tables it is off by ~1e-6 relative by construction, §2.3).
final class ModelGradientTests: XCTestCase {
    static func config(mp: Int, L: Int, Llr: Int = 1, eq: Bool = true, initNodes: Bool = true, lr: Bool = true) -> LoremConfig {
        var c = LoremConfig()
        c.cutoff = 3.2
        c.maxDegree = L
        c.maxDegreeLR = Llr
        c.numFeatures = 6
        c.numRadial = 7
        c.numSpecies = 3
        c.numSphericalFeatures = 2
        c.numMessagePassing = mp
        c.equivariantMessagePassing = eq
        c.initializeNodeFeatures = initNodes
        c.longRange = lr
        return c
    }

    static func bulk() -> Structure {
        var rng = SeededGenerator(seed: 21)
        let cell = [SIMD3(3.6, 0.2, 0.0), SIMD3(-0.4, 3.9, 0.1), SIMD3(0.3, -0.2, 4.1)]
        return Structure(numbers: [11, 17, 8, 1, 1], positions: rng.positions(count: 5, cell: cell, minimum: 1.0),
                         cell: cell, pbc: [true, true, true])
    }

    /// The vacuum vector (7 Å) is shorter than lorem-jax's shrink threshold t + 1.5·L_max, so the
    /// position-dependent 2D cell shrink (frozen preprocessing, not differentiated: §8.2) does
    /// not kick in and finite differences see the same function the gradient describes.
    static func slab() -> Structure {
        var rng = SeededGenerator(seed: 22)
        let inPlane = [SIMD3(4.0, 0.0, 0.0), SIMD3(0.5, 3.8, 0.0), SIMD3(0.0, 0.0, 3.0)]
        let pos = rng.positions(count: 4, cell: inPlane, minimum: 1.0).map { $0 + SIMD3(0, 0, 5) }
        return Structure(numbers: [11, 17, 8, 1], positions: pos,
                         cell: [inPlane[0], inPlane[1], SIMD3(0, 0, 7)], pbc: [true, true, false])
    }

    static func molecule() -> Structure {
        Structure(numbers: [8, 1, 1, 6, 1],
                  positions: [SIMD3(0, 0, 0), SIMD3(0.96, 0.1, 0), SIMD3(-0.3, 0.9, 0.1), SIMD3(0.2, -0.3, 1.4), SIMD3(1.0, -0.5, 1.9)])
    }

    static func engine(_ c: LoremConfig, seed: UInt64, longRange: LongRangeMethod = .ewald) throws -> ReferenceEngine {
        try ReferenceEngine(config: c, weights: LoremWeights.random(config: c, seed: seed),
                            basis: BernsteinBasis(exactCount: c.numRadial, cutoff: c.cutoff), longRange: longRange)
    }

    func energy(_ engine: ReferenceEngine, _ s: Structure) -> Double {
        try! engine.evaluate(s, forces: false).energy
    }

    /// Forces against central differences for every atom and direction.
    func checkForces(_ c: LoremConfig, _ s: Structure, seed: UInt64, longRange: LongRangeMethod = .ewald,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let engine = try Self.engine(c, seed: seed, longRange: longRange)
        let forces = try XCTUnwrap(engine.evaluate(s).forces)
        let h = 1e-5
        var worst = 0.0
        for i in 0..<s.count {
            for k in 0..<3 {
                var p = s, m = s
                p.positions[i][k] += h
                m.positions[i][k] -= h
                let fd = -(energy(engine, p) - energy(engine, m)) / (2 * h)
                worst = max(worst, abs(forces[i][k] - fd))
                XCTAssertEqual(forces[i][k], fd, accuracy: 1e-7 * max(1, abs(fd)), "atom \(i) dir \(k)", file: file, line: line)
            }
        }
        print("max |F − F_fd| = \(worst)")
    }

    /// Virial W_ab = dE/dε_ab under R → R(1+ε), h → h(1+ε) against central differences.
    func checkVirial(_ c: LoremConfig, _ s: Structure, seed: UInt64, longRange: LongRangeMethod = .ewald) throws {
        let engine = try Self.engine(c, seed: seed, longRange: longRange)
        let w = try XCTUnwrap(engine.evaluate(s).virial)
        let h = 1e-5
        for a in 0..<3 {
            for b in 0..<3 {
                func strained(_ e: Double) -> Structure {
                    var t = s
                    func apply(_ v: SIMD3<Double>) -> SIMD3<Double> { var o = v; o[b] += e * v[a]; return o }
                    t.positions = s.positions.map(apply)
                    t.cell = s.cell.map(apply)
                    return t
                }
                let fd = (energy(engine, strained(h)) - energy(engine, strained(-h))) / (2 * h)
                XCTAssertEqual(w[a][b], fd, accuracy: 1e-7 * max(1, abs(fd)), "W[\(a)][\(b)]")
            }
        }
    }

    func testBulkNoMessagePassing() throws { try checkForces(Self.config(mp: 0, L: 3, Llr: 2), Self.bulk(), seed: 1) }
    func testBulkTwoEquivariantIterations() throws { try checkForces(Self.config(mp: 2, L: 2), Self.bulk(), seed: 2) }
    func testBulkNonEquivariantNoNodeInit() throws {
        try checkForces(Self.config(mp: 1, L: 2, eq: false, initNodes: false), Self.bulk(), seed: 3)
    }
    func testSlab() throws { try checkForces(Self.config(mp: 1, L: 2), Self.slab(), seed: 4) }
    func testMolecule() throws { try checkForces(Self.config(mp: 1, L: 2, Llr: 2), Self.molecule(), seed: 5) }
    func testMoleculeWithoutLongRange() throws { try checkForces(Self.config(mp: 1, L: 1, lr: false), Self.molecule(), seed: 6) }
    func testBulkVirial() throws { try checkVirial(Self.config(mp: 1, L: 2), Self.bulk(), seed: 7) }

    // The whole model with PME for the long range (§9): the B-spline mesh energy is smooth in
    // positions and strain, and the forces and virial are its exact derivatives (order 6 and
    // order 8 at the default spacing).
    func testBulkPME() throws {
        try checkForces(Self.config(mp: 1, L: 2, Llr: 2), Self.bulk(), seed: 8, longRange: .pme(PMEParameters(order: 6)))
    }
    func testSlabPME() throws { try checkForces(Self.config(mp: 1, L: 2), Self.slab(), seed: 9, longRange: .pme(PMEParameters())) }
    func testBulkVirialPME() throws {
        try checkVirial(Self.config(mp: 1, L: 2), Self.bulk(), seed: 10, longRange: .pme(PMEParameters()))
    }
}
