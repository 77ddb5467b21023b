import XCTest
import LoremIO
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
        XCTAssertFalse(VerificationTolerance(precision: "f32", engine: "opencl").accepts(row))
        XCTAssertTrue(VerificationTolerance(precision: "f32", engine: "opencl").accepts(
            VerificationRow(frame: 0, structure: s, engine: base, reference: base)))
    }

    func testBuiltInSetUsesTheModelsElements() throws {
        let model = try TrainedModel.load(path: PredictCommandTests.model)
        let frames = VerificationSet.structures(for: model)
        XCTAssertEqual(frames.map(\.periodicDimensions), [3, 2, 0])
        for f in frames { for z in f.numbers { XCTAssertNotNil(model.baseline[z]) } }
    }
}
