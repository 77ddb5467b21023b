import LoremCL
@testable import LoremModel
import XCTest

/// Typed buffers: transfers round-trip exactly and every size disagreement is an error.
final class BufferTests: XCTestCase {
    func testRoundTrip() throws {
        let context = try TestDevice.context()
        let values: [Double] = [1, -2.5, .pi, 1e-300, -0.0]
        XCTAssertEqual(try CLBuffer(context, values).download(), values)
        let ints: [Int32] = [7, -1, .max]
        XCTAssertEqual(try CLBuffer(context, ints).download(), ints)
    }

    func testUploadSizeMismatchIsAnError() throws {
        let buffer = try CLBuffer<Float>(try TestDevice.context(), count: 4)
        XCTAssertThrowsError(try buffer.upload([1, 2, 3])) { error in
            guard case CLError.sizeMismatch = error else { return XCTFail("unexpected \(error)") }
        }
    }

    func testKernelOperandTooSmallIsAnError() throws {
        let context = try TestDevice.context()
        let kernels = try DenseKernels<Float>(context: context)
        let layer = try CLDenseLayer<Float>(
            context, DenseWeights(inputs: 3, outputs: 2, kernel: [1, 2, 3, 4, 5, 6], bias: nil))
        let x = try CLBuffer<Float>(context, count: 5)  // 2 rows need 6
        XCTAssertThrowsError(try kernels.dense(x, rows: 2, layer)) { error in
            guard case CLError.sizeMismatch(let message) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertTrue(message.contains("dense input"), message)
        }
    }
}

/// The context's memory ledger follows buffers as they are made and freed.
final class MemoryLedgerTests: XCTestCase {
    func testLedgerCountsLiveBytesAndPeak() throws {
        let context = try CLContext(device: TestDevice.context().device)
        XCTAssertEqual(context.memory.bytesInUse, 0)
        do {
            let a = try CLBuffer<Float>(context, count: 1000)
            let b = try CLBuffer<Double>(context, count: 10)
            XCTAssertEqual(context.memory.bytesInUse, 4000 + 80)
            _ = (a, b)
        }
        XCTAssertEqual(context.memory.bytesInUse, 0, "freed buffers leave the ledger")
        XCTAssertEqual(context.memory.peakBytes, 4080)
        context.memory.resetPeak()
        XCTAssertEqual(context.memory.peakBytes, 0)
        _ = try CLBuffer<Int32>(context, count: 0)
        XCTAssertEqual(context.memory.peakBytes, 4, "an empty buffer holds one element")
    }
}
