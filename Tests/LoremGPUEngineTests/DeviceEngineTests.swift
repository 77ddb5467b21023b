import Foundation
import XCTest
import LoremCL
import LoremGPU
import LoremIO
import LoremModel
@testable import LoremEngineCore
import LoremReference

/// The whole OpenCL engine against the float64 reference on the lorem-jax fixture models and
/// structures (Tests/Fixtures), on the default OpenCL device (PoCL in CI): float64 mode within
/// 1e-9 relative, float32 within 1e-5 relative in energy and 1e-4 eV/Å in forces.
final class DeviceEngineTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func device() throws -> CLDevice { try CLDevices.select("opencl") }

    static func model(_ name: String) throws -> TrainedModel {
        try TrainedModel.load(path: fixtures.appendingPathComponent("models/\(name)").path)
    }

    static func structures(_ name: String) throws -> [Structure] {
        try ExtXYZ.read(path: fixtures.appendingPathComponent("structures/\(name).xyz").path)
    }

    struct Errors { var energy = 0.0, force = 0.0, virial = 0.0, forceScale = 0.0 }

    static func compare(_ a: EngineResult, _ b: EngineResult) -> Errors {
        var e = Errors()
        e.energy = abs(a.energy - b.energy) / max(1, abs(b.energy))
        for (f, g) in zip(a.forces!, b.forces!) {
            e.force = max(e.force, maxAbs(f - g))
            e.forceScale = max(e.forceScale, maxAbs(g))
        }
        if let w = a.virial, let v = b.virial {
            for r in 0..<3 { for c in 0..<3 { e.virial = max(e.virial, abs(w[r][c] - v[r][c])) } }
        }
        return e
    }

    func check<T: CLReal>(_ type: T.Type, model name: String, energyTolerance: Double, forceTolerance: Double,
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let m = try Self.model(name)
        let reference = try ReferenceEngine(config: m.config, weights: m.weights)
        let engine = try DeviceEngine<T>(config: m.config, weights: m.weights, device: Self.device())
        for structureFile in ["bulk_triclinic", "slab", "molecule"] {
            for (k, s) in try Self.structures(structureFile).enumerated() {
                let e = Self.compare(try engine.evaluate(s, forces: true), try reference.evaluate(s, forces: true))
                print("\(T.self) \(name) \(structureFile)[\(k)]: ΔE/|E| = \(e.energy), max|ΔF| = \(e.force) (|F| ≤ \(e.forceScale)), max|ΔW| = \(e.virial)")
                XCTAssertLessThan(e.energy, energyTolerance, "\(name) \(structureFile)[\(k)] energy", file: file, line: line)
                XCTAssertLessThan(e.force, forceTolerance * max(1, e.forceScale), "\(name) \(structureFile)[\(k)] forces", file: file, line: line)
                if s.periodicDimensions == 3 {
                    XCTAssertLessThan(e.virial, forceTolerance * 10, "\(name) \(structureFile)[\(k)] virial", file: file, line: line)
                }
            }
        }
    }

    static let models = ["mp0_L6", "mp1_L2", "mp2_L3_noinit", "mp1_noneq", "mp1_lroff", "mp1_L4_lr1"]

    func testFloat64MatchesReference() throws {
        for m in Self.models { try check(Double.self, model: m, energyTolerance: 1e-9, forceTolerance: 1e-9) }
    }

    func testFloat32MatchesReference() throws {
        for m in Self.models { try check(Float.self, model: m, energyTolerance: 1e-5, forceTolerance: 1e-4) }
    }

    func testDeterministic() throws {
        let m = try Self.model("mp1_L2")
        let engine = try DeviceEngine<Float>(config: m.config, weights: m.weights, device: Self.device())
        let s = try Self.structures("bulk_triclinic")[0]
        let a = try engine.evaluate(s, forces: true), b = try engine.evaluate(s, forces: true)
        XCTAssertEqual(a.energy, b.energy)
        XCTAssertEqual(a.forces!, b.forces!)
        XCTAssertEqual(a.virial!, b.virial!)
    }

    /// Rotating the input rotates the forces (float32 tolerance).
    func testRotationCovariance() throws {
        let m = try Self.model("mp1_L2")
        let engine = try DeviceEngine<Float>(config: m.config, weights: m.weights, device: Self.device())
        let s = try Self.structures("bulk_triclinic")[0]
        let (c, sn) = (cos(0.9), sin(0.9))
        func rot(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(c * v.x - sn * v.y, sn * v.x + c * v.y, v.z) }
        var r = s
        r.positions = s.positions.map(rot)
        r.cell = s.cell.map(rot)
        let a = try engine.evaluate(s, forces: true), b = try engine.evaluate(r, forces: true)
        XCTAssertEqual(a.energy, b.energy, accuracy: 1e-5 * max(1, abs(a.energy)))
        for (f, g) in zip(a.forces!, b.forces!) {
            let d = rot(f) - g
            XCTAssertLessThan(maxAbs(d), 1e-4)
        }
    }
}

