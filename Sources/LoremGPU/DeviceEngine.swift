import LoremCL
import LoremIO
import LoremModel
import LoremEngineCore

/// The OpenCL engine: the model's stages on one device in precision T (Float by default, Double
/// for `--precision f64` where the device has cl_khr_fp64), with the same hand-written reverse
/// pass as the reference, stage for stage.
public final class DeviceEngine<T: CLReal>: LoremEngine, StageProfiling, DeviceMemoryReporting {
    public let config: LoremConfig
    public let device: CLDevice
    private let kernels: DeviceKernels<T>
    private let weights: DeviceWeights<T>
    private let speciesPairs: DeviceSpeciesPairs<T>
    private let longRange: DeviceLongRange<T>?
    /// Per-stage wall times of the last evaluation when `profiling` is on (it synchronises the
    /// queue after every stage, so leave it off outside benchmarks).
    public private(set) var lastStageTimes: [(stage: String, seconds: Double)] = []
    /// Device time per kernel of the last evaluation when `profiling` is on (each launch waits).
    public private(set) var lastKernelTimes: [(kernel: String, seconds: Double, calls: Int)] = []
    public var profiling = false
    /// At most this many pairs per chunk of a message-passing stage's pair-sized work (or, without
    /// message passing, of the initial layers' forward), below what the device's limits allow
    /// (`DevicePairChunks.maxPairs`, `initialMaxPairs`); tests force tiny chunks.
    var pairChunkLimit: Int? = nil
    /// Chunks the last evaluation's message-passing stages ran in; without message passing, the
    /// chunks of the initial layers' pair-sized forward (0 where that held all pairs at once).
    private(set) var lastPairChunkCount = 0

    /// `longRange` picks exact Ewald or PME for periodic structures (docs/MATH.md §8, §9).
    /// `maxAllocationBytes` lowers the device's single-buffer limit (a run then behaves as on a
    /// device with that limit: smaller chunks, or an error naming the buffer that does not fit).
    public convenience init(config: LoremConfig, weights: LoremWeights, device: CLDevice,
                            longRange: LongRangeMethod = .ewald, maxAllocationBytes: Int? = nil) throws {
        let context = try maxAllocationBytes.map { try CLContext(device: device, maxAllocationBytes: $0) }
            ?? CLContext.shared(device)
        try self.init(config: config, weights: weights, context: context, longRange: longRange)
    }

    /// On a given context (tests lower its `maxAllocationBytes`).
    init(config: LoremConfig, weights: LoremWeights, context: CLContext, longRange: LongRangeMethod = .ewald) throws {
        let device = context.device
        if T.requiresFP64 && !device.supportsFP64 {
            throw CLError.unsupported("\(device.name) has no cl_khr_fp64: float64 mode is not available on it")
        }
        self.config = config
        self.device = device
        kernels = try DeviceKernels(context: context, cutoff: config.cutoff, radialCount: config.numRadial,
                                    maxDegree: config.maxDegree, bornCharges: config.bornEffectiveCharges)
        self.weights = try DeviceWeights(context, weights)
        speciesPairs = DeviceSpeciesPairs(embedding: weights.initial.embedding, numSpecies: config.numSpecies,
                                          radial: self.weights.initial.radial, dense: kernels.dense)
        self.longRange = try self.weights.longRange.map {
            try DeviceLongRange(weights: $0, config: config, method: longRange, context: context)
        }
    }

    public var deviceMemory: CLMemoryLedger { kernels.context.memory }
    /// The single-buffer limit this engine allocates under (the device's, or a lower one).
    public var maxAllocationBytes: Int { kernels.context.maxAllocationBytes }

    public func evaluate(_ s: Structure, forces wantForces: Bool) throws -> EngineResult {
        try evaluate(batch: [s], forces: wantForces)[0]
    }

