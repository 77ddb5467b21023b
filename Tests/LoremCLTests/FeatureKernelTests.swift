import LoremCL
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// The pair features and their backward against LoremReference's PairGeometry,
/// pairVectorGradients and scatterPairGradients (docs/MATH.md §1, §2, §10.2 G1), in float32 and
/// float64, on bulk, slab, wire, molecule and tiny-cell structures, K = 2, 8, 32 and L up to 6.
final class FeatureKernelTests: XCTestCase {
    /// (K, L): the default K = 32 with the default L = 6, a small basis, a low degree, and the
    /// degenerate smallest case.
    static let shapes = [(32, 6), (8, 6), (32, 2), (2, 0)]

    func testForwardAndBackward() throws {
        try check(Float.self)
        if try TestDevice.context().device.supportsFP64 { try check(Double.self) }
    }

    func check<T: CLReal>(_ type: T.Type) throws {
        let context = try TestDevice.context()
        var worst: [String: Double] = [:]
        var rng = SeededGenerator(seed: 11)
        for fixture in GeometryFixture.all() {
            let f = fixture.rounded(to: T.self)
            let reference = try f.referencePairs()
            let pairs = try CLPairList(context, atoms: f.positions.count, centers: reference.centers,
                                       others: reference.others, shifts: intShifts(reference))
            let positions = try CLBuffer<T>(context, f.positions.flatMap { [T($0.x), T($0.y), T($0.z)] })
            let cell = try CLBuffer<T>(context, f.cell.flatMap { [T($0.x), T($0.y), T($0.z)] })
            for (K, L) in Self.shapes {
                let kernels = try FeatureKernels<T>(context: context, cutoff: f.cutoff, radialCount: K, maxDegree: L)
                let geometry = PairGeometry(positions: f.positions, cell: f.cell, pairs: reference,
                                            basis: try BernsteinBasis(count: K, cutoff: f.cutoff),
                                            sh: SphericalHarmonics(maxDegree: L))
                let features = try kernels.forward(positions: positions, cell: cell, pairs: pairs, keepingDerivatives: true)
                let lean = try kernels.forward(positions: positions, cell: cell, pairs: pairs)
                XCTAssertNil(lean.radialDerivative, "derivatives are not stored unless asked for")
                XCTAssertNil(lean.harmonicGradients)
                func compare(_ what: String, _ device: CLBuffer<T>, _ expected: [Double]) throws {
                    let error = relativeError(try device.download(), expected)
                    let label = "\(what) \(f.name) K=\(K) L=\(L) \(precisionName(T.self))"
                    XCTAssertLessThanOrEqual(error, tolerance(T.self), label)
                    worst[what] = max(worst[what] ?? 0, error)
                }
                try compare("vectors", features.vectors, geometry.vectors.flatMap { [$0.x, $0.y, $0.z] })
                try compare("distances", features.distances, geometry.distances)
                try compare("radial", features.radial, geometry.radial.data)
                try compare("dradial", features.radialDerivative!, geometry.radialDerivative.data)
                try compare("Y", features.harmonics, geometry.harmonics.data)
                try compare("dY", features.harmonicGradients!, geometry.harmonicGradients.flatMap { [$0.x, $0.y, $0.z] })

                // Backward with random cotangents (rounded to T, so both sides see the same ones).
                let P = reference.count, S = kernels.harmonicsCount
                let radialBar = rng.values(P * K).map { Double(T($0)) }
                let harmonicsBar = rng.values(P * S).map { Double(T($0)) }
                let g = geometry.pairVectorGradients(radialBar: Matrix(rows: P, cols: K, data: radialBar),
                                                     harmonicsBar: Matrix(rows: P, cols: S, data: harmonicsBar))
                var gradient = [SIMD3<Double>](repeating: .zero, count: f.positions.count)
                var virial = [[Double]](repeating: [0, 0, 0], count: 3)
                scatterPairGradients(g, pairs: reference, vectors: geometry.vectors, into: &gradient, virial: &virial)

                let gDevice = try kernels.pairVectorGradients(
                    lean, radialBar: try CLBuffer(context, radialBar.map { T($0) }),
                    harmonicsBar: try CLBuffer(context, harmonicsBar.map { T($0) }))
                try compare("pair gradients", gDevice, g.flatMap { [$0.x, $0.y, $0.z] })
                let (gradientDevice, virialDevice) = try kernels.scatter(gDevice, vectors: features.vectors, pairs: pairs)
                try compare("forces", gradientDevice, gradient.flatMap { [$0.x, $0.y, $0.z] })
                try compare("virial", virialDevice, virial.flatMap { $0 })
            }
        }
        for (what, error) in worst.sorted(by: { $0.key < $1.key }) {
            print(String(format: "features %@ %@: max relative error %.2e", precisionName(T.self), what, error))
        }
    }

