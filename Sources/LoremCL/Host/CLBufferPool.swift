import COpenCL
import Foundation

/// Device buffers kept for reuse by byte size while an engine evaluates.
///
/// Why: an evaluation makes and frees hundreds of buffers, the pair-sized ones hundreds of MB at
/// 30k atoms. Freed and made again, each costs the driver a fresh allocation; on a CPU device
/// (PoCL) that is fresh pages the kernel must fault in and zero, a quarter of the run time at
/// 32k atoms and growing faster than the atom count. An engine's evaluations repeat the same
/// sizes, so a buffer freed inside a reuse scope waits here and the next request of its size
/// takes it instead.
///
/// Sizes are rounded up to one of 16 steps per power of two above 64 KiB (≤ 6.25% more), so a
/// pair count that drifts a little between evaluations (molecular dynamics) still finds its
/// buffers.
///
/// Memory: the reuse scope that closes last sets a budget, an eighth above the most bytes its
/// buffers had live at once. Closing it gives back cached buffers beyond the budget, and a
/// request the pool cannot serve that would push the device past the budget (by more than an
/// eighth of the request) first frees cached buffers, stale ones (cached before the current
/// scope, still unused) first, those nearest the requested size first: when sizes change, new
/// buffers replace old ones instead of piling on top. Why a budget on live bytes: buffers are
/// kept by size, so the pool would otherwise hold, for every size, as many buffers as were ever
/// live at once, together: 26–43% above the live peak for 12–14k atoms with lorem-jax's
/// defaults (Benchmarks/README.md), paid for by a few fresh allocations per scope. Closing the
/// outermost scope frees whatever waited through it unused. Outside any scope freed buffers go
/// straight back to the driver.
///
/// Safety: reuse needs no events because the context has one in-order queue: the next user's
/// commands run after the last one's. Scopes are counted per context, so a context serves one
/// evaluating thread at a time (as engines do).
final class CLBufferPool: @unchecked Sendable {
    private struct Entry {
        let mem: cl_mem
        let bytes: Int
        let generation: Int
    }

    private let lock = NSLock()
    private var free: [Int: [Entry]] = [:]
    private var generation = 0
    private var depth = 0
    /// An eighth above the live peak of the last outermost scope (0: no scope yet).
    private var budget = 0
    /// The most bytes live at once in this scope so far, counting each request as made.
    private var scopePeak = 0
    private let ledger: CLMemoryLedger

    init(ledger: CLMemoryLedger) {
        self.ledger = ledger
    }

    /// The allocation size for a request of `bytes`: exact up to 64 KiB, above that rounded up
    /// to a multiple of 1/16 of the power of two below it.
    static func bucket(_ bytes: Int) -> Int {
        guard bytes > 1 << 16 else { return bytes }
        let step = 1 << (Int.bitWidth - 1 - bytes.leadingZeroBitCount - 4)
        return (bytes + step - 1) / step * step
    }

    /// A cached buffer of exactly `bytes` (a bucket size), counted as in use again; nil when
    /// none waits, after making room within the budget for the new allocation.
    func take(bytes: Int) -> cl_mem? {
        let (mem, stale): (cl_mem?, [Entry]) = lock.withLock {
            scopePeak = max(scopePeak, ledger.bytesInUse + bytes)
            if let entry = free[bytes]?.popLast() {
                if free[bytes]!.isEmpty { free[bytes] = nil }
                ledger.reused(bytes)
                return (entry.mem, [])
            }
            return (nil, makeRoom(for: bytes))
        }
        release(stale)
        return mem
    }

    /// Cached entries, stale ones first and nearest in size to `bytes` first, until the
    /// allocation fits the budget within an eighth of its size (a size class that moved up a
    /// bucket replaces its old buffer and may grow by the difference).
    private func makeRoom(for bytes: Int) -> [Entry] {
        guard budget > 0 else { return [] }
        return evict(excess: ledger.bytesInUse + ledger.bytesCached + bytes - budget, slack: bytes / 8, near: bytes)
    }

    private func evict(excess: Int, slack: Int, near bytes: Int) -> [Entry] {
        var excess = excess
        guard excess > slack else { return [] }
        let order = free.values.joined()
            .sorted { ($0.generation < generation ? 0 : 1, abs($0.bytes - bytes), $0.bytes)
                < ($1.generation < generation ? 0 : 1, abs($1.bytes - bytes), $1.bytes) }
        var out: [Entry] = []
        for e in order where excess > slack {
            out.append(e)
            excess -= e.bytes
        }
        remove(out)
        return out
    }

    /// Keeps `mem` for reuse inside a scope and returns true; outside one returns false and the
    /// caller releases it.
    func keep(_ mem: cl_mem, bytes: Int) -> Bool {
        lock.withLock {
            guard depth > 0 else { return false }
            free[bytes, default: []].append(Entry(mem: mem, bytes: bytes, generation: generation))
            ledger.cached(bytes)
            return true
        }
    }

    /// Whether a reuse scope is open.
    var active: Bool { lock.withLock { depth > 0 } }

    func enter() {
        lock.withLock { depth += 1 }
    }

    /// Leaving the outermost scope frees the buffers that waited through a whole scope unused,
    /// sets the budget from the scope's live peak and gives back the cached buffers beyond it
    /// (the largest first: the fewest fresh allocations in the next scope).
    func leave() {
        let stale: [Entry] = lock.withLock {
            depth -= 1
            guard depth == 0 else { return [] }
            var out = free.values.joined().filter { $0.generation < generation }
            remove(out)
            generation += 1
            budget = scopePeak + scopePeak / 8
            scopePeak = 0
            let held = ledger.bytesInUse + ledger.bytesCached - out.reduce(0) { $0 + $1.bytes }
            out += evict(excess: held - budget, slack: 0, near: .max)
            return out
        }
        release(stale)
    }

    /// Frees every cached buffer.
    func drain() {
        release(lock.withLock {
            let out = Array(free.values.joined())
            free = [:]
            return out
        })
    }

    private func remove(_ entries: [Entry]) {
        let gone = Set(entries.map { UInt(bitPattern: $0.mem) })
        for (bytes, list) in free {
            let kept = list.filter { !gone.contains(UInt(bitPattern: $0.mem)) }
            free[bytes] = kept.isEmpty ? nil : kept
        }
    }

    private func release(_ entries: [Entry]) {
        for e in entries {
            clReleaseMemObject(e.mem)
            ledger.uncached(e.bytes)
        }
    }

    deinit {
        for entries in free.values { for e in entries { clReleaseMemObject(e.mem) } }
    }
}