    /// Evaluates several structures together: atoms and pairs are concatenated so every stage
    /// runs as one set of launches for the batch (only the neighbour search and the periodic
    /// structures' Ewald loop over structures; all molecules share one direct-sum launch), which
    /// is what makes many small molecules cheap. Results are per structure, identical to
    /// evaluating each alone up to summation order.
    ///
    /// A buffer over the device's single-allocation limit is reported with the batch it came
    /// from and what to do (`CLError.allocationTooLarge`).
    public func evaluate(batch structures: [Structure], forces wantForces: Bool) throws -> [EngineResult] {
        for s in structures { for z in s.numbers where !(1..<100).contains(z) { throw EngineError.unsupportedElement(z) } }
        guard !structures.isEmpty else { return [] }
        let context = kernels.context
        do {
            // Buffers freed in one evaluation are reused by the next of the same sizes. Out of
            // device memory with buffers cached, give those back and run once more without reuse.
            do {
                return try context.reusingBuffers { try run(structures, forces: wantForces) }
            } catch let error as CLError where error.isOutOfMemory && context.memory.bytesCached > 0 {
                context.releaseCachedBuffers()
                return try run(structures, forces: wantForces)
            }
        } catch let error as CLError {
            let atoms = structures.reduce(0) { $0 + $1.count }
            throw error.adding(context: "evaluating a batch of \(structures.count) structure(s), \(atoms) atoms; evaluate fewer "
                + "structures at a time, or, for one structure this large, use a device with a larger limit: "
                + "the pair-sized work runs in chunks of pairs, but the pair list and the pair vectors are held "
                + "for all pairs at once, and with message passing the pair features and their cotangents too")
        }
    }

