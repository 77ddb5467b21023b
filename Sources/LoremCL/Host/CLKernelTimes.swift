import Foundation

/// Device time per kernel name, summed over launches, while a context collects it
/// (`CLContext.kernelTimes`): every launch then waits for its event and adds the command's
/// profiled duration, so collect only in a profiling run, never in timed ones. clFFT launches
/// its own kernels; `CLFFTPlan.execute` times each transform on the host instead.
public final class CLKernelTimes: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (seconds: Double, calls: Int)] = [:]

    public init() {}

    func add(_ kernel: String, seconds: Double) {
        lock.withLock {
            let e = entries[kernel] ?? (0, 0)
            entries[kernel] = (e.seconds + seconds, e.calls + 1)
        }
    }

    /// Kernels by total device time, the largest first (ties by name).
    public var totals: [(kernel: String, seconds: Double, calls: Int)] {
        lock.withLock {
            entries.map { (kernel: $0.key, seconds: $0.value.seconds, calls: $0.value.calls) }
                .sorted { ($0.seconds, $1.kernel) > ($1.seconds, $0.kernel) }
        }
    }
}
