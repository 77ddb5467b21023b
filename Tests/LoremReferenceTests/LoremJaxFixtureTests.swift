import Foundation
import XCTest
import LoremIO
import LoremModel
@testable import LoremEngineCore
@testable import LoremReference

/// The reference engine against float64 lorem-jax on the committed fixtures (Tests/Fixtures:
/// seven checkpoints with random weights covering T = 0, 1, 2, L = 2…6, no long range, no
/// equivariant message passing, no node initialisation, L_lr = 1; periodic, slab and molecular
/// frames). Tolerances are those of the foundation issue: energy 1e-7 eV, forces 1e-7 eV/Å,
/// stress 1e-8 eV/Å³.
final class LoremJaxFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    struct Frame {
        let structure: Structure
        let json: [String: Any]
        func number(_ key: String) -> Double { (json[key] as! NSNumber).doubleValue }
        func vectors(_ key: String) -> [SIMD3<Double>] {
            (json[key] as! [[NSNumber]]).map { SIMD3($0[0].doubleValue, $0[1].doubleValue, $0[2].doubleValue) }
        }
        func matrix(_ key: String) -> [[Double]]? { (json[key] as? [[NSNumber]])?.map { $0.map(\.doubleValue) } }
        func list(_ key: String) -> [Double]? { (json[key] as? [NSNumber])?.map(\.doubleValue) }
    }

    /// Reads one reference file: the model folder it names and every frame, with the exact
    /// positions and cell lorem-jax evaluated.
    static func load(_ name: String) throws -> (TrainedModel, [Frame]) {
        let url = fixtures.appendingPathComponent("reference/\(name).json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let model = try TrainedModel.load(path: fixtures.appendingPathComponent(root["checkpoint"] as! String).path)
        let frames = (root["frames"] as! [[String: Any]]).map { f -> Frame in
            var frame = Frame(structure: Structure(numbers: [], positions: []), json: f)
            frame = Frame(structure: Structure(
                numbers: (f["atomic_numbers"] as! [NSNumber]).map(\.intValue),
                positions: frame.vectors("positions"), cell: frame.vectors("cell"),
                pbc: (f["pbc"] as! [Bool])), json: f)
            return frame
        }
        return (model, frames)
    }

    static func stressVoigt(_ w: [[Double]], volume: Double) -> [Double] {
        [w[0][0], w[1][1], w[2][2], 0.5 * (w[1][2] + w[2][1]), 0.5 * (w[0][2] + w[2][0]), 0.5 * (w[0][1] + w[1][0])]
            .map { $0 / volume }
    }

    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (model, frames) = try Self.load(name)
        let engine = try ReferenceEngine(config: model.config, weights: model.weights)
        for (k, frame) in frames.enumerated() {
            let s = frame.structure
            let r = try engine.evaluate(s)
            let tag = "\(name) frame \(k)"
            XCTAssertEqual(r.energy, frame.number("energy"), accuracy: 1e-7, "\(tag) energy", file: file, line: line)
            let baseline = s.numbers.reduce(0.0) { $0 + model.baseline[$1]! }
            XCTAssertEqual(r.energy + baseline, frame.number("energy_with_baseline"), accuracy: 1e-7, tag, file: file, line: line)
            var worstForce = 0.0
            for (f, g) in zip(r.forces!, frame.vectors("forces")) {
                worstForce = max(worstForce, ((f - g) * (f - g)).max().squareRoot())
            }
            XCTAssertLessThan(worstForce, 1e-7, "\(tag) forces", file: file, line: line)
            var worstStress = 0.0
            if s.periodicDimensions == 3, let ref = frame.list("stress_ase") {
                let stress = Self.stressVoigt(r.virial!, volume: frame.number("volume"))
                for c in 0..<6 {
                    worstStress = max(worstStress, abs(stress[c] - ref[c]))
                    XCTAssertEqual(stress[c], ref[c], accuracy: 1e-8, "\(tag) stress[\(c)]", file: file, line: line)
                }
            }
            print("\(tag): |ΔE| = \(abs(r.energy - frame.number("energy"))) eV, max |ΔF| = \(worstForce) eV/Å, max |Δσ| = \(worstStress) eV/Å³")
            if let ref = frame.matrix("charges"), !r.charges.isEmpty {
                for i in 0..<s.count {
                    for ch in 0..<r.charges.count {
                        XCTAssertEqual(r.charges[ch][i], ref[i][ch], accuracy: 1e-9, "\(tag) charge", file: file, line: line)
                    }
                }
            }
        }
    }

    func testMP0L6() throws { for s in ["bulk_triclinic", "slab", "molecule"] { try check("mp0_L6__\(s)") } }
    func testMP1L2() throws { for s in ["bulk_triclinic", "slab", "molecule"] { try check("mp1_L2__\(s)") } }
    func testMP2L3NoNodeInit() throws { for s in ["bulk_triclinic", "slab", "molecule"] { try check("mp2_L3_noinit__\(s)") } }
    func testMP1NonEquivariant() throws { for s in ["bulk_triclinic", "slab", "molecule"] { try check("mp1_noneq__\(s)") } }
    func testMP1LongRangeOff() throws { for s in ["bulk_triclinic", "slab", "molecule"] { try check("mp1_lroff__\(s)") } }
    func testMP1L4LongRangeDegree1() throws { for s in ["bulk_triclinic", "slab", "molecule"] { try check("mp1_L4_lr1__\(s)") } }

    /// A model and structures that no other test (and no development run) used.
    func testHoldout() throws { for s in ["bulk_holdout", "molecule_holdout"] { try check("holdout_mp1_L3__\(s)") } }
}