    private func run(_ structures: [Structure], forces wantForces: Bool) throws -> [EngineResult] {
        let k = kernels
        let numbers = structures.flatMap(\.numbers)
        let timer = StageTimer(context: profiling ? k.context : nil)
        k.context.kernelTimes = profiling ? CLKernelTimes() : nil
        defer {
            lastStageTimes = timer.seconds
            lastKernelTimes = k.context.kernelTimes?.totals ?? []
            k.context.kernelTimes = nil
        }
        try timer.start()
        // Without message passing, where the backward needs neither (`handsOnPerAtomCotangent`),
        // the whole batch's radial basis [P, K] and harmonics [P, (L+1)²] are never held: the
        // initial layers make them a chunk of pairs at a time.
        let inChunks = weights.interactions.isEmpty && DeviceInitialStage<T>.handsOnPerAtomCotangent(config)
        var g = try DeviceGeometry<T>(structures, cutoff: config.cutoff, edgeInputs: !inChunks, k)
        try timer.mark("neighbour list + pair features")
        var initial = DeviceInitialStage(weights: weights.initial, speciesPairs: speciesPairs, config: config)
        let initialChunks = try inChunks ? DevicePairChunks(g, maxPairs: DevicePairChunks<T>.initialMaxPairs(
            config: config, context: k.context, limit: pairChunkLimit), k) : nil
        var (h, A, energies) = try initial.forward(numbers: numbers, g, k, chunks: initialChunks)
        if weights.interactions.isEmpty && !inChunks { try g.dropRadialBasis() }
        // LoremBEC's heads read A after the initial layers and after each iteration, and U of the
        // long range (docs/MATH.md §12.1); each adds into `apt` at once, before A moves on.
        var heads = weights.tensorPredictors.makeIterator()
        let apt = weights.tensorPredictors.isEmpty ? nil : try k.zeros(g.atoms * 9)
        func head(_ x: CLBuffer<T>) throws {
            if let apt, let w = heads.next() { try k.bornCharges!.accumulate(x, rows: g.atoms, w, into: apt) }
        }
        try head(A)
        try timer.mark("initial layers")
        let chunks = try weights.interactions.first.map { first in
            try DevicePairChunks(g, maxPairs: DevicePairChunks<T>.maxPairs(
                config: config, radialWidths: [first.radial.inputs] + first.radial.layers.map(\.outputs),
                context: k.context, limit: pairChunkLimit), k)
        }
        lastPairChunkCount = chunks?.chunks.count ?? initialChunks?.chunks.count ?? 0
        var stages = weights.interactions.map { DeviceInteractionStage(weights: $0, config: config, chunks: chunks!) }
        for t in stages.indices {
            let out = try stages[t].forward(h: h, A: A, g, k)
            (h, A) = (out.h, out.A)
            for i in energies.indices { energies[i] += out.energies[i] }
            try head(A)
        }
        try timer.mark("message passing")
        var lr = longRange?.stage(geometry: g)
        if lr != nil {
            let out = try lr!.forward(h: h, A: A, g, k)
            h = out.h
            for i in energies.indices { energies[i] += out.energies[i] }
            try head(lr!.mixed!)
        }
        try timer.mark("long range")
        let bornCharges = try apt.map { buffer -> [[[Double]]] in
            let z = try buffer.download().map { Double($0) }
            return structures.indices.map { s in
                BornChargeCoupling.acousticSumRule(g.atomRange(s).map { i in Array(z[(9 * i)..<(9 * i + 9)]) })
            }
        }
        let charges = try lr?.hostCharges(g), potentials = try lr?.hostPotentials(g)
        var results = structures.indices.map { s in
            let e = Array(energies[g.atomRange(s)])
            return EngineResult(energy: e.reduce(0, +), perAtomEnergies: e, forces: nil, virial: nil,
                                charges: charges?[s] ?? [], potentials: potentials?[s] ?? [],
                                bornEffectiveCharges: bornCharges?[s])
        }
        guard wantForces else { return results }

        let N = g.atoms, d = config.numFeatures
        let slots = config.sphericalCount * config.numSphericalFeatures
        var hBar = try k.zeros(N * d), aBar = try k.zeros(N * slots)
        var gradient = [SIMD3<Double>](repeating: .zero, count: N)
        var virials = [[Double]](repeating: [Double](repeating: 0, count: 9), count: structures.count)
        if let stage = lr {
            let out = try stage.backward(hBar: hBar, g, k)
            (hBar, aBar) = (out.hBar, out.aBar)
            add(out.gradient, out.virials, to: &gradient, &virials)
        }
        try timer.mark("long range backward")
        let bar = PairFeatureCotangents(g)
        for stage in stages.reversed() {
            (hBar, aBar) = try stage.backward(hBar: hBar, aBar: aBar, g, k, into: bar)
        }
        try timer.mark("message passing backward")
        try initial.backward(hBar: hBar, aBar: aBar, g, k, into: bar)
        try timer.mark("initial layers backward")
        let (pairGradient, pairVirial) = try k.features.backward(g.features, pairs: g.pairs, radialBar: bar.radialSum,
                                                                 harmonicsBar: bar.harmonicsSum, initial: bar.initial,
                                                                 layout: g.layout)
        let w = try pairVirial.download().map { Double($0) }
        add(try downloadVectors(pairGradient), (0..<structures.count).map { Array(w[(9 * $0)..<(9 * $0 + 9)]) },
            to: &gradient, &virials)
        try timer.mark("pair features backward")
        for s in results.indices {
            results[s].forces = gradient[g.atomRange(s)].map { -$0 }
            results[s].virial = (0..<3).map { a in (0..<3).map { b in virials[s][3 * a + b] } }
        }
        return results
    }

    private func add(_ g: [SIMD3<Double>], _ w: [[Double]], to gradient: inout [SIMD3<Double>], _ virials: inout [[Double]]) {
        for i in gradient.indices { gradient[i] += g[i] }
        for s in virials.indices { for c in 0..<9 { virials[s][c] += w[s][c] } }
    }
}

func downloadVectors<T: CLReal>(_ b: CLBuffer<T>) throws -> [SIMD3<Double>] {
    let v = try b.download()
    return (0..<(v.count / 3)).map { (i: Int) -> SIMD3<Double> in
        let x = Double(v[3 * i]), y = Double(v[3 * i + 1]), z = Double(v[3 * i + 2])
        return SIMD3(x, y, z)
    }
}
