import COpenCL
import Foundation

/// clFFT's library state: `clfftSetup` before the first plan, `clfftTeardown` after the last.
/// Plans hold a reference, so the library is torn down exactly when the last plan is gone,
/// however many contexts and engines a process makes.
final class CLFFTLibrary: @unchecked Sendable {
    private static let lock = NSLock()
    nonisolated(unsafe) private static weak var current: CLFFTLibrary?

    private init() throws {
        // clfftInitSetupData is an inline function of the header; fill the same fields here.
        var data = clfftSetupData()
        data.major = cl_uint(clfftVersionMajor)
        data.minor = cl_uint(clfftVersionMinor)
        data.patch = cl_uint(clfftVersionPatch)
        data.debugFlags = 0
        var (major, minor, patch) = (cl_uint(0), cl_uint(0), cl_uint(0))
        try fftCheck(clfftGetVersion(&major, &minor, &patch), "clfftGetVersion")
        CLProgramCache.fromEnvironment().shareWithClFFT(libraryVersion: "\(major).\(minor).\(patch)")
        try fftCheck(clfftSetup(&data), "clfftSetup")
    }

    deinit { clfftTeardown() }

    /// The live library, set up on first use.
    static func acquire() throws -> CLFFTLibrary {
        lock.lock()
        defer { lock.unlock() }
        if let library = current { return library }
        let library = try CLFFTLibrary()
        current = library
        return library
    }
}

/// A baked clFFT plan for `batch` in-place 3D complex transforms of one mesh shape, in one
/// direction: forward (e^{−2πi m·g/n}) or backward (e^{+2πi m·g/n}, unnormalised: scale 1), on
/// interleaved complex meshes [batch][n0][n1][n2] (C order).
///
/// Why complex and in place: PME transforms real meshes, two channels to one complex mesh (real
/// and imaginary part; `PMEKernels`), so half as many transforms; in place, a complex plan also
/// needs no scratch of clFFT's, where R2C/C2R needed the half spectra's size. Measured in one
/// profiled evaluation of NaCl 12³ (112³ mesh, 10 channels, PoCL f32): 20 complex transforms
/// 462–537 ms against 40 real ones 551–692 ms (Benchmarks/README.md, "Channel pairs").
public final class CLFFTPlan {
    public enum Direction: Sendable { case forward, backward }

    public let size: SIMD3<Int>
    public let batch: Int
    public let direction: Direction
    private var handle: clfftPlanHandle = 0
    private let library: CLFFTLibrary
    private let context: CLContext

    /// Complex elements per transform (n0·n1·n2).
    public var count: Int { size.x * size.y * size.z }

    public init<T: CLReal>(context: CLContext, size n: SIMD3<Int>, batch: Int, direction: Direction, precision: T.Type) throws {
        guard n.x > 0, n.y > 0, n.z > 0, batch > 0 else {
            throw CLError.unsupported("clFFT plan: mesh \(n) × batch \(batch) is empty")
        }
        library = try CLFFTLibrary.acquire()
        self.context = context
        self.size = n
        self.batch = batch
        self.direction = direction
        // clFFT lists the fastest-varying axis first: lengths (n2, n1, n0) for a C-ordered mesh.
        var lengths = [Int(n.z), Int(n.y), Int(n.x)]
        var strides = [1, n.z, n.z * n.y]
        try fftCheck(clfftCreateDefaultPlan(&handle, context.context, CLFFT_3D, &lengths), "clfftCreateDefaultPlan(\(n))")
        try configure("clfftSetPlanPrecision") { clfftSetPlanPrecision($0, T.requiresFP64 ? CLFFT_DOUBLE : CLFFT_SINGLE) }
        try configure("clfftSetLayout") { clfftSetLayout($0, CLFFT_COMPLEX_INTERLEAVED, CLFFT_COMPLEX_INTERLEAVED) }
        try configure("clfftSetResultLocation") { clfftSetResultLocation($0, CLFFT_INPLACE) }
        try configure("clfftSetPlanInStride") { clfftSetPlanInStride($0, CLFFT_3D, &strides) }
        try configure("clfftSetPlanOutStride") { clfftSetPlanOutStride($0, CLFFT_3D, &strides) }
        try configure("clfftSetPlanBatchSize") { clfftSetPlanBatchSize($0, batch) }
        try configure("clfftSetPlanDistance") { clfftSetPlanDistance($0, n.x * n.y * n.z, n.x * n.y * n.z) }
        try configure("clfftSetPlanScale") { clfftSetPlanScale($0, direction == .forward ? CLFFT_FORWARD : CLFFT_BACKWARD, 1) }
        var queue: cl_command_queue? = context.queue
        // clFFT generates and builds its kernels here; PoCL prints the compiler's warnings on
        // stderr the first time it sees a shape, which would interleave with our output.
        let status = StandardError.silenced { clfftBakePlan(handle, 1, &queue, nil, nil) }
        try fftCheck(status, "clfftBakePlan(\(n), batch \(batch))")
    }

