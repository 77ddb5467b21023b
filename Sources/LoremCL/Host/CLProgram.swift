import COpenCL

/// A compiled OpenCL program. A failed build throws `CLError.build` carrying the compiler's
/// whole log, since that log is the only way to find a kernel bug on a remote GPU.
public final class CLProgram: @unchecked Sendable {
    public let name: String
    public let options: String
    let program: cl_program
    /// Weak: the context caches its programs, so a strong reference would be a cycle.
    private weak var context: CLContext?

    /// Whether this program was loaded from the on-disk cache (`CLProgramCache`) rather than
    /// compiled from its source.
    public let fromCache: Bool

    init(context: CLContext, name: String, source: String, options: String) throws {
        self.context = context
        self.name = name
        self.options = options
        let cache = context.programCache
        let header = cache.directory.map { _ in
            CLProgramCache.header(identity: CLProgramCache.identity(device: context.device, options: options), source: source)
        }
        var deviceID: cl_device_id? = context.device.id
        if let header, let binary = cache.load(header: header),
           let program = Self.program(binary: binary, context: context, options: options)
        {
            self.program = program
            fromCache = true
            return
        }
        var status: cl_int = CL_SUCCESS
        let created: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context.context, 1, &pointer, nil, &status)
        }
        guard let program = created, status == CL_SUCCESS else {
            throw CLError.call("clCreateProgramWithSource(\(name))", status: status)
        }
        let buildStatus = clBuildProgram(program, 1, &deviceID, options, nil, nil)
        if buildStatus != CL_SUCCESS {
            let log = (try? CLInfo.string("clGetProgramBuildInfo") {
                clGetProgramBuildInfo(program, context.device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2)
            }) ?? "(no build log available)"
            clReleaseProgram(program)
            throw CLError.build(program: name, options: options, status: buildStatus, log: log)
        }
        if let header, let binary = Self.binary(of: program) { cache.store(binary, header: header) }
        // Stored only once built: a throwing init with every property set would run deinit,
        // releasing the failed program a second time.
        self.program = program
        fromCache = false
    }

    /// A program built from a cached binary, or nil where the driver refuses it (the caller
    /// then compiles the source).
    private static func program(binary: [UInt8], context: CLContext, options: String) -> cl_program? {
        var deviceID: cl_device_id? = context.device.id
        var status: cl_int = CL_SUCCESS, binaryStatus: cl_int = CL_SUCCESS
        var length = binary.count
        let created: cl_program? = binary.withUnsafeBufferPointer { bytes in
            var pointer: UnsafePointer<UInt8>? = bytes.baseAddress
            return clCreateProgramWithBinary(context.context, 1, &deviceID, &length, &pointer, &binaryStatus, &status)
        }
        guard let program = created else { return nil }
        guard status == CL_SUCCESS, binaryStatus == CL_SUCCESS,
              clBuildProgram(program, 1, &deviceID, options, nil, nil) == CL_SUCCESS
        else {
            clReleaseProgram(program)
            return nil
        }
        return program
    }

    /// The driver's binary of a built one-device program, or nil if it gives none.
    private static func binary(of program: cl_program) -> [UInt8]? {
        var size = 0
        guard clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
            == CL_SUCCESS, size > 0 else { return nil }
        var binary = [UInt8](repeating: 0, count: size)
        let status = binary.withUnsafeMutableBufferPointer { bytes in
            var pointer: UnsafeMutablePointer<UInt8>? = bytes.baseAddress
            return clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutablePointer<UInt8>?>.size,
                                    &pointer, nil)
        }
        return status == CL_SUCCESS ? binary : nil
    }

    deinit { clReleaseProgram(program) }

    /// A fresh kernel object for the `__kernel` function `name` (kernels hold their arguments,
    /// so each owner gets its own).
    public func kernel(_ name: String) throws -> CLKernel {
        guard let context else {
            throw CLError.unsupported("program '\(self.name)' was used after its CLContext was released")
        }
        var status: cl_int = CL_SUCCESS
        guard let kernel = clCreateKernel(program, name, &status), status == CL_SUCCESS else {
            throw CLError.call("clCreateKernel(\(self.name).\(name))", status: status)
        }
        return CLKernel(kernel: kernel, name: name, context: context)
    }
}
