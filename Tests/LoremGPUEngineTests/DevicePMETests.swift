import Foundation
import XCTest
import LoremCL
import LoremGPU
import LoremIO
import LoremModel
@testable import LoremEngineCore
import LoremReference

/// The OpenCL engine with PME (`--long-range pme`) against the reference engine with the same
/// PME settings (same mesh and stencils: float64 within 1e-9 relative, float32 at the engine's
/// float32 tolerances), and against exact Ewald at the default settings: the accuracy
/// target is 1e-5 eV per atom in energy and 1e-4 eV/Å RMS in forces.
final class DevicePMETests: XCTestCase {
    typealias Base = DeviceEngineTests

    func check<T: CLReal>(_ type: T.Type, model name: String, parameters: PMEParameters, energyTolerance: Double,
                          forceTolerance: Double) throws {
        let m = try Base.model(name)
        let reference = try ReferenceEngine(config: m.config, weights: m.weights, longRange: .pme(parameters))
        let engine = try DeviceEngine<T>(config: m.config, weights: m.weights, device: Base.device(), longRange: .pme(parameters))
        for file in ["bulk_triclinic", "slab"] {
            for (k, s) in try Base.structures(file).enumerated() {
                let e = Base.compare(try engine.evaluate(s, forces: true), try reference.evaluate(s, forces: true))
                print("PME \(T.self) \(name) \(file)[\(k)]: ΔE/|E| = \(e.energy), max|ΔF| = \(e.force), max|ΔW| = \(e.virial)")
                XCTAssertLessThan(e.energy, energyTolerance, "\(name) \(file)[\(k)] energy")
                XCTAssertLessThan(e.force, forceTolerance * max(1, e.forceScale), "\(name) \(file)[\(k)] forces")
                if s.periodicDimensions == 3 { XCTAssertLessThan(e.virial, forceTolerance * 10, "\(name) \(file)[\(k)] virial") }
            }
        }
    }

    func testFloat64MatchesReferencePME() throws {
        for m in ["mp1_L2", "mp1_L4_lr1"] {
            try check(Double.self, model: m, parameters: PMEParameters(order: 6, spacing: 0.5), energyTolerance: 1e-9, forceTolerance: 1e-9)
        }
    }

    func testFloat32MatchesReferencePME() throws {
        try check(Float.self, model: "mp1_L4_lr1", parameters: PMEParameters(), energyTolerance: 1e-5, forceTolerance: 1e-4)
    }

    /// Default PME against exact Ewald, both on the device in float64, on the holdout model and
    /// structures no other test fits to.
    func testDefaultPMEAgreesWithExactEwald() throws {
        let m = try TrainedModel.load(path: Base.fixtures.appendingPathComponent("models/holdout_mp1_L3").path)
        let exact = try DeviceEngine<Double>(config: m.config, weights: m.weights, device: Base.device(), longRange: .ewald)
        let pme = try DeviceEngine<Double>(config: m.config, weights: m.weights, device: Base.device(), longRange: .pme(PMEParameters()))
        let holdout = try ExtXYZ.read(path: Base.fixtures.appendingPathComponent("structures/bulk_holdout.xyz").path)
        // Plus a 2×2×2 supercell of the first frame, rattled, so the mesh spans a larger cell, and
        // rattled rocksalt NaCl as a cubic bulk cell and as a slab (pbc T T F, 12 Å of vacuum).
        let cubic = Self.rattled(AllocationLimitEngineTests.rocksalt(2), by: 0.1, seed: 5)
        var slab = Self.rattled(AllocationLimitEngineTests.rocksalt(2), by: 0.1, seed: 6)
        slab.pbc = [true, true, false]
        slab.cell[2] = SIMD3(0, 0, 2 * 5.64 + 12)
        let frames = holdout + [Self.supercell(holdout[0], rattle: 0.05, seed: 3), cubic, slab]
        var periodic = 0
        for (k, s) in frames.enumerated() where s.pbc.contains(true) {
            periodic += 1
            let a = try pme.evaluate(s, forces: true), b = try exact.evaluate(s, forces: true)
            XCTAssertNotEqual(a.energy, b.energy, "frame \(k): the PME engine must not fall back to exact Ewald")
            let perAtom = abs(a.energy - b.energy) / Double(s.count)
            let rms = (zip(a.forces!, b.forces!).map { (($0 - $1) * ($0 - $1)).sum() }.reduce(0, +) / Double(3 * s.count)).squareRoot()
            print("holdout[\(k)] (\(s.count) atoms): PME − Ewald |ΔE|/N = \(perAtom) eV, force RMS = \(rms) eV/Å")
            XCTAssertLessThan(perAtom, 1e-5)
            XCTAssertLessThan(rms, 1e-4)
        }
        XCTAssertGreaterThan(periodic, 0, "the holdout set has periodic frames")
    }

