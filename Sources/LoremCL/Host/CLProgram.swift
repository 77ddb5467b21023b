import COpenCL

/// A compiled OpenCL program. A failed build throws `CLError.build` carrying the compiler's
/// whole log, since that log is the only way to find a kernel bug on a remote GPU.
public final class CLProgram: @unchecked Sendable {
    public let name: String
    public let options: String
    let program: cl_program
    /// Weak: the context caches its programs, so a strong reference would be a cycle.
    private weak var context: CLContext?

    init(context: CLContext, name: String, source: String, options: String) throws {
        self.context = context
        self.name = name
        self.options = options
        var status: cl_int = CL_SUCCESS
        let created: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context.context, 1, &pointer, nil, &status)
        }
        guard let program = created, status == CL_SUCCESS else {
            throw CLError.call("clCreateProgramWithSource(\(name))", status: status)
        }
        var deviceID: cl_device_id? = context.device.id
        let buildStatus = clBuildProgram(program, 1, &deviceID, options, nil, nil)
        if buildStatus != CL_SUCCESS {
            let log = (try? CLInfo.string("clGetProgramBuildInfo") {
                clGetProgramBuildInfo(program, context.device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2)
            }) ?? "(no build log available)"
            clReleaseProgram(program)
            throw CLError.build(program: name, options: options, status: buildStatus, log: log)
        }
        // Stored only once built: a throwing init with every property set would run deinit,
        // releasing the failed program a second time.
        self.program = program
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
