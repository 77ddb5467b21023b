import COpenCL
import Foundation

/// An OpenCL context on one device with its single in-order queue (profiling on, so benchmarks
/// can read kernel times from events), and the programs built for it.
///
/// In-order execution is what makes a chain of kernels correct without explicit events; it
/// also keeps results deterministic. OpenCL contexts, queues and programs are thread-safe by
/// the specification, hence @unchecked Sendable; kernels are not, and are not shared.
public final class CLContext: @unchecked Sendable {
    public let device: CLDevice
    /// The largest buffer `CLBuffer` will ask for: the device's CL_DEVICE_MAX_MEM_ALLOC_SIZE, or
    /// less when lowered at creation (tests, or rehearsing a smaller device).
    public let maxAllocationBytes: Int
    let context: cl_context
    let queue: cl_command_queue
    private let lock = NSLock()
    private var programs: [String: CLProgram] = [:]
    /// Bytes of the buffers alive on this context, and their high-water mark.
    public let memory = CLMemoryLedger()

    public init(device: CLDevice, maxAllocationBytes limit: Int? = nil) throws {
        self.device = device
        let deviceLimit = Int(clamping: device.maxAllocationBytes)
        maxAllocationBytes = min(limit ?? deviceLimit, deviceLimit)
        var status: cl_int = CL_SUCCESS
        var deviceID: cl_device_id? = device.id
        guard let context = clCreateContext(nil, 1, &deviceID, nil, nil, &status), status == CL_SUCCESS else {
            throw CLError.call("clCreateContext", status: status)
        }
        let properties = cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE)
        guard let queue = clCreateCommandQueue(context, device.id, properties, &status), status == CL_SUCCESS else {
            clReleaseContext(context)
            throw CLError.call("clCreateCommandQueue", status: status)
        }
        self.context = context
        self.queue = queue
    }

    deinit {
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedContexts: [String: CLContext] = [:]

    /// The process-wide context of `device`. Going through it is what makes each program
    /// compile once per process per device (PoCL spends seconds in LLVM per build).
    public static func shared(_ device: CLDevice) throws -> CLContext {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let context = sharedContexts[device.address] { return context }
        let context = try CLContext(device: device)
        sharedContexts[device.address] = context
        return context
    }

    /// The program `name` built with `options`, compiled on first request and cached.
    /// `sources` is consulted only on that first build.
    public func program(_ name: String, options: String, sources: @autoclosure () throws -> String) throws
        -> CLProgram
    {
        lock.lock()
        defer { lock.unlock() }
        let key = name + "\u{0}" + options
        if let program = programs[key] { return program }
        let program = try CLProgram(context: self, name: name, source: sources(), options: options)
        programs[key] = program
        return program
    }

    /// Blocks until every queued command has finished.
    public func finish() throws {
        try clCheck(clFinish(queue), "clFinish")
    }
}
