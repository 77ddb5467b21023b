import COpenCL
import Foundation

/// Device buffers kept for reuse by byte size while an engine evaluates.
///
/// Why: an evaluation makes and frees hundreds of buffers, the pair-sized ones hundreds of MB at
/// 30k atoms. Freed and made again, each costs the driver a fresh allocation; on a CPU device
/// (PoCL) that is fresh pages the kernel must fault in and zero, a quarter of the run time at
/// 32k atoms and growing faster than the atom count. An engine's evaluations repeat the same
/// sizes, so a buffer freed inside a reuse scope waits here and the next request of exactly its
/// size takes it instead.
///
/// Sizes are rounded up to one of 16 steps per power of two above 1 MiB (≤ 6.25% more), so a
/// pair count that drifts a little between evaluations (molecular dynamics) still finds its
/// buffers.
///
/// Lifetime: buffers wait at most until the end of the next scope. Closing the outermost scope
/// frees whatever was cached before the scope began and not taken during it, and the first
/// request the pool cannot serve frees those stale buffers at once, before the driver is asked
/// for more: when the structure changes size, the new sizes never pile on top of the old ones.
/// Outside any scope freed buffers go straight back to the driver. Reuse is safe without events
/// because the context's queue is in order: the next user's commands run after the last one's.
final class CLBufferPool: @unchecked Sendable {
    private struct Entry {
        let mem: cl_mem
        let generation: Int
    }

    private let lock = NSLock()
    private var free: [Int: [Entry]] = [:]
    private var generation = 0
    private var depth = 0
    private let ledger: CLMemoryLedger

    init(ledger: CLMemoryLedger) {
        self.ledger = ledger
    }

    /// The allocation size for a request of `bytes`: exact up to 1 MiB, above that rounded up
    /// to a multiple of 1/16 of the power of two below it.
    static func bucket(_ bytes: Int) -> Int {
        guard bytes > 1 << 20 else { return bytes }
        let step = 1 << (Int.bitWidth - 1 - bytes.leadingZeroBitCount - 4)
        return (bytes + step - 1) / step * step
    }

    /// A cached buffer of exactly `bytes` (a bucket size), counted as in use again; nil when
    /// none waits, after freeing the stale buffers (cached before this scope and still unused).
    func take(bytes: Int) -> cl_mem? {
        let (mem, stale): (cl_mem?, [(cl_mem, Int)]) = lock.withLock {
            if let entry = free[bytes]?.popLast() {
                ledger.reused(bytes)
                return (entry.mem, [])
            }
            return (nil, evict { $0.generation < generation })
        }
        release(stale)
        return mem
    }

    /// Keeps `mem` for reuse inside a scope and returns true; outside one returns false and the
    /// caller releases it.
    func keep(_ mem: cl_mem, bytes: Int) -> Bool {
        lock.withLock {
            guard depth > 0 else { return false }
            free[bytes, default: []].append(Entry(mem: mem, generation: generation))
            ledger.cached(bytes)
            return true
        }
    }

    /// Whether a reuse scope is open.
    var active: Bool { lock.withLock { depth > 0 } }

    func enter() {
        lock.withLock { depth += 1 }
    }

    /// Leaving the outermost scope frees the buffers that waited through a whole scope unused.
    func leave() {
        let stale: [(cl_mem, Int)] = lock.withLock {
            depth -= 1
            guard depth == 0 else { return [] }
            defer { generation += 1 }
            return evict { $0.generation < generation }
        }
        release(stale)
    }

    /// Frees every cached buffer.
    func drain() {
        release(lock.withLock { evict { _ in true } })
    }

    private func evict(_ stale: (Entry) -> Bool) -> [(cl_mem, Int)] {
        var out: [(cl_mem, Int)] = []
        for (bytes, entries) in free {
            let (gone, kept) = (entries.filter(stale), entries.filter { !stale($0) })
            out += gone.map { ($0.mem, bytes) }
            free[bytes] = kept.isEmpty ? nil : kept
        }
        return out
    }

    private func release(_ buffers: [(cl_mem, Int)]) {
        for (mem, bytes) in buffers {
            clReleaseMemObject(mem)
            ledger.uncached(bytes)
        }
    }

    deinit {
        for entries in free.values { for e in entries { clReleaseMemObject(e.mem) } }
    }
}
