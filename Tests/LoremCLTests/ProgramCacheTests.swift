@testable import LoremCL
import Foundation
import XCTest

/// The on-disk program cache (`CLProgramCache`): a second build of the same source loads the
/// driver's binary and computes the same bits; a changed source or options, a damaged entry or
/// another entry's file under the same name never loads; `off` turns it off.
final class ProgramCacheTests: XCTestCase {
    private static let source = """
        __kernel void scale(__global const float *x, __global float *y, const float a) {
            const int i = get_global_id(0);
            y[i] = SCALE * a * x[i] + sin(x[i]);
        }
        """

    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lorem-gpu-cache-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A fresh context on the test device whose programs use `cache` (contexts keep their
    /// programs, so a second build needs a second context).
    private func context(_ cache: CLProgramCache) throws -> CLContext {
        let context = try CLContext(device: try TestDevice.context().device)
        context.programCache = cache
        return context
    }

    private func run(_ context: CLContext, options: String = "-DSCALE=2", source: String = source) throws
        -> (values: [UInt32], fromCache: Bool)
    {
        let program = try context.program("cache-test", options: options, sources: source)
        let x = (0..<37).map { Float($0) * 0.37 - 3 }
        let input = try CLBuffer<Float>(context, x)
        let output = try CLBuffer<Float>(context, count: x.count)
        try program.kernel("scale").launch(global: [x.count], input, output, Float(1.5))
        return (try output.download().map(\.bitPattern), program.fromCache)
    }

    func testSecondBuildLoadsTheBinaryWithTheSameBits() throws {
        let cache = CLProgramCache(directory: directory)
        let first = try run(try context(cache))
        XCTAssertFalse(first.fromCache)
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(entries.filter { $0.hasSuffix(".bin") }.count, 1, "\(entries)")
        XCTAssertFalse(entries.contains { $0.hasSuffix(".tmp") }, "a temporary file was left: \(entries)")
        let second = try run(try context(cache))
        XCTAssertTrue(second.fromCache)
        XCTAssertEqual(second.values, first.values)
        // Other options or another source are other programs: compiled, not loaded.
        let other = try run(try context(cache), options: "-DSCALE=3")
        XCTAssertFalse(other.fromCache)
        XCTAssertNotEqual(other.values, first.values)
        XCTAssertFalse(try run(try context(cache), source: Self.source + "\n// edited\n").fromCache)
    }

    func testDamagedOrForeignEntryFallsBackToTheSource() throws {
        let cache = CLProgramCache(directory: directory)
        let first = try run(try context(cache))
        let device = try TestDevice.context().device
        let header = CLProgramCache.header(identity: CLProgramCache.identity(device: device, options: "-DSCALE=2"),
                                           source: Self.source)
        let path = try XCTUnwrap(cache.path(header: header))
        // The right header and a binary the driver cannot read: refused, compiled again, and
        // the entry replaced by a good one.
        try (Data(header.utf8) + Data("not a binary".utf8)).write(to: path)
        let damaged = try run(try context(cache))
        XCTAssertFalse(damaged.fromCache)
        XCTAssertEqual(damaged.values, first.values)
        XCTAssertTrue(try run(try context(cache)).fromCache)
        // Another program's entry under this name (a hash collision): its header differs, so it
        // is skipped.
        try (Data("lorem-gpu program binary 1 | other\n".utf8) + Data(try Data(contentsOf: path).suffix(64))).write(to: path)
        XCTAssertNil(cache.load(header: header))
        XCTAssertFalse(try run(try context(cache)).fromCache)
    }

    func testLocationFromTheEnvironment() {
        XCTAssertNil(CLProgramCache.fromEnvironment(["LOREM_GPU_KERNEL_CACHE": "off", "HOME": "/h"]).directory)
        XCTAssertNil(CLProgramCache.fromEnvironment(["LOREM_GPU_KERNEL_CACHE": "", "HOME": "/h"]).directory)
        XCTAssertEqual(CLProgramCache.fromEnvironment(["LOREM_GPU_KERNEL_CACHE": "/c/k"]).directory?.path, "/c/k")
        XCTAssertEqual(CLProgramCache.fromEnvironment(["XDG_CACHE_HOME": "/x", "HOME": "/h"]).directory?.path,
                       "/x/lorem-gpu/kernels")
        XCTAssertEqual(CLProgramCache.fromEnvironment(["HOME": "/h"]).directory?.path, "/h/.cache/lorem-gpu/kernels")
        XCTAssertNil(CLProgramCache.fromEnvironment([:]).directory)
        // An unwritable location is not used, and the build still works.
        XCTAssertNoThrow(try run(try context(CLProgramCache(directory: URL(fileURLWithPath: "/proc/lorem-gpu-cache")))))
    }

    /// clFFT's binaries go to the subfolder `clfft`, unless the user chose `CLFFT_CACHE_PATH` or
    /// the cache is off.
    func testClFFTFolder() {
        let cache = CLProgramCache(directory: URL(fileURLWithPath: "/c/k"))
        XCTAssertEqual(cache.clfftDirectory([:])?.path, "/c/k/clfft")
        XCTAssertNil(cache.clfftDirectory(["CLFFT_CACHE_PATH": "/mine"]))
        XCTAssertNil(CLProgramCache(directory: nil).clfftDirectory([:]))
    }

    /// FNV-1a 64 test vectors (the published ones for "" and "a").
    func testHash() {
        XCTAssertEqual(CLProgramCache.fnv1a("".utf8), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(CLProgramCache.fnv1a("a".utf8), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(CLProgramCache.hex(0xab), "00000000000000ab")
    }
}
