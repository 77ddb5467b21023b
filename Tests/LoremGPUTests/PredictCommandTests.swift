import Foundation
import XCTest
import LoremIO
@testable import lorem_gpu

/// The `predict` command end to end on a committed lorem-jax checkpoint: output that ASE's
/// conventions accept, the baseline added, reference values kept and compared, and clean
/// failures that leave no output behind.
final class PredictCommandTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let model = root.appendingPathComponent("Tests/Fixtures/models/mp1_L2").path
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lorem-gpu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ text: String, _ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs predict on the float64 reference engine unless `args` names a device.
    func run(_ args: [String]) throws {
        let device = args.contains("--device") ? [] : ["--device", "reference"]
        var command = try Predict.parseAsRoot(["--model", Self.model, "-q"] + device + args) as! Predict
        try command.run()
    }

    let twoFrames = """
        2
        Lattice="4.0 0.0 0.0 0.3 4.2 0.0 0.0 0.0 4.4" Properties=species:S:1:pos:R:3:forces:R:3 energy=-20.5 tag=7 pbc="T T T"
        Na 0.1 0.2 0.3 0.5 0.0 0.0
        Cl 2.1 1.9 2.05 -0.5 0.0 0.0
        3
        Properties=species:S:1:pos:R:3 note=water
        O 0.0 0.0 0.0
        H 0.96 0.0 0.0
        H -0.24 0.93 0.0
        """

    /// `--long-range pme` on the OpenCL engine: the periodic frame's energy and forces agree
    /// with exact Ewald to PME's discretisation error; the molecule is a direct sum either way.
    func testPredictWithPMEOnTheDevice() throws {
        let input = try write(twoFrames, "in.xyz")
        func predict(_ method: String) throws -> [Structure] {
            let output = dir.appendingPathComponent("out-\(method).xyz").path
            try run([input, "-o", output, "--device", "opencl", "--precision", "f64", "--long-range", method])
            return try ExtXYZ.read(path: output)
        }
        let pme = try predict("pme"), ewald = try predict("ewald")
        let e = pme.map { $0.info(named: "energy")!.asDouble! }, f = ewald.map { $0.info(named: "energy")!.asDouble! }
        XCTAssertNotEqual(e[0], f[0], "the periodic frame used PME")
        XCTAssertEqual(e[0], f[0], accuracy: 1e-5 * 2)
        XCTAssertEqual(e[1], f[1], "the molecule is the same direct sum")
        for (a, b) in zip(pme[0].realColumn(named: "forces")!, ewald[0].realColumn(named: "forces")!) {
            for c in 0..<3 { XCTAssertEqual(a[c], b[c], accuracy: 1e-4) }
        }
    }

    func testUnknownLongRangeMethodIsAUsageError() throws {
        XCTAssertThrowsError(try Predict.parseAsRoot(["in.xyz", "-o", "out.xyz", "--long-range", "fmm"])) { error in
            XCTAssertTrue(Predict.message(for: error).contains("'auto', 'ewald' or 'pme'"), Predict.message(for: error))
        }
    }

    func testPredictWritesEnergiesForcesStressAndKeepsInput() throws {
        let input = try write(twoFrames, "in.xyz")
        let output = dir.appendingPathComponent("out.xyz").path
        try run([input, "-o", output, "--stress"])
        let frames = try ExtXYZ.read(path: output)
        XCTAssertEqual(frames.count, 2)
        XCTAssertEqual(frames[0].info(named: "tag"), .int(7))
        XCTAssertEqual(frames[0].info(named: "ref_energy")?.asDouble, -20.5)
        XCTAssertNotNil(frames[0].realColumn(named: "ref_forces"))
        XCTAssertNotNil(frames[0].stressVoigt)
        XCTAssertNil(frames[1].stressVoigt, "no stress for a molecule")
        for f in frames {
            let forces = try XCTUnwrap(f.realColumn(named: "forces"))
            let total = forces.reduce([0.0, 0, 0]) { [$0[0] + $1[0], $0[1] + $1[1], $0[2] + $1[2]] }
            for t in total { XCTAssertEqual(t, 0, accuracy: 1e-9) }
            XCTAssertNotNil(f.info(named: "energy")?.asDouble)
        }
    }

    /// The same run on the OpenCL engine (PoCL in CI) agrees with the reference to float32
    /// accuracy, and the overlap check is the device neighbour list's.
    func testOpenCLEngineAgreesWithReference() throws {
        let input = try write(twoFrames, "in.xyz")
        let reference = dir.appendingPathComponent("ref.xyz").path, device = dir.appendingPathComponent("cl.xyz").path
        try run([input, "-o", reference, "--stress"])
        try run([input, "-o", device, "--stress", "--device", "opencl"])
        for (a, b) in zip(try ExtXYZ.read(path: reference), try ExtXYZ.read(path: device)) {
            let (ea, eb) = (a.info(named: "energy")!.asDouble!, b.info(named: "energy")!.asDouble!)
            XCTAssertEqual(ea, eb, accuracy: 1e-5 * abs(ea))
            for (fa, fb) in zip(a.realColumn(named: "forces")!, b.realColumn(named: "forces")!) {
                for k in 0..<3 { XCTAssertEqual(fa[k], fb[k], accuracy: 1e-4) }
            }
        }
        let overlapping = try write(twoFrames.replacingOccurrences(of: "H 0.96 0.0 0.0", with: "H 0.01 0.0 0.0"), "bad.xyz")
        XCTAssertThrowsError(try run([overlapping, "-o", device, "--device", "opencl"])) { e in
            XCTAssertTrue("\(e)".contains("frame 1") && "\(e)".contains("0.1 Å"), "\(e)")
        }
    }

    func testUnknownElementNamesElementAndFrameAndWritesNothing() throws {
        let input = try write(twoFrames.replacingOccurrences(of: "H -0.24", with: "Fe -0.24"), "in.xyz")
        let output = dir.appendingPathComponent("out.xyz").path
        XCTAssertThrowsError(try run([input, "-o", output])) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("Fe") && text.contains("frame 1") && text.contains("in.xyz"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testOverlappingAtomsAreAnError() throws {
        let input = try write(twoFrames.replacingOccurrences(of: "H 0.96 0.0 0.0", with: "H 0.01 0.0 0.0"), "in.xyz")
        let output = dir.appendingPathComponent("out.xyz").path
        XCTAssertThrowsError(try run([input, "-o", output])) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("frame 1") && text.contains("0.1 Å"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testMissingModelIsAClearError() throws {
        let input = try write(twoFrames, "in.xyz")
        var command = try Predict.parseAsRoot(["--model", dir.appendingPathComponent("nope").path, input, "-o", "x.xyz"]) as! Predict
        XCTAssertThrowsError(try command.run()) { e in XCTAssertTrue("\(e)".contains("nope"), "\(e)") }
    }

    func testComparisonAgainstReferenceValues() throws {
        var c = ReferenceComparison()
        var ref = Structure(numbers: [1, 1], positions: [.zero, SIMD3(0, 0, 1)])
        ref.setInfo(key: "energy", value: .double(-1.0))
        var pred = ref
        pred.setInfo(key: "energy", value: .double(-1.5))
        c.add(reference: ref, prediction: pred)
        let report = try XCTUnwrap(c.report())
        XCTAssertTrue(report.contains("MAE 0.5 eV"), report)
        XCTAssertTrue(report.contains("MAE 0.25 eV"), report)  // per atom
    }

    /// ASE's stress: W/V in Voigt order with symmetrised off-diagonals.
    func testVoigtStress() {
        let w = [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]
        let cell = [SIMD3(2.0, 0, 0), SIMD3(0, 2.0, 0), SIMD3(0, 0, 2.0)]
        XCTAssertEqual(Predictor.voigtStress(virial: w, cell: cell), [1, 5, 9, 7, 5, 3].map { $0 / 8 })
    }
}
