@testable import LoremCL
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// The batched direct sum (`EwaldMolecules`, docs/MATH.md §8.3 and §10.2 G3) on one batch of
/// molecules of different sizes, a 1-atom and a 2-atom one among them, with a periodic-looking
/// block of rows in between that the molecule kernels must leave alone: potentials, the charge
/// cotangent, ∂B/∂R and the per-molecule virials against `EwaldSummation` run on each molecule
/// alone (float64 reference on the device-rounded inputs), at EwaldKernelTests' tolerances.
final class EwaldMoleculeBatchTests: XCTestCase {
    /// Molecule sizes of the batch, and where the foreign block (rows no molecule kernel may
    /// touch) sits. 70 foreign rows and a 75-atom molecule make the tiled kernels take several
    /// tiles per work-group and skip a gap wider than a tile (DIRECT_TILE ≤ 64).
    static let sizes = [7, 1, 30, 2, 12, 75]
    static let foreignRows = 70, foreignAfter = 1
    static let sentinel = -7.0

    struct Batch {
        var molecules: [EwaldCase]
        /// Row range of each molecule in the batch, and of the foreign block.
        var ranges: [Range<Int>]
        var foreign: Range<Int>
        var atoms: Int
    }

    static func batch<T: CLReal>(_ type: T.Type) -> Batch {
        var molecules: [EwaldCase] = [], ranges: [Range<Int>] = [], row = 0, foreign = 0..<0
        for (k, n) in sizes.enumerated() {
            var rng = SeededGenerator(seed: 100 + UInt64(k))
            let box = [SIMD3(6.0, 0, 0), SIMD3(0, 6.0, 0), SIMD3(0, 0, 6.0)]
            let c = EwaldCase(name: "molecule \(n)", positions: rng.positions(count: n, cell: box, minimum: 1.0),
                              cell: [.zero, .zero, .zero], pbc: [false, false, false],
                              q: rng.channels(EwaldCases.channels, n, neutral: false),
                              vbar: rng.channels(EwaldCases.channels, n, neutral: false))
            molecules.append(c.rounded(to: T.self))
            ranges.append(row..<(row + n))
            row += n
            if k == foreignAfter {
                foreign = row..<(row + foreignRows)
                row += foreignRows
            }
        }
        return Batch(molecules: molecules, ranges: ranges, foreign: foreign, atoms: row)
    }

    /// Batch rows [atoms, width] from each molecule's rows (given its index); the foreign block
    /// holds `sentinel`.
    static func rows(_ b: Batch, width: Int, _ perMolecule: (Int) -> [Double]) -> [Double] {
        var out = [Double](repeating: sentinel, count: b.atoms * width)
        for (k, r) in b.ranges.enumerated() {
            out.replaceSubrange((r.lowerBound * width)..<(r.upperBound * width), with: perMolecule(k))
        }
        return out
    }

    struct Errors { var potentials = 0.0, cotangent = 0.0, gradient = 0.0, virial = 0.0 }

    func errors<T: CLReal>(_ context: CLContext, _ type: T.Type) throws -> Errors {
        let b = Self.batch(T.self), C = EwaldCases.channels
        let (kernels, molecules, q, vbar) = try Self.operands(b, context, T.self)
        let references = try b.molecules.map { try $0.summation($0.pairs()) }
        func sentinelRows() throws -> CLBuffer<T> { try CLBuffer<T>(context, [T](repeating: T(Self.sentinel), count: b.atoms * C)) }

        var e = Errors()
        let v = try sentinelRows()
        try kernels.potentials(q, molecules, into: v)
        e.potentials = relativeError(try v.download(),
                                     Self.rows(b, width: C) { interleave(references[$0].potentials(b.molecules[$0].q)) })
        let qBar = try sentinelRows()
        try kernels.chargeCotangent(vbar, molecules, into: qBar)
        e.cotangent = relativeError(try qBar.download(),
                                    Self.rows(b, width: C) { interleave(references[$0].potentials(b.molecules[$0].vbar)) })

        let device = try kernels.geometryGradient(charges: q, cotangent: vbar, molecules)
        let gradients = zip(b.molecules, references).map { $1.geometryGradient(charges: $0.q, cotangent: $0.vbar) }
        var expected = Self.rows(b, width: 3) { gradients[$0].positions.flatMap { [$0.x, $0.y, $0.z] } }
        for i in (3 * b.foreign.lowerBound)..<(3 * b.foreign.upperBound) { expected[i] = 0 }  // zero outside molecules
        e.gradient = relativeError(try device.positions.download(), expected)
        XCTAssertEqual(device.virials.count, b.molecules.count)
        e.virial = relativeError(device.virials.flatMap { $0.joined() }, gradients.flatMap { $0.virial.joined() })
        return e
    }

