import Foundation
import XCTest
import LoremCL
import LoremGPU
import LoremIO
import LoremModel
@testable import LoremEngineCore
import LoremReference

/// LoremBEC on the OpenCL engine (Kernels/bec.cl, BornChargeKernels): Born charges, energy and
/// forces against lorem-jax's float64 fixtures (max |ΔZ| below 1e-9 e on the float64 device,
/// 1e-5 e in float32), and a batch of periodic, slab and molecular frames (each with
/// its own acoustic sum rule) equal to the frames alone.
final class DeviceBornChargeTests: XCTestCase {
    typealias Support = DeviceEngineTests

    func check<T: CLReal>(_ type: T.Type, model name: String, tolerance: Double,
                          structures: [String] = ["bulk_triclinic", "slab", "molecule"],
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let m = try Support.model(name)
        let engine = try DeviceEngine<T>(config: m.config, weights: m.weights, device: Support.device())
        for structure in structures {
            let url = Support.fixtures.appendingPathComponent("reference/\(name)__\(structure).json")
            let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            for (k, (s, frame)) in zip(try Support.structures(structure), root["frames"] as! [[String: Any]]).enumerated() {
                let r = try engine.evaluate(s, forces: true)
                let z = try XCTUnwrap(r.bornEffectiveCharges, file: file, line: line)
                let expected = (frame["apt"] as! [[[Double]]]).map { $0.flatMap { $0 } }
                var worst = 0.0
                for (a, b) in zip(z, expected) { for c in 0..<9 { worst = max(worst, abs(a[c] - b[c])) } }
                for c in 0..<9 { XCTAssertEqual(z.reduce(0) { $0 + $1[c] }, 0, accuracy: 1e-15, "sum rule", file: file, line: line) }
                let energy = frame["energy"] as! Double
                print("\(T.self) \(name) \(structure)[\(k)]: max|ΔZ| = \(worst), ΔE = \(r.energy - energy)")
                XCTAssertLessThan(worst, tolerance, "\(name) \(structure)[\(k)] Born charges", file: file, line: line)
                XCTAssertEqual(r.energy, energy, accuracy: tolerance * max(1, abs(energy)), file: file, line: line)
            }
        }
    }

    func testFloat64MatchesLoremJax() throws {
        for name in ["bec", "bec_mp1"] { try check(Double.self, model: name, tolerance: 1e-9) }
    }

    func testFloat32MatchesLoremJax() throws {
        for name in ["bec", "bec_mp1"] { try check(Float.self, model: name, tolerance: 1e-5) }
    }

    /// The holdout config and structures (Tests/Fixtures/make_bec_fixtures.py).
    func testHoldout() throws {
        let holdout = ["bulk_holdout", "molecule_holdout"]
        try check(Double.self, model: "bec_holdout", tolerance: 1e-9, structures: holdout)
        try check(Float.self, model: "bec_holdout", tolerance: 1e-5, structures: holdout)
    }

    func testBatchEqualsSingles() throws {
        let m = try Support.model("bec_mp1")
        let engine = try DeviceEngine<Double>(config: m.config, weights: m.weights, device: Support.device())
        let frames = try ["molecule", "bulk_triclinic", "slab"].flatMap { try Support.structures($0) }
        for (s, b) in zip(frames, try engine.evaluate(batch: frames, forces: false)) {
            let single = try XCTUnwrap(try engine.evaluate(s, forces: false).bornEffectiveCharges)
            let batched = try XCTUnwrap(b.bornEffectiveCharges)
            for (x, y) in zip(batched.joined(), single.joined()) { XCTAssertEqual(x, y, accuracy: 1e-15) }
        }
    }
}
