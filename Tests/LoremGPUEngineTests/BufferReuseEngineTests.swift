@testable import LoremCL
@testable import LoremGPU
import LoremIO
@testable import LoremEngineCore
import LoremReference
import XCTest

/// The engine reuses freed device buffers across and within evaluations
/// (`CLContext.reusingBuffers`). With every reused buffer poisoned (NaN), a kernel that reads
/// memory it never wrote would change the numbers: repeated evaluations must give bit for bit
/// what an engine on a separate context without reuse (every buffer fresh) gives.
final class BufferReuseEngineTests: XCTestCase {
    func testPoisonedReuseChangesNothing() throws {
        let device = try DeviceEngineTests.device()
        let frames = try ["bulk_triclinic", "slab", "molecule"].flatMap { try DeviceEngineTests.structures($0) }
        for name in ["mp0_L6", "mp1_L2"] {
            let m = try DeviceEngineTests.model(name)
            for method in [LongRangeMethod.ewald, .pme(PMEParameters())] {
                let poisoned = try CLContext(device: device)
                poisoned.poisonReusedBuffers = true
                let engine = try DeviceEngine<Float>(config: m.config, weights: m.weights, context: poisoned,
                                                     longRange: method)
                let fresh = try CLContext(device: device)
                fresh.reuseEnabled = false
                let plain = try DeviceEngine<Float>(config: m.config, weights: m.weights, context: fresh, longRange: method)
                for s in frames {
                    let expected = try plain.evaluate(s, forces: true)
                    for _ in 0..<2 {
                        let r = try engine.evaluate(s, forces: true)
                        XCTAssertEqual(r.energy, expected.energy, "\(name) \(method)")
                        XCTAssertEqual(r.forces!, expected.forces!, "\(name) \(method)")
                        XCTAssertEqual(r.virial, expected.virial, "\(name) \(method)")
                    }
                }
                XCTAssertGreaterThan(poisoned.memory.bytesCached, 0, "the evaluations left buffers for reuse")
                XCTAssertEqual(fresh.memory.bytesCached, 0, "the baseline reused nothing")
            }
        }
    }
}
