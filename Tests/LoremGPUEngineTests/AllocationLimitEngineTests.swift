import LoremCL
@testable import LoremGPU
import LoremIO
import XCTest

/// The engine on a device whose single-allocation limit (CL_DEVICE_MAX_MEM_ALLOC_SIZE, lowered
/// on a test context) is too small: the error names the buffer, the bytes and the limit, and
/// says which batch and what to do, instead of a bare OpenCL status.
final class AllocationLimitEngineTests: XCTestCase {
    /// Rocksalt NaCl, n×n×n conventional cells (a = 5.64 Å): 8n³ atoms, 26 neighbours each
    /// within 5 Å.
    static func rocksalt(_ n: Int) -> Structure {
        let a = 5.64
        let basis: [(Int, SIMD3<Double>)] = [(11, SIMD3(0, 0, 0)), (11, SIMD3(0, 0.5, 0.5)), (11, SIMD3(0.5, 0, 0.5)),
                                             (11, SIMD3(0.5, 0.5, 0)), (17, SIMD3(0.5, 0, 0)), (17, SIMD3(0, 0.5, 0)),
                                             (17, SIMD3(0, 0, 0.5)), (17, SIMD3(0.5, 0.5, 0.5))]
        var numbers: [Int] = [], positions: [SIMD3<Double>] = []
        for i in 0..<n { for j in 0..<n { for k in 0..<n {
            for (z, f) in basis {
                numbers.append(z)
                positions.append(a * (f + SIMD3(Double(i), Double(j), Double(k))))
            }
        } } }
        let side = a * Double(n)
        return Structure(numbers: numbers, positions: positions,
                         cell: [SIMD3(side, 0, 0), SIMD3(0, side, 0), SIMD3(0, 0, side)], pbc: [true, true, true])
    }

    /// mp1_L2 in float32: the species-pair table (Na, Cl: 4 rows × 128 floats) fits a 6 MB
    /// limit; 512 atoms have 13312 pairs, whose message-passing RadialCoefficients output
    /// [P, K·d = 128] (6.8 MB) does not.
    func testPairSizedBufferOverTheLimitIsReportedWithItsBatch() throws {
        let m = try DeviceEngineTests.model("mp1_L2")
        let context = try CLContext(device: DeviceEngineTests.device(), maxAllocationBytes: 6_000_000)
        let engine = try DeviceEngine<Float>(config: m.config, weights: m.weights, context: context)
        XCTAssertEqual(try engine.evaluate(Self.rocksalt(1), forces: true).forces?.count, 8)
        XCTAssertThrowsError(try engine.evaluate(Self.rocksalt(4), forces: true)) { error in
            let text = "\(error)"
            print(text)
            XCTAssertTrue(text.contains("cannot allocate dense layer output [13312 × 128]: it needs 6.5 MiB (6815744 bytes)"), text)
            XCTAssertTrue(text.contains("at most 5.7 MiB (6000000 bytes) in one buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE)"), text)
            XCTAssertTrue(text.contains("evaluating a batch of 1 structure(s), 512 atoms"), text)
        }
    }

    /// A batch whose species-pair table is over the limit (90 elements: 8100 rows × 128 floats,
    /// 4.1 MB) fails at evaluation, saying so; the table is made per element set, not at load.
    func testSpeciesPairTableOverTheLimitIsReported() throws {
        let m = try DeviceEngineTests.model("mp1_L2")
        let context = try CLContext(device: DeviceEngineTests.device(), maxAllocationBytes: 4_000_000)
        let engine = try DeviceEngine<Float>(config: m.config, weights: m.weights, context: context)
        let many = Structure(numbers: Array(1...90), positions: (0..<90).map { SIMD3(6.0 * Double($0), 0, 0) })
        XCTAssertThrowsError(try engine.evaluate(many, forces: true)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("cannot allocate dense layer output [8100 × 128]"), text)
            XCTAssertTrue(text.contains("making the RadialCoefficients_0 table of 90×90 species pairs"), text)
        }
    }
}
