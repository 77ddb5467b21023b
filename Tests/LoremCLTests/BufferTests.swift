@testable import LoremCL
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

    /// Filled on the device, also over a reused buffer that still holds old contents (poisoned
    /// with 0xFF bytes, i.e. NaN, when the pool hands it out).
    func testFillSetsEveryElement() throws {
        let context = try CLContext(device: TestDevice.context().device)
        context.poisonReusedBuffers = true
        try context.reusingBuffers {
            XCTAssertEqual(try CLBuffer<Double>(context, count: 5, filledWith: -0.5).download(), [Double](repeating: -0.5, count: 5))
        }
        try context.reusingBuffers {
            let reused = try CLBuffer<Double>(context, count: 5, filledWith: 0)
            XCTAssertEqual(try reused.download(), [Double](repeating: 0, count: 5))
            try reused.fill(3)
            XCTAssertEqual(try reused.download(), [Double](repeating: 3, count: 5))
        }
        XCTAssertEqual(try CLBuffer<Float>(context, count: 7, filledWith: 1).download(), [Float](repeating: 1, count: 7))
        XCTAssertEqual(try CLBuffer<Int32>(context, count: 0, filledWith: 9).download(), [])
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

    /// With sites tracked, the ledger keeps the live buffers by caller (or name) at their
    /// largest together, and the stage entered before; buffers made untracked are left out.
    func testLedgerReportsLiveBuffersBySiteAtTheirPeak() throws {
        let context = try CLContext(device: TestDevice.context().device)
        let untracked = try CLBuffer<Float>(context, count: 5000)
        context.memory.tracksSites = true
        context.memory.resetPeak()
        context.memory.enter(stage: "first")
        let (line, named) = (#line + 1, "pair tensor")
        let a = try CLBuffer<Float>(context, count: 1000), b = try CLBuffer<Float>(context, count: 500)
        do {
            let c = try CLBuffer<Double>(context, count: 100, name: named)
            context.memory.enter(stage: "second")
            _ = c
        }
        let d = try CLBuffer<Float>(context, count: 10)  // below the peak of a + b + c
        context.memory.enter(stage: "third")
        let peak = context.memory.peakSites
        XCTAssertEqual(peak.stage, "first", "the peak came when c was made, before stage 'second'")
        let site = "LoremCLTests/BufferTests.swift:\(line)"
        XCTAssertEqual(peak.sites.map(\.site), [site, "\(named) (LoremCLTests/BufferTests.swift:\(line + 2))"])
        XCTAssertEqual(peak.sites.map(\.bytes), [6000, 800])
        XCTAssertEqual(peak.sites.map(\.buffers), [2, 1])
        context.memory.tracksSites = false
        _ = (untracked, a, b, d)
    }
}

/// Buffers freed inside `reusingBuffers` wait for the next request of their size, and no longer
/// than one further scope.
final class BufferReuseTests: XCTestCase {
    func testFreedBuffersAreReusedBySizeAndTrimmedAfterAnUnusedScope() throws {
        let context = try CLContext(device: TestDevice.context().device)
        _ = try CLBuffer<Float>(context, count: 1000)
        XCTAssertEqual(context.memory.bytesCached, 0, "outside a scope a freed buffer goes back to the driver")
        try context.reusingBuffers {
            do { _ = try CLBuffer<Float>(context, count: 1000) }
            XCTAssertEqual(context.memory.bytesCached, 4000)
            let sameSize = try CLBuffer<Int32>(context, count: 1000)
            XCTAssertEqual(context.memory.bytesCached, 0, "a request of the same byte size takes the cached buffer")
            XCTAssertEqual(context.memory.bytesInUse, 4000)
            let other = try CLBuffer<Float>(context, count: 999)
            XCTAssertEqual(context.memory.bytesInUse, 4000 + 3996, "another size is a new buffer")
            _ = (sameSize, other)
        }
        XCTAssertEqual(context.memory.bytesInUse, 0)
        XCTAssertEqual(context.memory.bytesCached, 7996, "freed in the scope: kept for the next one")
        XCTAssertEqual(context.memory.peakReservedBytes, 7996)
        try context.reusingBuffers { _ = try CLBuffer<Float>(context, count: 1000) }
        XCTAssertEqual(context.memory.bytesCached, 4000, "the unused 3996-byte buffer waited a whole scope: freed")
        context.releaseCachedBuffers()
        XCTAssertEqual(context.memory.bytesCached, 0)
    }

    func testBucketsAreAtMostOneSixteenthLarger() {
        XCTAssertEqual(CLBufferPool.bucket(4000), 4000)
        XCTAssertEqual(CLBufferPool.bucket(1 << 16), 1 << 16)
        XCTAssertEqual(CLBufferPool.bucket((1 << 16) + 1), (1 << 16) + (1 << 12))
        XCTAssertEqual(CLBufferPool.bucket(1 << 20), 1 << 20)
        XCTAssertEqual(CLBufferPool.bucket((1 << 20) + 1), (1 << 20) + (1 << 16))
        XCTAssertEqual(CLBufferPool.bucket(3 << 20 - 1000), 3 << 20)
        for bytes in stride(from: (1 << 20) + 7, to: 1 << 30, by: 9_999_991) {
            let b = CLBufferPool.bucket(bytes)
            XCTAssertTrue(b >= bytes && Double(b) <= Double(bytes) * 1.0625, "\(bytes) → \(b)")
        }
    }

    /// A slightly smaller request reuses its bucket; a request the pool cannot serve first frees
    /// what waited from before the scope, so a change of size does not hold old and new at once.
    func testNearSizesShareABucketAndAMissFreesStaleBuffersFirst() throws {
        let context = try CLContext(device: TestDevice.context().device)
        let mib = 1 << 20
        try context.reusingBuffers { _ = try CLBuffer<UInt8>(context, count: 3 * mib) }
        XCTAssertEqual(context.memory.bytesCached, 3 * mib)
        context.memory.resetPeak()
        try context.reusingBuffers {
            let near = try CLBuffer<UInt8>(context, count: 3 * mib - 1000)
            XCTAssertEqual(context.memory.bytesCached, 0, "same bucket: the cached buffer is taken")
            XCTAssertEqual(context.memory.bytesInUse, 3 * mib)
            _ = near
        }
        try context.reusingBuffers {
            let larger = try CLBuffer<UInt8>(context, count: 5 * mib)
            XCTAssertEqual(context.memory.bytesCached, 0, "the stale 3 MiB buffer was freed before allocating")
            XCTAssertEqual(context.memory.bytesInUse, 5 * mib)
            _ = larger
        }
        XCTAssertEqual(context.memory.peakReservedBytes, 5 * mib, "never 3 + 5 MiB at once")
        let exact = try CLBuffer<UInt8>(context, count: 3 * mib - 1000)
        XCTAssertEqual(context.memory.bytesInUse, 3 * mib - 1000, "outside a scope sizes are exact")
        _ = exact
    }

    /// Molecular dynamics: one size class crosses a bucket between evaluations. The new size
    /// replaces the stale buffer nearest to it (the device never holds more than the last
    /// scope's budget plus what the live buffers need), and the unchanged size is still reused.
    func testASizeThatDriftsReplacesItsNearestStaleBuffer() throws {
        let context = try CLContext(device: TestDevice.context().device)
        let mib = 1 << 20
        try context.reusingBuffers {
            let a = try CLBuffer<UInt8>(context, count: 3 * mib), b = try CLBuffer<UInt8>(context, count: 5 * mib)
            _ = (a, b)
        }
        context.memory.resetPeak()
        try context.reusingBuffers {
            let drifted = try CLBuffer<UInt8>(context, count: 3 * mib + 300_000)  // next bucket up
            XCTAssertEqual(context.memory.bytesCached, 5 * mib, "the stale 3 MiB buffer made room")
            let same = try CLBuffer<UInt8>(context, count: 5 * mib)
            XCTAssertEqual(context.memory.bytesCached, 0, "the 5 MiB buffer is still reused")
            _ = (drifted, same)
        }
        XCTAssertEqual(context.memory.peakReservedBytes, 5 * mib + CLBufferPool.bucket(3 * mib + 300_000))
    }

    /// Buffers kept by size hold, for every size, as many as were ever live at once: here 4 MiB
    /// then 3 MiB, never live together, would keep 7 MiB. The budget, an eighth above the last
    /// scope's live peak, gives the surplus back when a scope closes and makes a miss free cached
    /// buffers first, even this scope's: the device holds 4 MiB, not 7.
    func testThePoolHoldsAnEighthAboveTheLivePeak() throws {
        let context = try CLContext(device: TestDevice.context().device)
        let mib = 1 << 20
        func scope() throws {
            try context.reusingBuffers {
                do { _ = try CLBuffer<UInt8>(context, count: 4 * mib) }
                _ = try CLBuffer<UInt8>(context, count: 3 * mib)
            }
        }
        try scope()
        XCTAssertEqual(context.memory.bytesCached, 3 * mib, "closing gave back the 4 MiB buffer beyond 4.5 MiB")
        context.memory.resetPeak()
        try scope()
        XCTAssertEqual(context.memory.peakReservedBytes, 4 * mib, "never 3 + 4 MiB at once")
        XCTAssertLessThanOrEqual(context.memory.bytesCached, 4 * mib + mib / 2)
    }

    func testPoisonedReuseShowsAsNaN() throws {
        let context = try CLContext(device: TestDevice.context().device)
        context.poisonReusedBuffers = true
        try context.reusingBuffers {
            do { _ = try CLBuffer<Float>(context, [Float](repeating: 1, count: 16)) }
            let reused = try CLBuffer<Float>(context, count: 16)
            XCTAssertTrue(try reused.download().allSatisfy(\.isNaN))
            let written = try CLBuffer<Float>(context, [Float](repeating: 2, count: 16))
            XCTAssertEqual(try written.download(), [Float](repeating: 2, count: 16), "an upload overwrites the poison")
        }
    }
}
