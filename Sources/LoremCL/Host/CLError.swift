import COpenCL
import Foundation

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
    /// A buffer larger than the device allows in one allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE),
    /// caught before OpenCL would fail with a bare status. `buffer` names it and its shape;
    /// `context` says what was being evaluated (added by the engine).
    case allocationTooLarge(buffer: String, bytes: Int, limit: Int, device: String, context: String)

    /// Whether this is the device running out of memory (allocation failure, out of resources
    /// or host memory), which drivers that allocate lazily report at the first launch or
    /// transfer that touches a new buffer rather than at clCreateBuffer.
    public var isOutOfMemory: Bool {
        if case .call(_, let status) = self {
            return [CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES, CL_OUT_OF_HOST_MEMORY].contains(status)
        }
        return false
    }

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
        case .allocationTooLarge(let buffer, let bytes, let limit, let device, let context):
            return "cannot allocate \(buffer): it needs \(byteCount(bytes)) but \(device) allows at most "
                + "\(byteCount(limit)) in one buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE)" + (context.isEmpty ? "" : "; \(context)")
        }
    }

    /// The same error with `context` (what was being evaluated, and what to do) added to an
    /// `allocationTooLarge`; any other error is returned unchanged.
    public func adding(context more: String) -> CLError {
        guard case .allocationTooLarge(let buffer, let bytes, let limit, let device, let context) = self else { return self }
        return .allocationTooLarge(buffer: buffer, bytes: bytes, limit: limit, device: device,
                                   context: context.isEmpty ? more : context + "; " + more)
    }
}

/// "7.3 GiB (7864320000 bytes)": readable, and exact for comparison with clinfo.
func byteCount(_ bytes: Int) -> String {
    let units = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
    guard let (name, size) = units.first(where: { bytes >= $0.1 }) else { return "\(bytes) bytes" }
    // Interpolated, not "%d": that format reads a 32-bit integer and printed 12.8 GiB as 849969152 bytes.
    return String(format: "%.1f ", Double(bytes) / Double(size)) + "\(name) (\(bytes) bytes)"
}

/// Throws `CLError.call` unless `status` is CL_SUCCESS.
@inline(__always)
func clCheck(_ status: cl_int, _ call: @autoclosure () -> String) throws {
    if status != CL_SUCCESS { throw CLError.call(call(), status: status) }
}
