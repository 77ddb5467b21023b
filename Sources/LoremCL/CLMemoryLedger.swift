import Foundation

/// Device memory held by a context's buffers: every `CLBuffer` adds its size when made and
/// subtracts it when freed, so benchmarks can report the peak device memory of an evaluation
/// (OpenCL has no portable query for it).
public final class CLMemoryLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0
    private var peak = 0

    /// Bytes in live buffers now.
    public var bytesInUse: Int { lock.withLock { current } }
    /// The most bytes live at once since the last `resetPeak()`.
    public var peakBytes: Int { lock.withLock { peak } }

    /// Starts a new high-water mark from what is live now.
    public func resetPeak() { lock.withLock { peak = current } }

    func allocated(_ bytes: Int) {
        lock.withLock {
            current += bytes
            peak = max(peak, current)
        }
    }

    func released(_ bytes: Int) { lock.withLock { current -= bytes } }
}