    /// Device neighbour list → features → backward, twice: bit-identical (no atomics, fixed
    /// summation orders), and the backward's forces match the reference on that list.
    func testDeterministicPipeline() throws {
        try pipeline(Float.self)
        if try TestDevice.context().device.supportsFP64 { try pipeline(Double.self) }
    }

    func pipeline<T: CLReal>(_ type: T.Type) throws {
        let context = try TestDevice.context()
        let f = GeometryFixture.all()[0].rounded(to: T.self)
        let neighbors = try NeighborKernels<T>(context: context)
        let kernels = try FeatureKernels<T>(context: context, cutoff: f.cutoff, radialCount: 32, maxDegree: 6)
        let positions = try CLBuffer<T>(context, f.positions.flatMap { [T($0.x), T($0.y), T($0.z)] })
        let cell = try CLBuffer<T>(context, f.cell.flatMap { [T($0.x), T($0.y), T($0.z)] })
        let rng = SeededGenerator(seed: 12)
        func run() throws -> [T] {
            let pairs = try neighbors.build(positions: f.positions, cell: f.cell, pbc: f.pbc, cutoff: f.cutoff,
                                            devicePositions: positions, deviceCell: cell)
            let features = try kernels.forward(positions: positions, cell: cell, pairs: pairs)
            var local = rng
            let radialBar = try CLBuffer<T>(context, local.values(pairs.count * 32).map { T($0) })
            let harmonicsBar = try CLBuffer<T>(context, local.values(pairs.count * 49).map { T($0) })
            let (gradient, virial) = try kernels.backward(features, pairs: pairs, radialBar: radialBar,
                                                          harmonicsBar: harmonicsBar)
            return try features.radial.download() + features.harmonics.download() + gradient.download()
                + virial.download()
        }
        let first = try run(), second = try run()
        XCTAssertEqual(first.count, second.count)
        XCTAssertTrue(zip(first, second).allSatisfy { Double($0).bitPattern == Double($1).bitPattern },
                      "\(precisionName(T.self)) pipeline not bit-identical")
    }

    /// The test values of docs/MATH.md §1 (Y at u = (0.36, −0.48, 0.8)) and §2 (e3x float32 B_k,
    /// custom-rule dB_k/dr, fc and fc′ at r = 1.3, K = 32, c = 5), independent of the reference.
    func testSpecTestVectors() throws {
        try specVectors(Float.self, tolerance: 2e-6)
        if try TestDevice.context().device.supportsFP64 { try specVectors(Double.self, tolerance: 2e-8) }
    }

