@testable import LoremCL
import XCTest

/// Buffers over the device's single-allocation limit (CL_DEVICE_MAX_MEM_ALLOC_SIZE) are a
/// `CLError.allocationTooLarge` naming the buffer, its shape, the bytes needed and the limit,
/// raised before OpenCL is asked. A context with a lowered limit stands in for a small device.
final class AllocationLimitTests: XCTestCase {
    static let limit = 1 << 20

    /// Byte counts past 2³¹ print whole (a 32-bit "%d" once printed 12.8 GiB as 849969152 bytes).
    func testByteCountsAbove32Bits() {
        XCTAssertEqual(byteCount(13_743_895_347), "12.8 GiB (13743895347 bytes)")
        XCTAssertEqual(byteCount(8 << 30), "8.0 GiB (8589934592 bytes)")
        XCTAssertEqual(byteCount(1536), "1.5 KiB (1536 bytes)")
        XCTAssertEqual(byteCount(12), "12 bytes")
    }

    func testDeviceReportsItsLimit() throws {
        let context = try TestDevice.context()
        XCTAssertGreaterThan(context.device.maxAllocationBytes, 0)
        XCTAssertEqual(UInt64(context.maxAllocationBytes), context.device.maxAllocationBytes)
    }

    func testBufferAtTheLimitIsAllocatedAndOneElementMoreIsNamedError() throws {
        let context = try CLContext(device: TestDevice.context().device, maxAllocationBytes: Self.limit)
        XCTAssertEqual(context.maxAllocationBytes, Self.limit)
        XCTAssertEqual(try CLBuffer<Float>(context, count: Self.limit / 4).count, Self.limit / 4)
        XCTAssertThrowsError(try CLBuffer<Float>(context, shape: [Self.limit / 4 + 1], name: "pair distances")) { error in
            guard case CLError.allocationTooLarge(let buffer, let bytes, let limit, _, _) = error else {
                return XCTFail("expected allocationTooLarge, got \(error)")
            }
            XCTAssertEqual(buffer, "pair distances [262145]")
            XCTAssertEqual(bytes, Self.limit + 4)
            XCTAssertEqual(limit, Self.limit)
            let text = "\(error)"
            print(text)
            XCTAssertTrue(text.contains("cannot allocate pair distances [262145]"), text)
            XCTAssertTrue(text.contains("1.0 MiB (1048580 bytes)"), text)
            XCTAssertTrue(text.contains("at most 1.0 MiB (1048576 bytes) in one buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE)"), text)
        }
        // Unnamed buffers say what they hold; counts whose byte size overflows are errors too.
        XCTAssertThrowsError(try CLBuffer<Double>(context, count: Self.limit)) { error in
            XCTAssertTrue("\(error)".contains("a buffer of 1048576 Double values"), "\(error)")
        }
        XCTAssertThrowsError(try CLBuffer<Double>(context, count: Int.max / 4))
    }

    /// A kernel family's pair-sized output names itself: the edge basis [P, (L+1)², s].
    func testPairSizedOutputOfAKernelFamilyIsNamed() throws {
        let context = try CLContext(device: TestDevice.context().device, maxAllocationBytes: Self.limit)
        let pairs = try PairKernels<Float>(context: context)
        let P = 4096, L = 2, s = 8
        let w = try CLBuffer<Float>(context, count: P * (L + 1) * s), y = try CLBuffer<Float>(context, count: P * 9)
        XCTAssertThrowsError(try pairs.edgeBasis(w, harmonics: y, pairs: P, maxDegree: L, features: s)) { error in
            XCTAssertTrue("\(error)".contains("cannot allocate edge basis G [4096 × 9 × 8]: it needs 1.1 MiB"), "\(error)")
        }
    }

    func testContextIsAddedOnlyToAllocationErrors() {
        let error = CLError.allocationTooLarge(buffer: "x [2]", bytes: 8, limit: 4, device: "d", context: "")
        XCTAssertEqual("\(error.adding(context: "a").adding(context: "b"))",
                       "cannot allocate x [2]: it needs 8 bytes but d allows at most 4 bytes in one buffer "
                           + "(CL_DEVICE_MAX_MEM_ALLOC_SIZE); a; b")
        XCTAssertEqual(CLError.unsupported("u").adding(context: "a"), CLError.unsupported("u"))
    }
}
