import COpenCL

/// A device buffer of `count` elements of `T`. Transfers are blocking and size-checked: a host
/// array of the wrong length is a `CLError.sizeMismatch`, never a silent partial copy.
public final class CLBuffer<T: BitwiseCopyable>: CLKernelArgument, @unchecked Sendable {
    public let count: Int
    let mem: cl_mem
    /// Bytes asked of the driver: the element bytes, rounded up inside a reuse scope
    /// (`CLBufferPool.bucket`).
    let allocatedBytes: Int
    let context: CLContext
    /// Where it was made, when the context's ledger counts sites (`CLMemoryLedger.tracksSites`).
    private let site: String?

    /// An uninitialised buffer (inside `CLContext.reusingBuffers`, possibly one freed earlier, still
    /// holding its old contents). OpenCL rejects zero-byte buffers, so an empty one holds one
    /// unused element (empty batches then need no special case in the caller).
    ///
    /// A buffer over the context's `maxAllocationBytes` is a `CLError.allocationTooLarge` naming
    /// `name` (or the element count), not a bare OpenCL status later: pair-sized buffers grow
    /// with the structure and are the first to hit the device's single-allocation limit.
    ///
    /// `file` and `line` name the caller for `CLMemoryLedger.peakSites`.
    public init(_ context: CLContext, count: Int, name: @autoclosure () -> String? = nil,
                file: StaticString = #fileID, line: UInt = #line) throws {
        precondition(count >= 0)
        self.context = context
        self.count = count
        var status: cl_int = CL_SUCCESS
        let (product, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        let bytes = overflow ? Int.max : product
        guard bytes <= context.maxAllocationBytes else {
            throw CLError.allocationTooLarge(buffer: name() ?? "a buffer of \(count) \(T.self) values", bytes: bytes,
                                             limit: context.maxAllocationBytes, device: context.device.description,
                                             context: "")
        }
        let size = context.allocationSize(bytes)
        allocatedBytes = size
        site = context.memory.site { name().map { "\($0) (\(file):\(line))" } ?? "\(file):\(line)" }
        if let reused = try context.reusedBuffer(bytes: size) {
            mem = reused
            if let site { context.memory.opened(site, size) }
            return
        }
        var made = clCreateBuffer(context.context, cl_mem_flags(CL_MEM_READ_WRITE), size, nil, &status)
        if made == nil || status != CL_SUCCESS, context.memory.bytesCached > 0 {
            // Out of device memory with buffers cached for reuse: give those back and try once more.
            context.releaseCachedBuffers()
            made = clCreateBuffer(context.context, cl_mem_flags(CL_MEM_READ_WRITE), size, nil, &status)
        }
        guard let mem = made, status == CL_SUCCESS else {
            throw CLError.call("clCreateBuffer(\(size) bytes)", status: status)
        }
        self.mem = mem
        context.memory.allocated(size)
        if let site { context.memory.opened(site, size) }
    }

    /// An uninitialised buffer of shape [d₀ × d₁ × …] (row-major); the shape and `name` label
    /// it in an `allocationTooLarge` error ("edge basis [120000 × 16 × 8]").
    public convenience init(_ context: CLContext, shape: [Int], name: String,
                            file: StaticString = #fileID, line: UInt = #line) throws {
        try self.init(context, count: shape.reduce(1, *),
                      name: "\(name) [\(shape.map { String($0) }.joined(separator: " × "))]", file: file, line: line)
    }

    public convenience init(_ context: CLContext, _ values: [T], name: @autoclosure () -> String? = nil,
                            file: StaticString = #fileID, line: UInt = #line) throws {
        try self.init(context, count: values.count, name: name(), file: file, line: line)
        try upload(values)
    }

    /// A buffer of `count` copies of `value`, filled on the device (clEnqueueFillBuffer): no host
    /// array, no transfer. Zeroing the pair-feature cotangents ([P, K] and [P, (L+1)²]) through
    /// an upload took 755 ms of a 2.8 s evaluation of 85,184 atoms on an H200.
    public convenience init(_ context: CLContext, count: Int, filledWith value: T,
                            name: @autoclosure () -> String? = nil, file: StaticString = #fileID, line: UInt = #line) throws {
        try self.init(context, count: count, name: name(), file: file, line: line)
        try fill(value)
    }

    deinit {
        if let site { context.memory.closed(site, allocatedBytes) }
        context.recycle(mem, bytes: allocatedBytes)
    }

    /// Sets every element to `value` on the device.
    public func fill(_ value: T) throws {
        // OpenCL takes patterns of 1, 2, 4, …, 128 bytes.
        let size = MemoryLayout<T>.stride
        precondition(size <= 128 && size & (size - 1) == 0, "fill needs an element of 1, 2, 4, …, 128 bytes, not \(size)")
        if count == 0 { return }
        var pattern = value
        try clCheck(clEnqueueFillBuffer(context.queue, mem, &pattern, MemoryLayout<T>.stride, 0,
                                        count * MemoryLayout<T>.stride, 0, nil, nil), "clEnqueueFillBuffer")
    }

    public func upload(_ values: [T]) throws {
        guard values.count == count else {
            throw CLError.sizeMismatch("upload of \(values.count) elements into a buffer of \(count)")
        }
        if count == 0 { return }
        try values.withUnsafeBytes { bytes in
            try clCheck(clEnqueueWriteBuffer(context.queue, mem, cl_bool(CL_TRUE), 0, bytes.count, bytes.baseAddress,
                                             0, nil, nil), "clEnqueueWriteBuffer")
        }
    }

    /// Waits for the queue up to this point (in-order) and returns the contents.
    public func download() throws -> [T] {
        if count == 0 { return [] }
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            try clCheck(clEnqueueReadBuffer(context.queue, mem, cl_bool(CL_TRUE), 0, count * MemoryLayout<T>.stride,
                                            buffer.baseAddress, 0, nil, nil), "clEnqueueReadBuffer")
            initialized = count
        }
    }

    /// Copies `count` elements of `source` starting at `sourceOffset` to this buffer at
    /// `offset`, on the device (slicing a batch into per-structure buffers and back).
    public func copy(from source: CLBuffer<T>, sourceOffset: Int = 0, offset: Int = 0, count n: Int) throws {
        guard n >= 0, sourceOffset >= 0, offset >= 0, sourceOffset + n <= source.count, offset + n <= count else {
            throw CLError.sizeMismatch(
                "copy of \(n) elements from [\(sourceOffset)…] of \(source.count) to [\(offset)…] of \(count)")
        }
        if n == 0 { return }
        let size = MemoryLayout<T>.stride
        try clCheck(clEnqueueCopyBuffer(context.queue, source.mem, mem, sourceOffset * size, offset * size, n * size,
                                        0, nil, nil), "clEnqueueCopyBuffer")
    }

    public func bind(to kernel: cl_kernel, index: cl_uint) throws {
        var handle: cl_mem? = mem
        try clCheck(clSetKernelArg(kernel, index, MemoryLayout<cl_mem?>.size, &handle), "clSetKernelArg(\(index))")
    }

    /// Throws unless the buffer holds at least `rows × cols` elements (buffers may be larger
    /// workspaces reused across batches).
    func require(_ rows: Int, _ cols: Int, _ what: String) throws {
        guard count >= rows * cols else {
            throw CLError.sizeMismatch("\(what): buffer of \(count) elements cannot hold \(rows)×\(cols)")
        }
    }
}