    func specVectors<T: CLReal>(_ type: T.Type, tolerance: Double) throws {
        let context = try TestDevice.context()
        let u = SIMD3<Double>(0.36, -0.48, 0.8)
        let positions = [SIMD3<Double>.zero, 1.3 * u]
        let cell = [SIMD3<Double>](repeating: .zero, count: 3)
        let pairs = try NeighborKernels<T>(context: context)
            .build(positions: positions, cell: cell, pbc: [false, false, false], cutoff: 5)
        XCTAssertEqual(pairs.count, 2)
        let kernels = try FeatureKernels<T>(context: context, cutoff: 5, radialCount: 32, maxDegree: 3)
        let f = try kernels.forward(positions: try CLBuffer(context, positions.flatMap { [T($0.x), T($0.y), T($0.z)] }),
                                    cell: try CLBuffer(context, [T](repeating: 0, count: 9)), pairs: pairs,
                                    keepingDerivatives: true)
        let y = try f.harmonics.download().prefix(16).map(Double.init)  // pair 0: 0 → 1, R_p = 1.3u
        let expectedY = [1.0, 0.36, -0.48, 0.8, -0.087295360701, -0.299298379548, 0.498830632580, -0.665107510106,
                         0.46, -0.159834162056, -0.060108573764, -0.156158688519, -0.535401217780, 0.484998969071,
                         -0.646665292095, 0.08]
        for (a, (got, want)) in zip(y, expectedY).enumerated() {
            XCTAssertEqual(got, want, accuracy: tolerance, "Y slot \(a) \(precisionName(T.self))")
        }
        let (fc, dfc) = (0.842273593, -0.229012251)
        let radial = try f.radial.download().map(Double.init), dradial = try f.radialDerivative!.download().map(Double.init)
        for (k, b, db) in [(0, 8.83453322e-05, -7.40189571e-04), (5, 0.0803733692, -0.255657136),
                           (8, 0.161854222, -0.0100934869), (10, 0.112334579, 0.226538509)] {
            // The spec's values are e3x float32 results, good to a few float32 ulps.
            XCTAssertEqual(radial[k] / (b * fc), 1, accuracy: 5e-6, "radial \(k) \(precisionName(T.self))")
            XCTAssertEqual(dradial[k], db * fc + b * dfc, accuracy: 1e-6, "dradial \(k) \(precisionName(T.self))")
        }
    }

    /// The initial layers' share of the cotangents made inside the pair-vector backward from Ā,
    /// the per-atom node term (contractTableNode of n̄) and the folded table
    /// (`CLInitialEdgeCotangent`) equals the stored path: the pair weights from contractRadial,
    /// Ȳ and w̄ from edgeBasisBackward, radial̄ from the folded contraction with n̄ per pair,
    /// added to the other stages' sums and fed to the backward. With and without those sums, two widths, f32 and f64; the
    /// features it gets hold neither the harmonics nor the radial basis.
    func testInitialLayersShareMadeInsideTheBackward() throws {
        try forEachPrecision(Float.self, checkInitialLayersShare)
        try forEachPrecision(Double.self, checkInitialLayersShare)
    }

