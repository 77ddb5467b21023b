import LoremCL
@testable import LoremGPU
import LoremIO
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// The RadialCoefficients_0 table (`DeviceSpeciesPairs`, docs/MATH.md §7.2 step 2): one row
/// per ordered pair of the elements seen so far, each equal to the reference MLP of
/// [species_c ‖ species_o], indexed per pair as slot(z_c)·S + slot(z_o); rows unchanged bit for
/// bit when a new element extends the table; and the whole engine on elements the fixture
/// models never saw in training.
final class SpeciesPairTableTests: XCTestCase {
    /// Elements covered, trained and untrained, the first and last embedding rows.
    static let elements = [1, 8, 6, 7, 92, 3, 0, 99]

    func check<T: CLReal>(_ type: T.Type, tolerance: Double) throws {
        let m = try DeviceEngineTests.model("mp1_L2")
        let context = try CLContext.shared(DeviceEngineTests.device())
        if T.requiresFP64 && !context.device.supportsFP64 { return print("note: no float64 on \(context.device)") }
        let w = m.weights.initial, ns = m.config.numSpecies, width = m.config.numRadial * m.config.numFeatures
        let table = DeviceSpeciesPairs<T>(embedding: w.embedding, numSpecies: ns, radial: try CLMLP(context, w.radial),
                                          dense: try DenseKernels(context: context))
        XCTAssertEqual(table.elements, 100)
        XCTAssertNil(table.table, "nothing is computed at load")
        try table.cover([8, 1, 8])
        let small = try XCTUnwrap(table.table).download()
        XCTAssertEqual(table.covered, [1, 8])
        XCTAssertEqual(small.count, 4 * width)
        try table.cover(Self.elements)
        let covered = Self.elements.sorted(), S = covered.count
        XCTAssertEqual(table.covered, covered)
        let rows = try XCTUnwrap(table.table).download()
        XCTAssertEqual(rows.count, S * S * width)
        for (c, zc) in covered.enumerated() {
            for (o, zo) in covered.enumerated() {
                let input = Array(w.embedding[(zc * ns)..<((zc + 1) * ns)] + w.embedding[(zo * ns)..<((zo + 1) * ns)])
                    .map { Double(T($0)) }
                let expected = DenseOps.mlp(Matrix(rows: 1, cols: 2 * ns, data: input), w.radial.rounded(to: T.self)).data
                let r = c * S + o
                let row = Array(rows[(r * width)..<((r + 1) * width)])
                XCTAssertLessThanOrEqual(relativeError(row.map { Double($0) }, expected), tolerance, "\(T.self) row (\(zc), \(zo))")
                if let sc = [1, 8].firstIndex(of: zc), let so = [1, 8].firstIndex(of: zo) {
                    let r2 = sc * 2 + so
                    XCTAssertEqual(row.map { Double($0).bitPattern }, small[(r2 * width)..<((r2 + 1) * width)].map { Double($0).bitPattern },
                                   "\(T.self) row (\(zc), \(zo)) is the same whatever else the table holds")
                }
            }
        }
        // Each pair's row index: slot of its center's element times S plus its neighbour's.
        let (current, indices) = try table.rows(numbers: [8, 1, 92], centers: [0, 0, 2, 1], others: [1, 2, 0, 0],
                                                context: context)
        XCTAssertTrue(current === table.table, "the rows index the current table")
        let slot = { (z: Int) in Int32(covered.firstIndex(of: z)!) }
        XCTAssertEqual(try indices.download(), [slot(8) * 8 + slot(1), slot(8) * 8 + slot(92), slot(92) * 8 + slot(8),
                                               slot(1) * 8 + slot(8)])
        XCTAssertThrowsError(try table.rows(numbers: [8, 100], centers: [0], others: [1], context: context))
    }

    func testTableRowsMatchReferenceMLP() throws {
        try check(Double.self, tolerance: 1e-14)
        try check(Float.self, tolerance: 1e-6)
    }

    /// Elements outside the fixtures' training set (Z = 3, 19, 92) through the whole engine
    /// match the reference at DeviceEngineTests' bounds.
    func testUntrainedElementsMatchReference() throws {
        let m = try DeviceEngineTests.model("mp1_L2")
        let reference = try ReferenceEngine(config: m.config, weights: m.weights)
        let engine = try DeviceEngine<Double>(config: m.config, weights: m.weights, device: DeviceEngineTests.device())
        let s = Structure(numbers: [92, 3, 19, 8, 3],
                          positions: [.zero, SIMD3(2.1, 0.2, 0), SIMD3(-0.3, 2.4, 0.5), SIMD3(0.4, -0.5, 1.9),
                                      SIMD3(1.8, 1.7, -1.2)])
        let e = DeviceEngineTests.compare(try engine.evaluate(s, forces: true), try reference.evaluate(s, forces: true))
        print("untrained elements f64: ΔE/|E| = \(e.energy), max|ΔF| = \(e.force)")
        XCTAssertLessThan(e.energy, 1e-9)
        XCTAssertLessThan(e.force, 1e-9 * max(1, e.forceScale))
    }
}

private extension MLPWeights {
    /// The weights rounded to T, so the float64 reference sees the device's operands.
    func rounded<T: CLReal>(to type: T.Type) -> MLPWeights {
        MLPWeights(layers: layers.map { l in
            DenseWeights(inputs: l.inputs, outputs: l.outputs, kernel: l.kernel.map { Double(T($0)) },
                         bias: l.bias.map { $0.map { Double(T($0)) } })
        })
    }
}

/// max |a − b| / max |b|.
private func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    var diff = 0.0, scale = 0.0
    for (x, y) in zip(a, b) {
        diff = max(diff, abs(x - y))
        scale = max(scale, abs(y))
    }
    return diff / scale
}
