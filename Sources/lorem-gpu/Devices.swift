import ArgumentParser
import Foundation
import LoremCL

/// `lorem-gpu devices`: what `--device opencl[:P:D]` can choose from, so a user can tell whether
/// the GPU driver is seen at all and whether float64 is available on it.
struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the OpenCL devices and mark the one '--device opencl' picks.",
        discussion: """
            Each line gives the device address (opencl:PLATFORM:DEVICE), type, global memory, \
            compute units and float64 support. '*' marks the default: the first GPU, else the \
            first device.
            """)

    func run() throws {
        let devices = try CLDevices.all()
        let chosen = CLDevices.defaultDevice(in: devices)
        for device in devices {
            print(Devices.line(device, isDefault: device.address == chosen?.address))
        }
        if devices.isEmpty { print("OpenCL platforms found, but no devices on them.") }
    }

    static func line(_ device: CLDevice, isDefault: Bool) -> String {
        func gib(_ bytes: UInt64) -> String { String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) }
        return "\(isDefault ? "*" : " ") \(device.address)  \(device.name)  [\(device.platformName)]  "
            + "\(device.kind.rawValue), \(gib(device.globalMemoryBytes)) (\(gib(device.maxAllocationBytes)) per buffer), "
            + "\(device.computeUnits) compute units, "
            + "fp64 \(device.supportsFP64 ? "yes" : "no"), \(device.version)"
    }
}
