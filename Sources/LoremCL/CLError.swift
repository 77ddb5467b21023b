import COpenCL

/// Everything that can go wrong on the OpenCL side, as a value: the host layer never traps on a
/// driver status, so a missing device or an out-of-memory GPU reaches the user as a message
/// naming the call that failed.
public enum CLError: Error, CustomStringConvertible, Equatable {
    /// An OpenCL call returned a status other than CL_SUCCESS.
    case call(String, status: Int32)
    /// A program failed to compile; `log` is the compiler's full build log.
    case build(program: String, options: String, status: Int32, log: String)
    /// The ICD loader found no OpenCL platform (no driver installed, or no ICD file).
    case noPlatform
    /// A device string that names no device (`opencl:P:D` out of range, malformed).
    case deviceSelection(String)
    /// A host array and a device buffer (or a kernel's operands) disagree in size.
    case sizeMismatch(String)
    /// A requested feature the device lacks (e.g. float64 without cl_khr_fp64).
    case unsupported(String)

    public var description: String {
        switch self {
        case .call(let call, let status):
            return "OpenCL call \(call) failed with \(CLStatus.name(status))"
        case .build(let program, let options, let status, let log):
            return "OpenCL program '\(program)' failed to build (\(CLStatus.name(status))) with options "
                + "'\(options)'. Build log:\n\(log)"
        case .noPlatform:
            return "no OpenCL platform found: install an OpenCL driver (e.g. pocl-opencl-icd for the CPU) "
                + "and check /etc/OpenCL/vendors"
        case .deviceSelection(let message), .sizeMismatch(let message), .unsupported(let message):
            return message
        }
    }
}

/// Throws `CLError.call` unless `status` is CL_SUCCESS.
@inline(__always)
func clCheck(_ status: cl_int, _ call: @autoclosure () -> String) throws {
    if status != CL_SUCCESS { throw CLError.call(call(), status: status) }
}
