import LoremCL
import XCTest
@testable import lorem_gpu

/// `lorem-gpu devices`: registered as a subcommand, lists every device and marks the default.
final class DevicesCommandTests: XCTestCase {
    func testParsesAndRuns() throws {
        let command = try LoremGPU.parseAsRoot(["devices"])
        XCTAssertTrue(command is Devices)
        try (command as! Devices).run()
    }

    func testLineShowsAddressMemoryUnitsAndFP64() throws {
        let device = try CLDevices.all()[0]
        let marked = Devices.line(device, isDefault: true)
        XCTAssertTrue(marked.hasPrefix("* \(device.address)  \(device.name)"), marked)
        XCTAssertTrue(marked.contains("GiB") && marked.contains("per buffer") && marked.contains("compute units") && marked.contains("fp64"), marked)
        XCTAssertTrue(Devices.line(device, isDefault: false).hasPrefix("  "))
    }
}
