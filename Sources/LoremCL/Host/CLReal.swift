/// The floating-point type of a device engine: Float (float32 kernels, every device) or Double
/// (float64 kernels, devices with cl_khr_fp64). Kernel families are generic over it and pass
/// `buildOptions` to the compiler, so one `.cl` source serves both (see Kernels/precision.cl).
public protocol CLReal: BinaryFloatingPoint, BitwiseCopyable, CLKernelArgument, Sendable {
    static var buildOptions: String { get }
    static var requiresFP64: Bool { get }
    /// `values` in this precision. A requirement, so each conforming type converts in its own
    /// compiled loop: `values.map { T($0) }` in generic code ran unspecialised, with witness
    /// calls and metadata lookups per element (~0.19 s of a predict's start with the default
    /// model's weights).
    static func converting(_ values: [Double]) -> [Self]
}

extension Float: CLReal {
    public static var buildOptions: String { "-DREAL=float" }
    public static var requiresFP64: Bool { false }
    public static func converting(_ values: [Double]) -> [Float] { values.map(Float.init) }
}

extension Double: CLReal {
    public static var buildOptions: String { "-DREAL=double -DREAL_IS_DOUBLE" }
    public static var requiresFP64: Bool { true }
    public static func converting(_ values: [Double]) -> [Double] { values }
}

extension CLContext {
    /// The embedded kernel family `family` (Kernels/<family>.cl after Kernels/precision.cl),
    /// built for precision `T` with `defines` (e.g. ["DENSE_TILED"]), once per context.
    public func program<T: CLReal>(family: String, precision: T.Type, defines: [String] = []) throws -> CLProgram {
        if T.requiresFP64 && !device.supportsFP64 {
            throw CLError.unsupported("\(device) has no float64 support (cl_khr_fp64): use float32 precision")
        }
        let options = ([T.buildOptions, "-cl-std=CL1.2"] + defines.sorted().map { "-D\($0)" }).joined(separator: " ")
        return try program(family, options: options, sources: try KernelSource.program(family))
    }
}

extension CLContext {
    /// A kernel family whose per-channel accumulators are sized at compile time
    /// (-D<FAMILY>_CHANNELS=channels), so each channel count builds its own program, once per
    /// context. `owner` names the caller in the error for an unsupported count.
    func channelProgram<T: CLReal>(family: String, precision: T.Type, channels: Int, owner: String,
                                   defines: [String] = []) throws -> CLProgram {
        guard (1...64).contains(channels) else {
            throw CLError.unsupported("\(owner): \(channels) channels (1...64 supported)")
        }
        return try program(family: family, precision: T.self, defines: ["\(family.uppercased())_CHANNELS=\(channels)"] + defines)
    }
}
