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

    /// mp1_L2 in float32 at a 6 MB limit: the species-pair table (Na, Cl: 4 rows × 128 floats)
    /// fits; 512 atoms have 13312 pairs, whose message-passing RadialCoefficients output
    /// [P, K·d = 128] (6.8 MB) does not, so the stage runs in chunks of whole centres that do
    /// and gives the unlimited engine's numbers bit for bit.
    func testPairSizedWorkOverTheLimitRunsInChunks() throws {
        let m = try DeviceEngineTests.model("mp1_L2")
        let device = try DeviceEngineTests.device()
        let limited = try DeviceEngine<Float>(config: m.config, weights: m.weights,
                                              context: CLContext(device: device, maxAllocationBytes: 6_000_000))
        let unlimited = try DeviceEngine<Float>(config: m.config, weights: m.weights, context: CLContext(device: device))
        let s = Self.rocksalt(4)
        let a = try limited.evaluate(s, forces: true), b = try unlimited.evaluate(s, forces: true)
        XCTAssertGreaterThan(limited.lastPairChunkCount, 1)
        XCTAssertEqual(unlimited.lastPairChunkCount, 1)
        PairChunkTests.assertIdentical(a, b, "6 MB limit")
    }

    /// At 150 kB even the pair features ([13312 × 3] pair vectors, 160 kB) are over the limit:
    /// that is reported with its batch and what to do.
    func testPairFeaturesOverTheLimitAreReportedWithTheirBatch() throws {
        let m = try DeviceEngineTests.model("mp1_L2")
        let context = try CLContext(device: DeviceEngineTests.device(), maxAllocationBytes: 150_000)
        let engine = try DeviceEngine<Float>(config: m.config, weights: m.weights, context: context)
        XCTAssertThrowsError(try engine.evaluate(Self.rocksalt(4), forces: true)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("cannot allocate"), text)
            XCTAssertTrue(text.contains("at most 146.5 KiB (150000 bytes) in one buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE)"), text)
            XCTAssertTrue(text.contains("evaluating a batch of 1 structure(s), 512 atoms"), text)
            XCTAssertTrue(text.contains("the pair-sized work runs in chunks of pairs"), text)
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