func maxAbs(_ v: SIMD3<Double>) -> Double { max(Swift.abs(v.x), Swift.abs(v.y), Swift.abs(v.z)) }

/// Several structures of different kinds evaluated as one batch give what each gives alone.
final class DeviceBatchTests: XCTestCase {
    func testBatchEqualsSingles() throws {
        let m = try DeviceEngineTests.model("mp1_L2")
        let engine = try DeviceEngine<Double>(config: m.config, weights: m.weights, device: DeviceEngineTests.device())
        let frames = try ["bulk_triclinic", "molecule", "slab"].flatMap { try DeviceEngineTests.structures($0) }
        try assertBatchEqualsSingles(engine, frames, tolerance: 1e-12)
    }

    /// Molecules of different sizes (1, 2, 3 and 8 atoms) interleaved with bulk and slab frames:
    /// the molecules share one batched direct-sum launch (§8.3) while each periodic frame keeps
    /// its own Ewald, and every frame still gets its single-structure energy, forces, virial and
    /// charges. The long-range model mp1_L4_lr1 (4 charge channels) and mp1_L2 (10).
    func testMixedMoleculesAndPeriodicBatchEqualsSingles() throws {
        let molecules = try DeviceEngineTests.structures("molecule")
        let bulk = try DeviceEngineTests.structures("bulk_triclinic"), slab = try DeviceEngineTests.structures("slab")
        let atom = Structure(numbers: [8], positions: [SIMD3(0.3, -0.2, 0.1)])
        let dimer = Structure(numbers: [6, 8], positions: [.zero, SIMD3(1.13, 0.05, -0.02)])
        let water = Structure(numbers: [8, 1, 1], positions: [.zero, SIMD3(0.96, 0, 0), SIMD3(-0.24, 0.93, 0)])
        let frames = [atom, bulk[0], molecules[0], dimer, slab[0], water, molecules[1], atom, slab[1], bulk[1]]
        for name in ["mp1_L2", "mp1_L4_lr1"] {
            let m = try DeviceEngineTests.model(name)
            let device = try DeviceEngineTests.device()
            let f64 = try DeviceEngine<Double>(config: m.config, weights: m.weights, device: device)
            try assertBatchEqualsSingles(f64, frames, tolerance: 1e-12)
            // And the batch means what the float64 reference means (DeviceEngineTests' f64 bounds).
            let reference = try ReferenceEngine(config: m.config, weights: m.weights)
            for (k, (s, b)) in zip(frames, try f64.evaluate(batch: frames, forces: true)).enumerated() {
                let e = DeviceEngineTests.compare(b, try reference.evaluate(s, forces: true))
                XCTAssertLessThan(e.energy, 1e-9, "\(name) frame \(k) energy")
                XCTAssertLessThan(e.force, 1e-9 * max(1, e.forceScale), "\(name) frame \(k) forces")
                XCTAssertLessThan(e.virial, 1e-8, "\(name) frame \(k) virial")
            }
            try assertBatchEqualsSingles(DeviceEngine<Float>(config: m.config, weights: m.weights, device: device), frames,
                                         tolerance: 1e-6)
        }
    }

    /// Batch vs one-by-one: energies relative to max(1, |E|), forces, virials and charges absolute.
    func assertBatchEqualsSingles<T: CLReal>(_ engine: DeviceEngine<T>, _ frames: [Structure], tolerance: Double,
                                             file: StaticString = #filePath, line: UInt = #line) throws {
        let batch = try engine.evaluate(batch: frames, forces: true)
        XCTAssertEqual(batch.count, frames.count, file: file, line: line)
        for (k, (s, b)) in zip(frames, batch).enumerated() {
            let single = try engine.evaluate(s, forces: true)
            let label = "\(T.self) frame \(k) (\(s.count) atoms, pbc \(s.periodicDimensions)D)"
            XCTAssertEqual(b.energy, single.energy, accuracy: tolerance * max(1, abs(single.energy)), label, file: file, line: line)
            XCTAssertEqual(b.perAtomEnergies.count, s.count, label, file: file, line: line)
            for (f, g) in zip(b.forces!, single.forces!) { XCTAssertLessThan(maxAbs(f - g), tolerance, label, file: file, line: line) }
            for a in 0..<3 {
                for c in 0..<3 {
                    XCTAssertEqual(b.virial![a][c], single.virial![a][c], accuracy: tolerance, label, file: file, line: line)
                }
            }
            XCTAssertEqual(b.charges.joined().count, single.charges.joined().count, label, file: file, line: line)
            for (x, y) in zip(b.charges.joined(), single.charges.joined()) {
                XCTAssertEqual(x, y, accuracy: tolerance, label, file: file, line: line)
            }
            for (x, y) in zip(b.potentials.joined(), single.potentials.joined()) {
                XCTAssertEqual(x, y, accuracy: tolerance, label, file: file, line: line)
            }
        }
    }
}