    /// Bytes of scratch the baked plan needs (clfftGetTmpBufSize): none for the in-place complex
    /// transforms of 2, 3, 5 and 7-smooth meshes seen so far; counted when a plan asks.
    public var scratchBytes: Int {
        var size = 0
        guard clfftGetTmpBufSize(handle, &size) == CLFFT_SUCCESS else { return 0 }
        return size
    }

    private func configure(_ call: String, _ body: (clfftPlanHandle) -> clfftStatus) throws {
        try fftCheck(body(handle), call)
    }

    deinit { clfftDestroyPlan(&handle) }

    /// Enqueues the transform of `meshes` in place on the context's in-order queue.
    public func execute<T: CLReal>(_ meshes: CLBuffer<T>) throws {
        guard meshes.count >= 2 * batch * count else {
            throw CLError.sizeMismatch("clFFT \(direction) \(size) × \(batch): a buffer of \(meshes.count) reals, "
                + "needs \(2 * batch * count)")
        }
        var queue: cl_command_queue? = context.queue
        var buffers: [cl_mem?] = [meshes.mem]
        let sign = direction == .forward ? CLFFT_FORWARD : CLFFT_BACKWARD
        // Our own scratch, not clFFT's: left to itself clFFT keeps a buffer of `scratchBytes` per
        // plan for the plan's life, outside the memory ledger (two plans: 555 MiB at 200³, for
        // 85,184 atoms of NaCl). This one comes from the context's reuse pool, is counted, and
        // goes back as soon as the transform is queued (the queue is in order; OpenCL keeps a
        // released buffer until the commands using it are done).
        let bytes = scratchBytes
        let scratch = bytes > 0 ? try CLBuffer<UInt8>(context, count: bytes, name: "clFFT scratch") : nil
        // Profiling runs: clFFT launches its own kernels (one or several passes), so the transform
        // is timed on the host between two queue drains and reported under one name.
        let times = context.kernelTimes
        if times != nil { try context.finish() }
        let start = DispatchTime.now().uptimeNanoseconds
        try fftCheck(clfftEnqueueTransform(handle, sign, 1, &queue, 0, nil, nil, &buffers, nil, scratch?.mem),
                     "clfftEnqueueTransform(\(size), batch \(batch))")
        if let times {
            try context.finish()
            let name = "clFFT " + (direction == .forward ? "forward" : "backward")
            times.add(name, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        withExtendedLifetime(scratch) {}
    }
}

/// Throws `CLError.call` for a clFFT status other than CLFFT_SUCCESS (clFFT returns OpenCL
/// codes, plus its own from 4096 up).
func fftCheck(_ status: clfftStatus, _ call: @autoclosure () -> String) throws {
    let code = Int32(truncatingIfNeeded: status.rawValue)
    if code != CL_SUCCESS { throw CLError.call(call(), status: code) }
}

/// Temporarily points file descriptor 2 at /dev/null.
enum StandardError {
    static func silenced<R>(_ body: () -> R) -> R {
        fflush(nil)
        let saved = dup(2), null = open("/dev/null", O_WRONLY)
        guard saved >= 0, null >= 0 else { return body() }
        dup2(null, 2)
        close(null)
        defer {
            fflush(nil)
            dup2(saved, 2)
            close(saved)
        }
        return body()
    }
}
