import COpenCL

/// A value that can be bound to a kernel argument: buffers and the scalar types kernels take.
public protocol CLKernelArgument {
    func bind(to kernel: cl_kernel, index: cl_uint) throws
}

extension CLKernelArgument where Self: BitwiseCopyable {
    public func bind(to kernel: cl_kernel, index: cl_uint) throws {
        var value = self
        try clCheck(clSetKernelArg(kernel, index, MemoryLayout<Self>.size, &value), "clSetKernelArg(\(index))")
    }
}

extension Int32: CLKernelArgument {}
extension UInt32: CLKernelArgument {}
extension Float: CLKernelArgument {}
extension Double: CLKernelArgument {}

/// A NULL `__global` pointer, for optional operands (a Dense layer without bias).
public struct CLNullBuffer: CLKernelArgument {
    public init() {}
    public func bind(to kernel: cl_kernel, index: cl_uint) throws {
        try clCheck(clSetKernelArg(kernel, index, MemoryLayout<cl_mem?>.size, nil), "clSetKernelArg(\(index), NULL)")
    }
}

/// One `__kernel` function, launched on its context's queue. Not thread-safe (OpenCL kernel
/// arguments are state), so each kernel family owns its kernels.
public final class CLKernel {
    public let name: String
    let kernel: cl_kernel
    let context: CLContext

    init(kernel: cl_kernel, name: String, context: CLContext) {
        self.kernel = kernel
        self.name = name
        self.context = context
    }

    deinit { clReleaseKernel(kernel) }

    /// CL_KERNEL_WORK_GROUP_SIZE: the largest work-group this compiled kernel runs on the
    /// context's device (register use can make it smaller than the device's maximum).
    public func maxWorkGroupSize() throws -> Int {
        var size = 0
        try clCheck(clGetKernelWorkGroupInfo(kernel, context.device.id, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE),
                                             MemoryLayout<Int>.size, &size, nil), "clGetKernelWorkGroupInfo(\(name))")
        return size
    }

    /// Binds `arguments` in order and enqueues the kernel over `global` (1–3 dimensions), with
    /// work-group size `local` or the driver's choice. Returns the event, for profiling.
    @discardableResult
    public func launch(global: [Int], local: [Int]? = nil, _ arguments: any CLKernelArgument...) throws -> CLEvent {
        try launch(global: global, local: local, arguments: arguments)
    }

    /// The same, with the arguments in an array (argument lists that vary with options).
    @discardableResult
    public func launch(global: [Int], local: [Int]? = nil, arguments: [any CLKernelArgument]) throws -> CLEvent {
        for (index, argument) in arguments.enumerated() {
            do { try argument.bind(to: kernel, index: cl_uint(index)) } catch CLError.call(let call, let status) {
                throw CLError.call("\(name): \(call)", status: status)
            }
        }
        precondition((1...3).contains(global.count) && (local == nil || local!.count == global.count))
        var event: cl_event?
        let globalSizes = global.map { Int($0) }
        let status: cl_int = globalSizes.withUnsafeBufferPointer { g in
            if let local {
                return local.withUnsafeBufferPointer { l in
                    clEnqueueNDRangeKernel(context.queue, kernel, cl_uint(global.count), nil, g.baseAddress,
                                           l.baseAddress, 0, nil, &event)
                }
            }
            return clEnqueueNDRangeKernel(context.queue, kernel, cl_uint(global.count), nil, g.baseAddress, nil, 0,
                                          nil, &event)
        }
        try clCheck(status, "clEnqueueNDRangeKernel(\(name), global \(global), local \(local.map { "\($0)" } ?? "auto"))")
        let completion = CLEvent(event!)
        if let times = context.kernelTimes { times.add(name, seconds: try completion.seconds()) }
        return completion
    }
}

/// A command's completion event; its profiling times give the device-side duration.
public final class CLEvent {
    let event: cl_event
    init(_ event: cl_event) { self.event = event }
    deinit { clReleaseEvent(event) }

    /// Device time between the command's start and end, in seconds (waits for it).
    public func seconds() throws -> Double {
        var e: cl_event? = event
        try clCheck(clWaitForEvents(1, &e), "clWaitForEvents")
        func time(_ param: Int32) throws -> cl_ulong {
            try CLInfo.scalar("clGetEventProfilingInfo", cl_ulong.self) {
                clGetEventProfilingInfo(event, cl_profiling_info(param), $0, $1, $2)
            }
        }
        return Double(try time(CL_PROFILING_COMMAND_END) - time(CL_PROFILING_COMMAND_START)) * 1e-9
    }
}
