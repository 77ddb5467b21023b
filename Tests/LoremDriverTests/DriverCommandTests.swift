import Foundation
import Glibc
import LoremIO
import LoremModel
@testable import LoremEngineCore
import LoremReference
import XCTest
@testable import LoremDriver
@testable import lorem_gpu

/// `lorem-gpu driver` end to end against an in-process server on a real unix socket, with a
/// committed lorem-jax checkpoint: what comes back over the socket, converted with ASE's
/// constants and conventions, is what `lorem-gpu predict` writes for the same geometry.
final class DriverCommandTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let model = root.appendingPathComponent("Tests/Fixtures/models/mp1_L2").path
    var dir: URL!

    override func setUpWithError() throws {
        // Short: unix socket paths are limited to 107 bytes.
        dir = URL(fileURLWithPath: "/tmp/lg-\(getpid())-\(UInt16.random(in: 0...UInt16.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A rattled triclinic NaCl cell with atoms outside the cell (i-PI does not wrap by default).
    let triclinic = Structure(
        numbers: [11, 17, 11, 17, 8, 1, 1],
        positions: [SIMD3(0.1, 0.2, 0.3), SIMD3(2.9, 0.4, 0.2), SIMD3(0.3, 3.1, 2.8), SIMD3(3.2, 2.7, 3.4),
                    SIMD3(-1.2, 1.5, 5.9), SIMD3(-0.4, 1.9, 6.2), SIMD3(-1.9, 2.1, 5.6)],
        cell: [SIMD3(5.6, 0.0, 0.0), SIMD3(1.3, 5.4, 0.0), SIMD3(-0.7, 0.9, 5.9)], pbc: [true, true, true])

    func predict(_ s: Structure, device: [String]) throws -> Structure {
        let input = dir.appendingPathComponent("in.xyz").path, output = dir.appendingPathComponent("out.xyz").path
        try ExtXYZ.write([s], to: input)
        let command = try Predict.parseAsRoot(["--model", Self.model, "-q", "--stress", input, "-o", output] + device) as! Predict
        try command.run()
        return try ExtXYZ.read(path: output)[0]
    }

    /// Starts `lorem-gpu driver` on `template` (a file written from it) and accepts its connection.
    func startDriver(_ template: Structure, device: [String], extra: [String] = []) throws -> (FakeIPIServer, DriverThread) {
        let templatePath = dir.appendingPathComponent("template.xyz").path
        try ExtXYZ.write([template], to: templatePath)
        let prefix = dir.path + "/ipi_"
        let listener = try UnixListener(path: prefix + "lorem", after: 0)
        let command = try Driver.parseAsRoot(["--model", Self.model, "--template", templatePath, "--unix", "lorem",
                                              "--socket-prefix", prefix, "-q", "--connect-timeout", "30"] + device + extra) as! Driver
        let driver = DriverThread { try command.run(); return .exit }
        let server = try XCTUnwrap(listener.accepted(timeout: 60), "the driver did not connect")
        return (server, driver)
    }

    /// i-PI's view of an ASE structure: h = cellᵀ row-major in Bohr, positions in Bohr.
    func ipiCell(_ s: Structure) -> [Double] {
        (0..<9).map { k in s.cell[k % 3][k / 3] / IPIUnits.bohr }
    }

    func ipiPositions(_ s: Structure) -> [Double] { s.positions.flatMap { [$0.x, $0.y, $0.z] }.map { $0 / IPIUnits.bohr } }

    func evaluate(_ server: FakeIPIServer, _ s: Structure, cell: [Double]? = nil) throws -> IPIResult {
        server.send(server.posData(cell: cell ?? ipiCell(s), positions: ipiPositions(s)) + server.header(.getForce))
        return try XCTUnwrap(server.receiveForces(atoms: s.count)?.first)
    }

    /// Units and the transposition of cell and virial: energy, forces and stress through the
    /// socket, read back the way ASE's SocketIOCalculator reads them (virial = wireᵀ·Ha,
    /// σ = −virial/V), equal `predict` on the same geometry (float64 reference engine, so only
    /// the unit conversions' rounding separates them).
    func testTriclinicCellMatchesPredict() throws {
        let expected = try predict(triclinic, device: ["--device", "reference"])
        let (server, driver) = try startDriver(triclinic, device: ["--device", "reference"])
        XCTAssertEqual(server.status(), .needInit)
        server.send(server.initMessage())
        XCTAssertEqual(server.status(), .ready)
        let r = try evaluate(server, triclinic)
        server.send(server.header(.exit))
        if case .failure(let error) = try XCTUnwrap(driver.wait()) { throw error }

        let energy = try XCTUnwrap(expected.info(named: "energy")?.asDouble)
        XCTAssertEqual(r.energy * IPIUnits.hartree, energy, accuracy: 1e-12 * abs(energy))
        let forces = try XCTUnwrap(expected.realColumn(named: "forces"))
        for i in 0..<triclinic.count {
            for a in 0..<3 {
                XCTAssertEqual(r.forces[3 * i + a] * IPIUnits.hartree / IPIUnits.bohr, forces[i][a], accuracy: 1e-11, "atom \(i)")
            }
        }
        let volume = Predictor.volume(triclinic.cell)
        let virial = (0..<3).map { a in (0..<3).map { b in r.virial[3 * b + a] * IPIUnits.hartree } }
        let sigma = [virial[0][0], virial[1][1], virial[2][2], virial[1][2], virial[0][2], virial[0][1]].map { -$0 / volume }
        let stress = try XCTUnwrap(expected.stressVoigt)
        XCTAssertGreaterThan(stress.map(abs).max()!, 1e-4, "a stress worth comparing")
        for k in 0..<6 { XCTAssertEqual(sigma[k], stress[k], accuracy: 1e-12, "Voigt \(k)") }
        XCTAssertEqual(r.extras, "{}")
    }

    /// A template without pbc is a molecule whatever cell arrives: i-PI's box and ASE's zeros
    /// give the same result, which is predict's for the molecule.
    func testMoleculeIgnoresTheCell() throws {
        var molecule = triclinic
        molecule.cell = [.zero, .zero, .zero]
        molecule.pbc = [false, false, false]
        let expected = try predict(molecule, device: ["--device", "reference"])
        let (server, driver) = try startDriver(molecule, device: ["--device", "reference"])
        // ASE's order: no INIT unless asked, STATUS around POSDATA.
        XCTAssertEqual(server.status(), .needInit)
        server.send(server.header(.initialize) + server.int32(0) + server.int32(1) + [0])
        let inBox = try evaluate(server, molecule, cell: [40, 0, 0, 0, 40, 0, 0, 0, 40])
        let zero = try evaluate(server, molecule, cell: [Double](repeating: 0, count: 9))
        server.close()
        if case .failure(let error) = try XCTUnwrap(driver.wait()) { throw error }
        XCTAssertEqual(inBox, zero)
        let energy = try XCTUnwrap(expected.info(named: "energy")?.asDouble)
        XCTAssertEqual(zero.energy * IPIUnits.hartree, energy, accuracy: 1e-12 * abs(energy))
    }

    /// Batched mode on the OpenCL engine (float64): the B structures of one POSDATA are one
    /// device batch, and each result equals that structure evaluated alone.
    func testBatchOnTheDeviceEqualsStructuresAlone() throws {
        let device = ["--device", "opencl", "--precision", "f64"]
        let rattled = (0..<3).map { b -> Structure in
            var s = triclinic
            s.positions = s.positions.enumerated().map { i, r in r + SIMD3(0.05 * sin(Double(7 * i + b)), 0.04 * Double(b), -0.03 * Double(i % 2)) }
            return s
        }
        var (server, driver) = try startDriver(triclinic, device: device)
        server.send(server.initMessage(text: " batch_size:3"))
        server.send(server.batchedPosData(cells: rattled.map(ipiCell), positions: rattled.map(ipiPositions)) + server.header(.getForce))
        let batched = try XCTUnwrap(server.receiveForces(atoms: triclinic.count, batch: 3))
        server.send(server.header(.exit))
        if case .failure(let error) = try XCTUnwrap(driver.wait()) { throw error }

        (server, driver) = try startDriver(triclinic, device: device)
        server.send(server.initMessage())
        let alone = try rattled.map { try evaluate(server, $0) }
        server.send(server.header(.exit))
        if case .failure(let error) = try XCTUnwrap(driver.wait()) { throw error }
        XCTAssertNotEqual(alone[0].energy, alone[1].energy, "the structures differ")
        for (b, a) in zip(batched, alone) {
            XCTAssertEqual(b.energy, a.energy, accuracy: 1e-12 * abs(a.energy))
            for k in a.forces.indices { XCTAssertEqual(b.forces[k], a.forces[k], accuracy: 1e-11) }
            for k in 0..<9 { XCTAssertEqual(b.virial[k], a.virial[k], accuracy: 1e-11) }
        }
    }

    /// A LoremBEC model sends its Born charges in the extras as lorem-jax's i-PI driver does,
    /// {"BEC": (3N, 3)} with row 3i+a and column b of Z_i, which i-PI's driven dynamics reads.
    func testBornChargesInTheExtras() throws {
        let becModel = Self.root.appendingPathComponent("Tests/Fixtures/models/bec_mp1").path
        let template = dir.appendingPathComponent("template.xyz").path
        try ExtXYZ.write([triclinic], to: template)
        let prefix = dir.path + "/ipi_"
        let listener = try UnixListener(path: prefix + "bec", after: 0)
        let command = try Driver.parseAsRoot(["--model", becModel, "--template", template, "--unix", "bec", "--socket-prefix", prefix,
                                              "-q", "--device", "reference"]) as! Driver
        let driver = DriverThread { try command.run(); return .exit }
        let server = try XCTUnwrap(listener.accepted(timeout: 60))
        server.send(server.initMessage())
        let r = try evaluate(server, triclinic)
        server.send(server.header(.exit))
        if case .failure(let error) = try XCTUnwrap(driver.wait()) { throw error }

        let model = try TrainedModel.load(path: becModel)
        let expected = try XCTUnwrap(try ReferenceEngine(config: model.config, weights: model.weights).evaluate(triclinic).bornEffectiveCharges)
        let json = try JSONSerialization.jsonObject(with: Data(r.extras.utf8)) as! [String: Any]
        let rows = try XCTUnwrap(json["BEC"] as? [[Double]])
        XCTAssertEqual(rows.count, 3 * triclinic.count)
        for i in 0..<triclinic.count { for a in 0..<3 { for b in 0..<3 {
            // Only the Bohr round trip of the positions separates them; Z − Zᵀ is ~1e-4 here, so
            // a transposed layout would fail.
            XCTAssertEqual(rows[3 * i + a][b], expected[i][3 * a + b], accuracy: 1e-13, "Z[\(i)][\(a)][\(b)]")
        } } }
        XCTAssertGreaterThan(rows.flatMap { $0 }.map(abs).max()!, 1e-5)
    }

    func testTemplateWithAnElementTheModelLacksIsRefused() throws {
        var s = triclinic
        s.numbers[0] = 26
        let templatePath = dir.appendingPathComponent("template.xyz").path
        try ExtXYZ.write([s], to: templatePath)
        let command = try Driver.parseAsRoot(["--model", Self.model, "--template", templatePath, "--unix", "x",
                                              "--device", "reference", "-q", "--connect-timeout", "0"]) as! Driver
        XCTAssertThrowsError(try command.run()) { error in
            XCTAssertTrue("\(error)".contains("element Fe is not in the model's baseline"), "\(error)")
        }
    }

    func testOptionsNeedExactlyOneAddress() throws {
        XCTAssertThrowsError(try Driver.parseAsRoot(["--template", "t.xyz"]))
        XCTAssertThrowsError(try Driver.parseAsRoot(["--template", "t.xyz", "--unix", "a", "--address", "localhost:1"]))
        XCTAssertNoThrow(try Driver.parseAsRoot(["--template", "t.xyz", "--address", "localhost:31415"]))
    }

    /// A degenerate cell for a periodic template is an error naming it, not a division by zero.
    func testFlatCellForAPeriodicTemplateIsAnError() throws {
        let (server, driver) = try startDriver(triclinic, device: ["--device", "reference"])
        server.send(server.initMessage())
        server.send(server.posData(cell: [10, 0, 0, 0, 10, 0, 0, 0, 0], positions: ipiPositions(triclinic)) + server.header(.getForce))
        guard case .failure(let error) = try XCTUnwrap(driver.wait()) else { return XCTFail("no error") }
        XCTAssertTrue("\(error)".contains("degenerate"), "\(error)")
    }
}