    func checkInitialLayersShare<T: CLReal>(_ pairKernels: EquivariantKernels<T>, _ label: String) throws {
        let context = pairKernels.context
        var rng = SeededGenerator(seed: 29)
        let f = GeometryFixture.all()[0].rounded(to: T.self)
        let reference = try f.referencePairs()
        let (N, P) = (f.positions.count, reference.count)
        let pairs = try CLPairList(context, atoms: N, centers: reference.centers, others: reference.others,
                                   shifts: intShifts(reference))
        let positions = try CLBuffer<T>(context, f.positions.flatMap { [T($0.x), T($0.y), T($0.z)] })
        let cell = try CLBuffer<T>(context, f.cell.flatMap { [T($0.x), T($0.y), T($0.z)] })
        let centers = try CLRowMap(context, index: reference.centers, sources: N)
        let layout = try CLStructureLayout(context, atomCounts: [N])
        for (K, L, s, d) in [(8, 1, 5, 19), (32, 6, 8, 37)] {
            let kernels = try FeatureKernels<T>(context: context, cutoff: f.cutoff, radialCount: K, maxDegree: L)
            let features = try kernels.forward(positions: positions, cell: cell, pairs: pairs)
            // Two species: each atom has a slot, each pair the row slot(c)·2 + slot(o).
            let (S, c, species) = ((L + 1) * (L + 1), (L + 1) * s, 2)
            let slot = (0..<N).map { _ in Int.random(in: 0..<species, using: &rng) }
            let rows = try CLBuffer<Int32>(context, (0..<P).map {
                Int32(slot[reference.centers[$0]] * species + slot[reference.others[$0]]) })
            let table = try upload(context, rng.matrix(species * species, K * d), as: T.self)
            let nodeBar = try upload(context, rng.matrix(N, d), as: T.self)
            let node = try pairKernels.pairs.contractTableNode(nodeBar, table, slots: CLBuffer(context, slot.map { Int32($0) }),
                                                               species: species, basis: K, features: d)
            let initial = CLInitialEdgeCotangent(
                aBar: try upload(context, rng.matrix(N, S * s), as: T.self), centers: centers, sphericalFeatures: s,
                folded: try upload(context, rng.matrix(species * species, K * c), as: T.self), node: node,
                species: species, rows: rows)
            let weights = try pairKernels.pairs.contractRadial(initial.folded, coefRows: rows, radial: features.radial,
                                                               pairs: P, basis: K, features: c)
            let (wBar, yBar) = try pairKernels.pairs.edgeBasisBackward(initial.aBar, weights, harmonics: features.harmonics,
                                                                       pairs: P, maxDegree: L, features: s, centers: centers)
            let radialBar = try pairKernels.pairs.contractRadialBackwardRadial(
                folded: wBar, initial.folded, features: c, node: nodeBar, centers: centers, table,
                features: d, coefRows: rows, basis: K)
            let lean = try kernels.forward(positions: positions, cells: cell, layout: layout, pairs: pairs, edgeInputs: false)
            for stored in [false, true] {
                let what = "initial layers' share \(label) L=\(L) s=\(s)\(stored ? " with stored sums" : "")"
                let otherRadial = stored ? try upload(context, rng.matrix(P, K), as: T.self) : nil
                let otherY = stored ? try upload(context, rng.matrix(P, S), as: T.self) : nil
                func plus(_ a: CLBuffer<T>?, _ b: CLBuffer<T>) throws -> CLBuffer<T> {
                    guard let a else { return b }
                    let out = try CLBuffer<T>(context, count: b.count)
                    try pairKernels.pairs.add(a, b, count: b.count, into: out)
                    return out
                }
                let expected = try kernels.pairVectorGradients(features, radialBar: plus(otherRadial, radialBar),
                                                               harmonicsBar: plus(otherY, yBar))
                let fused = try kernels.pairVectorGradients(lean, radialBar: otherRadial, harmonicsBar: otherY, initial: initial)
                let error = relativeError(try fused.download(), try expected.download().map(Double.init))
                XCTAssertLessThanOrEqual(error, tolerance(T.self), what)
                print(String(format: "%@: max relative error %.2e", what, error))
            }
        }
        // (L+1)·s over the private array's size is refused, not overrun.
        let s = CLInitialEdgeCotangent<T>.maxWeights / 7 + 1
        let kernels = try FeatureKernels<T>(context: context, cutoff: f.cutoff, radialCount: 8, maxDegree: 6)
        let features = try kernels.forward(positions: positions, cell: cell, pairs: pairs)
        let tooWide = CLInitialEdgeCotangent(
            aBar: try CLBuffer<T>(context, count: N * 49 * s), centers: centers, sphericalFeatures: s,
            folded: try CLBuffer<T>(context, count: 8 * 7 * s), node: try CLBuffer<T>(context, count: N * 8), species: 1,
            rows: try CLBuffer<Int32>(context, count: P))
        XCTAssertThrowsError(try kernels.pairVectorGradients(features, radialBar: nil, harmonicsBar: nil, initial: tooWide))
    }

    func testRejectsUnsupportedShapes() throws {
        let context = try TestDevice.context()
        XCTAssertThrowsError(try FeatureKernels<Float>(context: context, cutoff: 5, radialCount: 65, maxDegree: 2))
        XCTAssertThrowsError(try FeatureKernels<Float>(context: context, cutoff: 5, radialCount: 1, maxDegree: 2))
        XCTAssertThrowsError(try FeatureKernels<Float>(context: context, cutoff: 5, radialCount: 8, maxDegree: 13))
    }
}
