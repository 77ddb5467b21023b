import Foundation

/// Device memory held by a context's buffers: every `CLBuffer` adds its size when made and
/// subtracts it when freed, so benchmarks can report the peak device memory of an evaluation
/// (OpenCL has no portable query for it). Buffers waiting in the context's reuse pool
/// (`CLContext.reusingBuffers`) are not in use but still occupy the device: they count as
/// cached, and `peakReservedBytes` is the high-water mark of both together.
public final class CLMemoryLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0
    private var peak = 0
    private var pooled = 0
    private var reservedPeak = 0

    /// Bytes in live buffers now.
    public var bytesInUse: Int { lock.withLock { current } }
    /// The most bytes live at once since the last `resetPeak()`.
    public var peakBytes: Int { lock.withLock { peak } }
    /// Bytes in freed buffers kept for reuse now.
    public var bytesCached: Int { lock.withLock { pooled } }
    /// The most bytes held on the device at once, live or cached, since the last `resetPeak()`:
    /// what the device must actually have.
    public var peakReservedBytes: Int { lock.withLock { reservedPeak } }

    /// Starts new high-water marks from what is held now.
    public func resetPeak() {
        lock.withLock {
            peak = current
            reservedPeak = current + pooled
        }
    }

    func allocated(_ bytes: Int) { change(inUse: bytes, cached: 0) }
    func released(_ bytes: Int) { change(inUse: -bytes, cached: 0) }
    /// A freed buffer kept for reuse.
    func cached(_ bytes: Int) { change(inUse: -bytes, cached: bytes) }
    /// A kept buffer taken again.
    func reused(_ bytes: Int) { change(inUse: bytes, cached: -bytes) }
    /// A kept buffer given back to the driver.
    func uncached(_ bytes: Int) { change(inUse: 0, cached: -bytes) }

    private func change(inUse: Int, cached: Int) {
        lock.withLock {
            current += inUse
            pooled += cached
            peak = max(peak, current)
            reservedPeak = max(reservedPeak, current + pooled)
        }
    }
}
