import Foundation
import XCTest
import LoremIO
@testable import lorem_gpu

/// `predict` with a LoremBEC checkpoint: the `born_effective_charges` column (row-major Z_ab per
/// atom) and `--electric-field`, against lorem-jax's float64 values in the committed fixture.
final class BornChargePredictTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    func testColumnAndFieldMatchLoremJax() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lorem-gpu-bec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("reference/bec_mp1__slab.json"))) as! [String: Any]
        let frames = root["frames"] as! [[String: Any]]
        let field = (frames[0]["electric_field"] as! [Double]).map { String($0) }.joined(separator: ",")
        let output = dir.appendingPathComponent("out.xyz").path
        let command = try Predict.parseAsRoot(["--model", Self.fixtures.appendingPathComponent("models/bec_mp1").path, "-q",
                                               "--device", "reference", "--electric-field", field,
                                               Self.fixtures.appendingPathComponent("structures/slab.xyz").path, "-o", output]) as! Predict
        try command.run()
        let out = try ExtXYZ.read(path: output)
        XCTAssertEqual(out.count, frames.count)
        for (s, f) in zip(out, frames) {
            let z = try XCTUnwrap(s.realColumn(named: "born_effective_charges"))
            let apt = (f["apt"] as! [[[Double]]]).map { $0.flatMap { $0 } }
            let forces = try XCTUnwrap(s.realColumn(named: "forces"))
            let expectedForces = f["forces_in_field"] as! [[Double]]
            for i in 0..<s.count {
                for c in 0..<9 { XCTAssertEqual(z[i][c], apt[i][c], accuracy: 1e-12) }
                for a in 0..<3 { XCTAssertEqual(forces[i][a], expectedForces[i][a], accuracy: 1e-9) }
            }
            XCTAssertEqual(s.info(named: "energy")?.asDouble ?? .nan, f["energy_with_baseline"] as! Double, accuracy: 1e-9)
        }
    }

    func testFieldNeedsABornChargeModel() throws {
        let command = try Predict.parseAsRoot(["--model", Self.fixtures.appendingPathComponent("models/mp1_L2").path, "-q",
                                               "--electric-field", "0,0,0.1", "in.xyz", "-o", "out.xyz"]) as! Predict
        XCTAssertThrowsError(try command.run()) { XCTAssertTrue("\($0)".contains("LoremBEC"), "\($0)") }
        XCTAssertThrowsError(try Predict.parseAsRoot(["--electric-field", "0,0", "in.xyz", "-o", "out.xyz"]))
        XCTAssertThrowsError(try Predict.parseAsRoot(["--electric-field", "0,nan,0", "in.xyz", "-o", "out.xyz"]))
    }

    /// Born charges in the input (`apt`, lorem-train's label, or `born_effective_charges`) are
    /// compared like energies and forces.
    func testReferenceBornChargesAreCompared() {
        let rows: [[Double]] = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [-1, -2, -3, -4, -5, -6, -7, -8, -9]]
        var reference = Structure(numbers: [1, 1], positions: [.zero, SIMD3(0, 0, 1)])
        reference.setColumn(name: "apt", values: .real(rows))
        var prediction = reference
        prediction.setColumn(name: "born_effective_charges", values: .real(rows.map { $0.map { $0 + 0.25 } }))
        var summary = ReferenceComparison()
        summary.add(reference: reference, prediction: prediction)
        let report = summary.report() ?? ""
        XCTAssertTrue(report.contains("Born charges    MAE 0.25 e    RMSE 0.25 e    (2 atoms)"), report)
    }
}
