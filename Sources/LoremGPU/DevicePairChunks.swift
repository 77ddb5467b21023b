import LoremCL
import LoremModel

/// The pairs of a batch split into chunks of whole centres, so that a message-passing stage
/// (`DeviceInteractionStage`) never holds more than one chunk's pair-sized tensors: the radial
/// MLP's [P, 2d] input, hidden layers and [P, K·d] output, e [P, d], the edge basis and the
/// per-pair tensor products (docs/MATH.md §7.2 step 9). Pairs are sorted by centre, so a chunk
/// is a contiguous pair range and its centres' messages are complete within it. Without message
/// passing the initial layers' forward runs in such chunks (`DeviceInitialStage`): the radial
/// basis, harmonics and pair coefficients of one chunk at a time.
///
/// Each chunk has its own row maps (chunk-local pair rows, all N atoms as sources). Sums over
/// pairs go through `PairKernels.segmentSum(accumulating:)` into one zeroed buffer, chunk after
/// chunk, which adds every row's terms in the same order as one launch over all pairs: results
/// are bit-identical for any chunking. One chunk is the whole batch and uses the geometry's own
/// maps and features, without copies. (Per-row kernels must also give a row the same bits
/// wherever it falls in a launch: the CPU dense kernel's 4-row blocks and its tail rows compute
/// the same expression, which PoCL compiles alike; `PairChunkTests` checks this on the device.)
///
/// Chunk size: at most `pairsPerChunk` pairs, and within 1/8 of the device's memory for one
/// chunk's working set (the rest of an evaluation, the per-pair features and their cotangents,
/// the long range's meshes and the per-atom caches, needs the remainder at 100k atoms).
struct DevicePairChunks<T: CLReal> {
    struct Chunk {
        let pairs: Range<Int>
        let centers: CLRowMap
        let others: CLRowMap
    }

    let chunks: [Chunk]
    /// One chunk of all pairs, with the geometry's own maps and features.
    let isWhole: Bool

    /// Chunks of at most `maxPairs` pairs, from the host pair list; a centre with more pairs
    /// than that is a chunk of its own.
    init(_ g: DeviceGeometry<T>, maxPairs: Int, _ k: DeviceKernels<T>) throws {
        let P = g.pairCount
        if P <= maxPairs {
            isWhole = true
            chunks = [Chunk(pairs: 0..<P, centers: g.centers, others: g.others)]
            return
        }
        isWhole = false
        var chunks: [Chunk] = []
        var start = 0
        while start < P {
            var end = min(start + max(maxPairs, 1), P)
            // Back to the first pair of the centre `end` falls in; forward past one centre whose
            // pairs alone exceed the limit.
            while end < P, end > start, g.hostCenters[end - 1] == g.hostCenters[end] { end -= 1 }
            if end == start {
                end = start + 1
                while end < P, g.hostCenters[end] == g.hostCenters[start] { end += 1 }
            }
            let r = start..<end
            chunks.append(Chunk(pairs: r,
                                centers: try CLRowMap(k.context, index: Array(g.hostCenters[r]), sources: g.atoms),
                                others: try CLRowMap(k.context, index: Array(g.hostOthers[r]), sources: g.atoms)))
            start = end
        }
        self.chunks = chunks
    }

    /// At most this many pairs a chunk, whatever the device holds: launches of 32k pairs × d
    /// features are large on any device, and the chunk's working set stays small beside the rest
    /// of an evaluation. Measured with the built-in model on 13,824-atom NaCl (PoCL, one run):
    /// device memory 4128 → 1341 MiB against chunks filling 1/8 of the device, at the same speed
    /// (6.24 vs 6.28 s per evaluation).
    static var pairsPerChunk: Int { 32_768 }

    /// Pairs per chunk for a stage of `config` in precision T on `context`: the largest
    /// pair-sized buffer within the single-allocation limit, and a chunk's working set within
    /// 1/8 of the device's memory (see the type's comment). `limit` (tests) caps it further.
    static func maxPairs(config: LoremConfig, radialWidths: [Int], context: CLContext, limit: Int?) -> Int {
        let (d, s, K) = (config.numFeatures, config.numSphericalFeatures, config.numRadial)
        let slots = config.sphericalCount
        let size = MemoryLayout<T>.stride
        // Widest pair row: the radial MLP's layers (K·d at the output), the edge basis and the
        // message tensors [slots, s].
        let widest = max(radialWidths.max() ?? 0, K * d, 2 * d, slots * s)
        // A chunk's pair rows alive at once in its backward: the radial MLP's activations and
        // their cotangents, the coefficient cotangent [K·d], e, ē, [h_c ‖ h_o] and its split, the
        // edge basis, the filtered basis and per-pair tensor products with their cotangents.
        let perPair = (radialWidths.reduce(0, +) * 2 + K * d + 8 * d + 6 * slots * s + K + slots) * size
        let byBuffer = context.maxAllocationBytes / max(widest * size, 1)
        let byMemory = Int(clamping: context.device.globalMemoryBytes / 8) / max(perPair, 1)
        return max(1, min(byBuffer, byMemory, Self.pairsPerChunk, limit ?? .max))
    }

    /// Pairs per chunk of the initial layers' pair-sized forward (no message passing): the
    /// radial basis [K], harmonics [(L+1)²] and pair coefficients [(L+1)·s] of a pair, as
    /// `maxPairs`; `pairsPerChunk` is 18 MiB of them in float32 at lorem-jax's defaults.
    static func initialMaxPairs(config: LoremConfig, context: CLContext, limit: Int?) -> Int {
        let (K, slots, c) = (config.numRadial, config.sphericalCount, (config.maxDegree + 1) * config.numSphericalFeatures)
        let size = MemoryLayout<T>.stride
        let byBuffer = context.maxAllocationBytes / max(max(K, slots, c) * size, 1)
        let byMemory = Int(clamping: context.device.globalMemoryBytes / 8) / max((K + slots + c) * size + 4, 1)
        return max(1, min(byBuffer, byMemory, Self.pairsPerChunk, limit ?? .max))
    }

    /// Rows `chunk.pairs` of a pair-sized buffer of `columns` columns: the buffer itself for the
    /// whole batch, else a copy.
    func rows<E>(_ b: CLBuffer<E>, columns: Int, of chunk: Chunk, _ k: DeviceKernels<T>) throws -> CLBuffer<E> {
        if isWhole { return b }
        let slice = try CLBuffer<E>(k.context, count: chunk.pairs.count * columns)
        try slice.copy(from: b, sourceOffset: chunk.pairs.lowerBound * columns, count: chunk.pairs.count * columns)
        return slice
    }

    /// full[chunk rows] += x, in place, with the same additions as adding a whole [P, columns]
    /// buffer. For chunks of a split batch: a whole batch's cotangent is a whole buffer, added
    /// as one (`PairFeatureCotangents.add`).
    func add(_ x: CLBuffer<T>, toRowsOf full: CLBuffer<T>, columns: Int, of chunk: Chunk, _ k: DeviceKernels<T>) throws {
        precondition(!isWhole, "DevicePairChunks.add is for chunks of a split batch")
        let n = chunk.pairs.count * columns
        let slice = try rows(full, columns: columns, of: chunk, k)
        try k.accumulate(slice, x, count: n)
        try full.copy(from: slice, offset: chunk.pairs.lowerBound * columns, count: n)
    }
}