    /// `s` with every atom displaced by up to `amplitude` Å per axis (a fixed sequence).
    static func rattled(_ s: Structure, by amplitude: Double, seed: UInt64) -> Structure {
        var rng = SplitMix64(seed: seed)
        var out = s
        out.positions = s.positions.map { $0 + amplitude * SIMD3(2 * rng.uniform() - 1, 2 * rng.uniform() - 1, 2 * rng.uniform() - 1) }
        return out
    }

    /// PME is defined on the cell's own (fractional) mesh, so rotating positions and cell
    /// together rotates the forces and leaves the energy unchanged up to rounding: float64, a
    /// triclinic bulk frame and a slab.
    func testRotationCovariance() throws {
        let m = try Base.model("mp1_L2")
        let engine = try DeviceEngine<Double>(config: m.config, weights: m.weights, device: Base.device(),
                                              longRange: .pme(PMEParameters()))
        let u = SIMD3(1.0, -2.0, 0.5), axis = u / (u * u).sum().squareRoot(), angle = 1.1
        func rot(_ v: SIMD3<Double>) -> SIMD3<Double> {  // Rodrigues
            let cross = SIMD3(axis.y * v.z - axis.z * v.y, axis.z * v.x - axis.x * v.z, axis.x * v.y - axis.y * v.x)
            return cos(angle) * v + sin(angle) * cross + (1 - cos(angle)) * (axis * v).sum() * axis
        }
        for s in [try Base.structures("bulk_triclinic")[0], try Base.structures("slab")[0]] {
            var r = s
            r.positions = s.positions.map(rot)
            r.cell = s.cell.map(rot)
            let a = try engine.evaluate(s, forces: true), b = try engine.evaluate(r, forces: true)
            XCTAssertEqual(a.energy, b.energy, accuracy: 1e-10 * max(1, abs(a.energy)))
            let scale = a.forces!.map(maxAbs).max()!
            for (f, g) in zip(a.forces!, b.forces!) { XCTAssertLessThan(maxAbs(rot(f) - g), 1e-10 * max(1, scale)) }
        }
    }

    /// The 2×2×2 supercell of a 3D-periodic frame, each atom displaced by up to `rattle` Å per
    /// axis (a fixed sequence, so the test sees the same structure every run).
    static func supercell(_ s: Structure, rattle: Double, seed: UInt64) -> Structure {
        var rng = SplitMix64(seed: seed)
        func next() -> Double { 2 * rng.uniform() - 1 }  // [−1, 1)
        var numbers: [Int] = [], positions: [SIMD3<Double>] = []
        for a in 0..<2 { for b in 0..<2 { for c in 0..<2 {
            let shift = Double(a) * s.cell[0] + Double(b) * s.cell[1] + Double(c) * s.cell[2]
            for (z, r) in zip(s.numbers, s.positions) {
                numbers.append(z)
                positions.append(r + shift + rattle * SIMD3(next(), next(), next()))
            }
        } } }
        return Structure(numbers: numbers, positions: positions, cell: s.cell.map { 2 * $0 }, pbc: s.pbc)
    }

    /// `auto` is exact Ewald below the threshold (bit-identical to `ewald`) and PME from it up.
    func testAutoChoosesByAtomCount() throws {
        let m = try Base.model("mp1_L2")
        let s = try Base.structures("bulk_triclinic")[0]
        let p = PMEParameters(order: 6, spacing: 0.5)
        func energy(_ method: LongRangeMethod) throws -> Double {
            try DeviceEngine<Double>(config: m.config, weights: m.weights, device: Base.device(), longRange: method)
                .evaluate(s, forces: false).energy
        }
        let ewald = try energy(.ewald), pme = try energy(.pme(p))
        XCTAssertNotEqual(ewald, pme, "the two methods differ at PME's discretisation error")
        XCTAssertEqual(try energy(.auto(p, threshold: s.count + 1)), ewald)
        XCTAssertEqual(try energy(.auto(p, threshold: s.count)), pme)
        XCTAssertEqual(LongRangeMethod.auto(p, threshold: 10).summary(for: s), s.count >= 10 ? ReciprocalMethod.pme(p).description : "exact Ewald")
    }
}
