import COpenCL

/// Discovery and choice of OpenCL devices. The device string follows the CLI: `opencl` picks the
/// first GPU of any platform, else the first device; `opencl:P:D` names platform P, device D.
public enum CLDevices {
    /// Every device of every platform, in platform then device order.
    /// Throws `CLError.noPlatform` when the ICD loader finds no platform at all.
    public static func all() throws -> [CLDevice] {
        var platformCount: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &platformCount)
        // The ICD loader reports "no driver installed" as CL_PLATFORM_NOT_FOUND_KHR (-1001).
        if status == -1001 || (status == CL_SUCCESS && platformCount == 0) { throw CLError.noPlatform }
        try clCheck(status, "clGetPlatformIDs")
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        try clCheck(clGetPlatformIDs(platformCount, &platforms, nil), "clGetPlatformIDs")

        var devices: [CLDevice] = []
        for (p, platform) in platforms.enumerated() {
            let platformName = try CLInfo.string("clGetPlatformInfo") {
                clGetPlatformInfo(platform, cl_platform_info(CL_PLATFORM_NAME), $0, $1, $2)
            }.trimmingSpaces()
            var count: cl_uint = 0
            let countStatus = clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &count)
            if countStatus == CL_DEVICE_NOT_FOUND { continue }  // a platform with no usable device
            try clCheck(countStatus, "clGetDeviceIDs")
            var ids = [cl_device_id?](repeating: nil, count: Int(count))
            try clCheck(clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), count, &ids, nil),
                        "clGetDeviceIDs")
            for (d, id) in ids.enumerated() {
                guard let id else { continue }
                devices.append(try CLDevice(id: id, platformIndex: p, deviceIndex: d, platformName: platformName))
            }
        }
        return devices
    }

    /// The device `opencl` means among `devices`: the first GPU, else the first device.
    public static func defaultDevice(in devices: [CLDevice]) -> CLDevice? {
        devices.first { $0.kind == .gpu } ?? devices.first
    }

    /// Resolves a device string (`opencl` or `opencl:P:D`).
    public static func select(_ spec: String) throws -> CLDevice {
        try select(spec, from: all())
    }

    public static func select(_ spec: String, from devices: [CLDevice]) throws -> CLDevice {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.first == "opencl" else {
            throw CLError.deviceSelection("'\(spec)' is not an OpenCL device: use 'opencl' or 'opencl:P:D'")
        }
        if parts.count == 1 {
            guard let device = defaultDevice(in: devices) else {
                throw CLError.deviceSelection("no OpenCL device found on any platform")
            }
            return device
        }
        guard parts.count == 3, let p = Int(parts[1]), let d = Int(parts[2]) else {
            throw CLError.deviceSelection("malformed device '\(spec)': expected 'opencl:P:D' with integer P, D")
        }
        if let device = devices.first(where: { $0.platformIndex == p && $0.deviceIndex == d }) { return device }
        let known = devices.map(\.address).joined(separator: ", ")
        throw CLError.deviceSelection(
            "no OpenCL device \(spec) (platform \(p), device \(d)); available: \(known.isEmpty ? "none" : known)")
    }
}
