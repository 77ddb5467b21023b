import LoremCL
import XCTest

/// Device discovery and the `opencl` / `opencl:P:D` choice. These fail, not skip, when there is
/// no OpenCL platform: CI always installs PoCL, so a missing platform is a broken setup.
final class DeviceDiscoveryTests: XCTestCase {
    func testFindsAtLeastOneDevice() throws {
        let devices = try CLDevices.all()
        XCTAssertFalse(devices.isEmpty, "no OpenCL device: is pocl-opencl-icd installed?")
        for device in devices {
            print("found \(device): \(device.globalMemoryBytes >> 20) MiB, \(device.computeUnits) CUs, "
                  + "fp64 \(device.supportsFP64)")
            XCTAssertFalse(device.name.isEmpty)
            XCTAssertGreaterThan(device.globalMemoryBytes, 0)
            XCTAssertGreaterThan(device.computeUnits, 0)
        }
    }

    func testDefaultIsFirstGPUElseFirstDevice() throws {
        let devices = try CLDevices.all()
        let chosen = try CLDevices.select("opencl")
        let expected = devices.first { $0.kind == .gpu } ?? devices[0]
        XCTAssertEqual(chosen.address, expected.address)
    }

    func testExplicitIndices() throws {
        let first = try CLDevices.all()[0]
        XCTAssertEqual(try CLDevices.select(first.address).name, first.name)
    }

    func testOutOfRangeAndMalformedAreClearErrors() throws {
        for spec in ["opencl:99:0", "opencl:0:99", "opencl:x:0", "opencl:0", "cuda", "reference"] {
            XCTAssertThrowsError(try CLDevices.select(spec), spec) { error in
                guard case CLError.deviceSelection(let message) = error else {
                    return XCTFail("\(spec): unexpected \(error)")
                }
                XCTAssertTrue(message.contains(spec), message)
            }
        }
    }

    func testNoPlatformMessageNamesTheFix() {
        XCTAssertTrue(CLError.noPlatform.description.contains("pocl-opencl-icd"))
    }

    func testStatusNamesInErrors() {
        let error = CLError.call("clCreateBuffer", status: -5)
        XCTAssertEqual(error.description, "OpenCL call clCreateBuffer failed with CL_OUT_OF_RESOURCES")
    }
}
