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
            sitesPeak = sitesTotal
            sitesAtPeak = sites
            stageAtPeak = stage
        }
    }

    // MARK: allocation sites

    private var tracking = false
    private var sites: [String: (bytes: Int, buffers: Int)] = [:]
    private var sitesTotal = 0
    private var sitesPeak = 0
    private var sitesAtPeak: [String: (bytes: Int, buffers: Int)] = [:]
    private var stage = ""
    private var stageAtPeak = ""

    /// Whether buffers made from now on are counted by allocation site (`CLBuffer`'s caller,
    /// file:line, or its name): what `peakSites` reports. Off by default, since it formats a
    /// string per buffer. Why: the total peak says how much, not which buffers; the issue's
    /// memory target needs the second.
    public var tracksSites: Bool {
        get { lock.withLock { tracking } }
        set { lock.withLock { tracking = newValue } }
    }

    /// The stage the owner last finished, for `peakSites`: set by the engine's stage timer.
    public func enter(stage name: String) {
        lock.withLock { stage = name }
    }

    /// Live bytes and buffer counts per allocation site at the moment the tracked buffers were
    /// largest together since the last `resetPeak()`, the largest first; and the last stage
    /// entered then.
    public var peakSites: (stage: String, sites: [(site: String, bytes: Int, buffers: Int)]) {
        lock.withLock {
            (stageAtPeak, sitesAtPeak.map { (site: $0.key, bytes: $0.value.bytes, buffers: $0.value.buffers) }
                .sorted { ($0.bytes, $1.site) > ($1.bytes, $0.site) })
        }
    }

    /// The site label of a buffer made now, or nil when sites are not tracked.
    func site(_ label: () -> String) -> String? {
        lock.withLock { tracking } ? label() : nil
    }

    func opened(_ site: String, _ bytes: Int) {
        lock.withLock {
            sites[site, default: (0, 0)].bytes += bytes
            sites[site, default: (0, 0)].buffers += 1
            sitesTotal += bytes
            if sitesTotal > sitesPeak {
                sitesPeak = sitesTotal
                sitesAtPeak = sites
                stageAtPeak = stage
            }
        }
    }

    func closed(_ site: String, _ bytes: Int) {
        lock.withLock {
            let left = sites[site, default: (0, 0)]
            sites[site] = left.buffers > 1 ? (left.bytes - bytes, left.buffers - 1) : nil
            sitesTotal -= bytes
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