    func check<T: CLReal>(_ type: T.Type) throws {
        try withEwaldContext(T.self) { context in
            let e = try errors(context, T.self)
            print(String(format: "batched molecules %@: potentials %.2e, cotangent %.2e, gradient %.2e, virial %.2e",
                         precisionName(T.self), e.potentials, e.cotangent, e.gradient, e.virial))
            let tol = EwaldKernelTests.tolerance(T.self)
            XCTAssertLessThanOrEqual(e.potentials, tol, "potentials")
            XCTAssertLessThanOrEqual(e.cotangent, tol, "charge cotangent")
            XCTAssertLessThanOrEqual(e.gradient, tol, "position gradient")
            XCTAssertLessThanOrEqual(e.virial, tol, "virial")
        }
    }

    func testFloat64AgainstReference() throws { try check(Double.self) }

    func testFloat32AgainstReference() throws { try check(Float.self) }

    /// The 1-atom molecule has V = 0, ∂B/∂R = 0 and a zero virial exactly (its sum is empty).
    func testSingleAtomMoleculeIsExactlyZero() throws {
        try withEwaldContext(Float.self) { context in
            let b = Self.batch(Float.self), C = EwaldCases.channels
            let one = Self.sizes.firstIndex(of: 1)!, r = b.ranges[one]
            let (kernels, molecules, q, vbar) = try Self.operands(b, context, Float.self)
            let v = try kernels.potentials(q, molecules, batchRows: b.atoms)
            XCTAssertEqual(Array(v[(r.lowerBound * C)..<(r.upperBound * C)]), [Float](repeating: 0, count: C))
            let g = try kernels.geometryGradient(charges: q, cotangent: vbar, molecules)
            XCTAssertEqual(Array(try g.positions.download()[(3 * r.lowerBound)..<(3 * r.upperBound)]), [0, 0, 0])
            XCTAssertEqual(g.virials[one].joined().map { $0 }, [Double](repeating: 0, count: 9))
        }
    }

    /// A molecule in the batch gets bit for bit what it gets alone (an `EwaldGeometry` of one
    /// molecule runs the same kernels over the same rows in the same order), and reruns are
    /// bit-identical.
    func testBatchedEqualsAloneBitwiseAndReruns() throws {
        try bitwise(Float.self)
        try bitwise(Double.self)
    }

    func bitwise<T: CLReal>(_ type: T.Type) throws {
        try withEwaldContext(T.self) { context in
            let b = Self.batch(T.self), C = EwaldCases.channels
            let (kernels, molecules, q, vbar) = try Self.operands(b, context, T.self)
            func run() throws -> (v: [T], grad: [T], virials: [Double]) {
                let g = try kernels.geometryGradient(charges: q, cotangent: vbar, molecules)
                return (try kernels.potentials(q, molecules, batchRows: b.atoms), try g.positions.download(),
                        g.virials.flatMap { $0.joined() })
            }
            let first = try run(), second = try run()
            XCTAssertEqual(bits(first.v), bits(second.v))
            XCTAssertEqual(bits(first.grad), bits(second.grad))
            XCTAssertEqual(bits(first.virials), bits(second.virials))
            for (k, (c, r)) in zip(b.molecules, b.ranges).enumerated() {
                let pairs = try c.pairs()
                let alone = try EwaldGeometry<T>(context: context, summation: try c.summation(pairs), pairs: pairs)
                let qa = try CLBuffer<T>(context, interleave(c.q).map { T($0) })
                let va = try CLBuffer<T>(context, interleave(c.vbar).map { T($0) })
                let g = try kernels.geometryGradient(charges: qa, cotangent: va, alone)
                XCTAssertEqual(bits(try kernels.potentials(qa, alone).download()),
                               bits(first.v[(r.lowerBound * C)..<(r.upperBound * C)]), "\(c.name) potentials")
                XCTAssertEqual(bits(try g.positions.download()), bits(first.grad[(3 * r.lowerBound)..<(3 * r.upperBound)]),
                               "\(c.name) gradient")
                XCTAssertEqual(bits(g.virial.joined()), bits(first.virials[(9 * k)..<(9 * k + 9)]), "\(c.name) virial")
            }
        }
    }

