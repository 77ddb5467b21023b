import XCTest
import LoremIO
@testable import LoremEngineCore
import LoremReference
import LoremModel
@testable import lorem_gpu

/// `verify` runs the OpenCL engine against the reference on its built-in set and passes; the
/// tolerance logic rejects what it should.
final class VerifyCommandTests: XCTestCase {
    func testBuiltInSetPassesInBothPrecisions() throws {
        for precision in ["f32", "f64"] {
            var command = try Verify.parseAsRoot(["--model", PredictCommandTests.model, "--precision", precision]) as! Verify
            XCTAssertNoThrow(try command.run(), precision)
        }
    }

    func testToleranceRejectsLargeErrors() {
        let s = Structure(numbers: [1, 1], positions: [.zero, SIMD3(0, 0, 1)])
        let base = EngineResult(energy: -1, perAtomEnergies: [-0.5, -0.5], forces: [.zero, .zero], virial: nil,
                                charges: [], potentials: [])
        var off = base
        off.forces = [SIMD3(0, 0, 2e-4), .zero]
        let row = VerificationRow(frame: 0, structure: s, engine: off, reference: base)
        XCTAssertEqual(row.maxForce, 2e-4, accuracy: 1e-12)
        XCTAssertFalse(VerificationTolerance(precision: .f32, engine: "opencl").accepts(row))
        XCTAssertTrue(VerificationTolerance(precision: .f32, engine: "opencl").accepts(
            VerificationRow(frame: 0, structure: s, engine: base, reference: base)))
    }

    func testBuiltInSetUsesTheModelsElements() throws {
        let model = try TrainedModel.load(path: PredictCommandTests.model)
        let frames = VerificationSet.structures(for: model)
        XCTAssertEqual(frames.map(\.periodicDimensions), [3, 2, 0])
        for f in frames { for z in f.numbers { XCTAssertNotNil(model.baseline[z]) } }
    }

    /// A periodic cell above the PME threshold: with --long-range auto the engine uses PME, and so
    /// does the reference it is compared with, so float64 passes (it failed when the reference
    /// always used exact Ewald: PME's ~1e-8 error exceeds the 1e-9 f64 tolerance).
    func testFloat64PassesAbovePMEThreshold() throws {
        var rng = SplitMix64(seed: 99)
        var positions: [SIMD3<Double>] = [], numbers: [Int] = []
        let a = 5.64
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { for (n, o) in [(11, SIMD3(0.0, 0, 0)), (17, SIMD3(0.5, 0, 0)), (17, SIMD3(0, 0.5, 0)),
                                                                   (17, SIMD3(0, 0, 0.5)), (11, SIMD3(0.5, 0.5, 0)), (11, SIMD3(0.5, 0, 0.5)),
                                                                   (11, SIMD3(0, 0.5, 0.5)), (17, SIMD3(0.5, 0.5, 0.5))] {
            numbers.append(n)
            positions.append((SIMD3(Double(i), Double(j), Double(k)) + o) * a + SIMD3(rng.normal(), rng.normal(), rng.normal()) * 0.05)
        } } } }
        XCTAssertEqual(numbers.count, 216)
        let cell = Structure(numbers: numbers, positions: positions, cell: [SIMD3(3 * a, 0, 0), SIMD3(0, 3 * a, 0), SIMD3(0, 0, 3 * a)],
                             pbc: [true, true, true])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("verify-pme-\(UUID().uuidString).xyz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ExtXYZ.write([cell], to: path)
        let command = try Verify.parseAsRoot(["--model", PredictCommandTests.model, "--precision", "f64", path]) as! Verify
        XCTAssertNoThrow(try command.run())
    }
}
