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
    private let pool: CLBufferPool
    /// Tests: fill every reused buffer with 0xFF bytes (NaN, or -1) before handing it out, so a
    /// kernel that reads a buffer it never wrote shows up as NaN instead of passing by luck on
    /// a freshly zeroed allocation.
    public var poisonReusedBuffers = false
    /// While set, every kernel launch on this context waits for its event and adds its device
    /// time here (profiling runs only; set and read from the evaluating thread).
    public var kernelTimes: CLKernelTimes? = nil
    /// Tests: false makes `reusingBuffers` a plain call (every buffer fresh), a baseline.
    var reuseEnabled = true
    /// Where built programs are kept between runs (`CLProgramCache`); set before the first
    /// program is requested.
    var programCache = CLProgramCache.fromEnvironment()

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
        pool = CLBufferPool(ledger: memory)
    }

    deinit {
        pool.drain()
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

    /// Runs `body` with buffer reuse on: buffers freed inside are kept by byte size and handed
    /// to the next request of that size (`CLBufferPool`). Engines wrap each evaluation in it;
    /// nested scopes join the outermost. What waited through a whole outermost scope unused is
    /// freed when it ends.
    ///
    /// Scopes are counted per context: one thread evaluates on a context at a time. Cached
    /// buffers stay on the device between evaluations; `releaseCachedBuffers` gives them back.
    public func reusingBuffers<R>(_ body: () throws -> R) rethrows -> R {
        guard reuseEnabled else { return try body() }
        pool.enter()
        defer { pool.leave() }
        return try body()
    }

    /// Gives every buffer kept for reuse back to the driver.
    public func releaseCachedBuffers() {
        pool.drain()
    }

    /// The bytes to allocate for a buffer of `bytes`: bucketed inside a reuse scope, so that
    /// nearly equal sizes share buffers, never past the single-allocation limit.
    func allocationSize(_ bytes: Int) -> Int {
        pool.active ? min(CLBufferPool.bucket(bytes), maxAllocationBytes) : bytes
    }

    func reusedBuffer(bytes: Int) throws -> cl_mem? {
        guard let mem = pool.take(bytes: bytes) else { return nil }
        if poisonReusedBuffers {
            var pattern: UInt8 = 0xFF
            let status = clEnqueueFillBuffer(queue, mem, &pattern, 1, 0, bytes, 0, nil, nil)
            guard status == CL_SUCCESS else {
                recycle(mem, bytes: bytes)
                throw CLError.call("clEnqueueFillBuffer", status: status)
            }
        }
        return mem
    }

    func recycle(_ mem: cl_mem, bytes: Int) {
        if !pool.keep(mem, bytes: bytes) {
            clReleaseMemObject(mem)
            memory.released(bytes)
        }
    }

    /// Blocks until every queued command has finished.
    public func finish() throws {
        try clCheck(clFinish(queue), "clFinish")
    }
}