    /// The tiled direct sum (GPUs' default) gives bit for bit what the rows shape (CPUs'
    /// default, checked against the reference above) gives: several tiles per work-group and a
    /// skipped gap wider than a tile included (the batch's 75-atom molecule and 70 foreign rows).
    func testTiledEqualsRowsBitwise() throws {
        try tiledEqualsRows(Float.self)
        try tiledEqualsRows(Double.self)
    }

    func tiledEqualsRows<T: CLReal>(_ type: T.Type) throws {
        try withEwaldContext(T.self) { context in
            let b = Self.batch(T.self)
            let results = try KernelShape.allCases.map { shape in
                let (kernels, molecules, q, vbar) = try Self.operands(b, context, T.self, shape: shape)
                XCTAssertEqual(kernels.directTile == nil, shape == .rows)
                let g = try kernels.geometryGradient(charges: q, cotangent: vbar, molecules)
                return (v: bits(try kernels.potentials(q, molecules, batchRows: b.atoms)), grad: bits(try g.positions.download()),
                        virials: bits(g.virials.flatMap { $0.joined() }))
            }
            XCTAssertEqual(results[0].v, results[1].v, "potentials \(T.self)")
            XCTAssertEqual(results[0].grad, results[1].grad, "gradient \(T.self)")
            XCTAssertEqual(results[0].virials, results[1].virials, "virials \(T.self)")
        }
    }

    func testRejectsOverlappingOrOutOfRangeStructures() throws {
        let context = try TestDevice.context()
        let positions = try CLBuffer<Float>(context, [Float](repeating: 0, count: 30))
        XCTAssertThrowsError(try EwaldMolecules(context: context, positions: positions, atomCount: 10, structures: [0..<4, 3..<6]))
        XCTAssertThrowsError(try EwaldMolecules(context: context, positions: positions, atomCount: 10, structures: [8..<11]))
        XCTAssertThrowsError(try EwaldMolecules(context: context, positions: positions, atomCount: 11, structures: [0..<1]))
    }

    static func operands<T: CLReal>(_ b: Batch, _ context: CLContext, _ type: T.Type, shape: KernelShape? = nil) throws
        -> (EwaldKernels<T>, EwaldMolecules<T>, CLBuffer<T>, CLBuffer<T>)
    {
        let C = EwaldCases.channels
        let kernels = try EwaldKernels<T>(context: context, channels: C, directShape: shape)
        func upload(_ width: Int, _ perMolecule: (EwaldCase) -> [Double]) throws -> CLBuffer<T> {
            try CLBuffer<T>(context, rows(b, width: width) { perMolecule(b.molecules[$0]) }.map { T($0) })
        }
        let positions = try upload(3) { $0.positions.flatMap { [$0.x, $0.y, $0.z] } }
        let molecules = try EwaldMolecules(context: context, positions: positions, atomCount: b.atoms, structures: b.ranges)
        let q = try upload(C) { interleave($0.q) }, vbar = try upload(C) { interleave($0.vbar) }
        return (kernels, molecules, q, vbar)
    }
}

private extension EwaldKernels {
    /// The molecules' potentials in a zero-filled [batchRows, C] buffer, downloaded.
    func potentials(_ q: CLBuffer<T>, _ molecules: EwaldMolecules<T>, batchRows: Int) throws -> [T] {
        let v = try CLBuffer<T>(context, [T](repeating: 0, count: batchRows * channels))
        try potentials(q, molecules, into: v)
        return try v.download()
    }
}

/// Bit patterns (through Double, which holds every Float exactly), for bitwise comparisons.
private func bits<S: Sequence>(_ x: S) -> [UInt64] where S.Element: CLReal { x.map { Double($0).bitPattern } }
