@testable import LoremCL
import XCTest

/// Program building: the compiler's log reaches the error, programs are cached, and the
/// embedded kernel sources are the files in Kernels/.
final class ProgramTests: XCTestCase {
    func testSyntaxErrorCarriesBuildLog() throws {
        let context = try TestDevice.context()
        let source = "__kernel void broken(__global float *x) { x[0] = undefined_name + ; }"
        XCTAssertThrowsError(try context.program("broken-test", options: "", sources: source)) { error in
            guard case CLError.build(let program, _, let status, let log) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(program, "broken-test")
            XCTAssertEqual(status, -11)  // CL_BUILD_PROGRAM_FAILURE
            XCTAssertTrue(log.contains("undefined_name"), "build log lacks the culprit:\n\(log)")
            XCTAssertTrue("\(error)".contains("CL_BUILD_PROGRAM_FAILURE"))
        }
    }

    func testUnknownKernelNameIsAnError() throws {
        let program = try TestDevice.context().program(family: "dense", precision: Float.self)
        XCTAssertThrowsError(try program.kernel("no_such_kernel")) { error in
            XCTAssertTrue("\(error)".contains("CL_INVALID_KERNEL_NAME"), "\(error)")
        }
    }

    func testProgramsAreBuiltOncePerContextAndOptions() throws {
        let context = try TestDevice.context()
        let a = try context.program(family: "dense", precision: Float.self)
        let b = try context.program(family: "dense", precision: Float.self)
        let tiled = try context.program(family: "dense", precision: Float.self, defines: ["DENSE_TILED"])
        XCTAssertTrue(a === b)
        XCTAssertFalse(a === tiled)
        XCTAssertTrue(try CLContext.shared(context.device) === context)
    }

    /// The build plugin embeds Kernels/*.cl; this fails if the embedded text is stale or a
    /// file was not picked up.
    func testEmbeddedSourcesMatchKernelFiles() throws {
        let kernels = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Kernels").standardizedFileURL
        let files = try FileManager.default.contentsOfDirectory(atPath: kernels.path).filter { $0.hasSuffix(".cl") }
        XCTAssertEqual(Set(files.map { String($0.dropLast(3)) }), Set(EmbeddedKernels.sources.keys))
        for file in files {
            let disk = try String(contentsOf: kernels.appendingPathComponent(file), encoding: .utf8)
            XCTAssertTrue(EmbeddedKernels.sources[String(file.dropLast(3))] == disk, "\(file): embedded text is stale")
        }
    }
}

/// Per-kernel device times, collected only while a context has a `CLKernelTimes`.
final class KernelTimesTests: XCTestCase {
    func testLaunchesAreTimedOnlyWhileCollecting() throws {
        let context = try CLContext(device: TestDevice.context().device)
        let pairs = try PairKernels<Float>(context: context)
        let a = try CLBuffer<Float>(context, [1, 2, 3]), b = try CLBuffer<Float>(context, [4, 5, 6])
        try pairs.add(a, b, count: 3, into: a)
        let times = CLKernelTimes()
        context.kernelTimes = times
        try pairs.add(a, b, count: 3, into: a)
        try pairs.add(a, b, count: 3, into: a)
        context.kernelTimes = nil
        try pairs.add(a, b, count: 3, into: a)
        XCTAssertEqual(try a.download(), [17, 22, 27])
        let totals = times.totals
        XCTAssertEqual(totals.map(\.kernel), ["add"])
        XCTAssertEqual(totals.first?.calls, 2, "the two launches while collecting")
        XCTAssertGreaterThanOrEqual(totals.first?.seconds ?? -1, 0)
    }
}
