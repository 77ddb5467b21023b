import COpenCL

/// One OpenCL device and the facts the engine and `lorem-gpu devices` need about it.
/// `platformIndex:deviceIndex` is its address in the `opencl:P:D` device syntax.
public struct CLDevice: @unchecked Sendable, CustomStringConvertible {
    /// cl_device_id handles are plain identifiers owned by the driver for the process lifetime
    /// (root devices are never released), hence @unchecked Sendable.
    public let id: cl_device_id
    public let platformIndex: Int
    public let deviceIndex: Int
    public let platformName: String
    public let name: String
    public let kind: Kind
    public let globalMemoryBytes: UInt64
    /// CL_DEVICE_MAX_MEM_ALLOC_SIZE: the largest single buffer the device can allocate (often a
    /// quarter of its memory), which bounds every pair-sized buffer.
    public let maxAllocationBytes: UInt64
    public let computeUnits: Int
    /// CL_DEVICE_LOCAL_MEM_SIZE: the work-group shared memory that tiled kernels size tiles by.
    public let localMemoryBytes: Int
    /// CL_DEVICE_MAX_WORK_GROUP_SIZE.
    public let maxWorkGroupSize: Int
    /// Whether the device runs double precision: `cl_khr_fp64` or a non-zero double FP config.
    public let supportsFP64: Bool
    public let version: String

    public enum Kind: String, Sendable {
        case gpu = "GPU", cpu = "CPU", accelerator = "accelerator", other = "other"
    }

    public var address: String { "opencl:\(platformIndex):\(deviceIndex)" }

    public var description: String { "\(address) \(name) (\(platformName), \(kind.rawValue))" }

    init(id: cl_device_id, platformIndex: Int, deviceIndex: Int, platformName: String) throws {
        func string(_ param: Int32) throws -> String {
            try CLInfo.string("clGetDeviceInfo") { clGetDeviceInfo(id, cl_device_info(param), $0, $1, $2) }
        }
        func scalar<T: BitwiseCopyable>(_ param: Int32, _ type: T.Type) throws -> T {
            try CLInfo.scalar("clGetDeviceInfo", type) { clGetDeviceInfo(id, cl_device_info(param), $0, $1, $2) }
        }
        self.id = id
        self.platformIndex = platformIndex
        self.deviceIndex = deviceIndex
        self.platformName = platformName
        name = try string(CL_DEVICE_NAME).trimmingSpaces()
        version = try string(CL_DEVICE_VERSION).trimmingSpaces()
        let type = try scalar(CL_DEVICE_TYPE, cl_device_type.self)
        kind = type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 ? .gpu
            : type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? .cpu
            : type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? .accelerator : .other
        globalMemoryBytes = try scalar(CL_DEVICE_GLOBAL_MEM_SIZE, cl_ulong.self)
        maxAllocationBytes = try scalar(CL_DEVICE_MAX_MEM_ALLOC_SIZE, cl_ulong.self)
        computeUnits = Int(try scalar(CL_DEVICE_MAX_COMPUTE_UNITS, cl_uint.self))
        localMemoryBytes = Int(clamping: try scalar(CL_DEVICE_LOCAL_MEM_SIZE, cl_ulong.self))
        maxWorkGroupSize = try scalar(CL_DEVICE_MAX_WORK_GROUP_SIZE, Int.self)
        let extensions = try string(CL_DEVICE_EXTENSIONS).split(separator: " ")
        // OpenCL 1.0 drivers may reject this query; the extension string then decides alone.
        let doubleConfig = (try? scalar(CL_DEVICE_DOUBLE_FP_CONFIG, cl_device_fp_config.self)) ?? 0
        supportsFP64 = extensions.contains("cl_khr_fp64") || doubleConfig != 0
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
