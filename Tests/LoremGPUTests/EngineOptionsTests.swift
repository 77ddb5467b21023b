import ArgumentParser
import LoremGPU
import XCTest
@testable import lorem_gpu

/// The engine options are typed: a word outside the valid set is a usage error that lists the
/// valid values, and `--help` shows them.
final class EngineOptionsTests: XCTestCase {
    func testDeviceChoices() throws {
        XCTAssertEqual(DeviceChoice(argument: "reference"), .reference)
        XCTAssertEqual(DeviceChoice(argument: "opencl"), .opencl)
        XCTAssertEqual(DeviceChoice(argument: "opencl:1:2"), .openclAt(platform: 1, device: 2))
        XCTAssertEqual(DeviceChoice(argument: "opencl:1:2")?.openCLAddress, "opencl:1:2")
        XCTAssertNil(DeviceChoice(argument: "reference")?.openCLAddress)
        for bad in ["gpu", "opencl:1", "opencl:a:0", "opencl:-1:0", "opencl:0:0:0", "OpenCL", ""] {
            XCTAssertNil(DeviceChoice(argument: bad), bad)
        }
    }

    func testBadWordsAreUsageErrorsListingTheValues() {
        for (option, value, listed) in [("--device", "gpu", "'opencl:P:D'"), ("--precision", "f16", "'f64'"),
                                        ("--long-range", "fmm", "'pme'")] {
            XCTAssertThrowsError(try Predict.parseAsRoot(["in.xyz", "-o", "out.xyz", option, value])) { error in
                let message = Predict.message(for: error)
                XCTAssertTrue(message.contains(listed) && message.contains(value), message)
            }
        }
    }

    /// --max-buffer lowers the engine's single-buffer limit (MiB); a limit of 0 is refused.
    func testMaxBufferLowersTheLimit() throws {
        let model = try Bench.loadModel("random").0
        let limited = try EngineOptions.parse(["--device", "opencl", "--max-buffer", "3"]).makeEngine(model).engine
        XCTAssertEqual((limited as? DeviceEngine<Float>)?.maxAllocationBytes, 3 << 20)
        let plain = try EngineOptions.parse(["--device", "opencl"]).makeEngine(model).engine
        XCTAssertGreaterThan((plain as? DeviceEngine<Float>)?.maxAllocationBytes ?? 0, 3 << 20)
        XCTAssertThrowsError(try EngineOptions.parse(["--device", "opencl", "--max-buffer", "0"]).makeEngine(model))
    }

    func testHelpListsTheValues() {
        let help = Predict.helpMessage(columns: 200)
        for values in ["reference, opencl, opencl:P:D", "f32, f64", "auto, ewald, pme"] {
            XCTAssertTrue(help.contains(values), "help lacks '\(values)':\n\(help)")
        }
    }
}
