import LoremEngineCore

/// Exact Ewald summation on the device (Kernels/ewald.cl), mirroring LoremReference's
/// `EwaldSummation` for `channels` charge channels at once: the potentials V = A(R, h)·q of
/// docs/MATH.md §8 (with jax-pme's ½), the charge cotangent (§10.2 G5) and, in
/// EwaldKernels+Gradient.swift, the explicit geometric gradient (§10.2 G2, G3, G6).
///
/// Charges, potentials and cotangents are [N, channels] row-major. The channel count is a
/// compile-time constant of the program (per-channel accumulators live in registers), so each
/// count builds its own program once per context. Launches are on the context's in-order
/// queue; only the gradient's virial waits for the device.
public final class EwaldKernels<T: CLReal> {
    public let context: CLContext
    public let channels: Int
    let moments, structureFactors, blockSums, forward, direct: CLKernel
    let pairGradients, gather, kspaceGradient, kspaceVirial, directGradient: CLKernel
    /// Work-group size of the molecules' tiled direct sum, and the source rows per tile; nil for
    /// the rows shape.
    let directTile: Int?

    /// The direct-sum kernels' launch shape: work-groups of `directTile` when tiled.
    func directLaunch(_ count: Int) -> (global: [Int], local: [Int]?) {
        guard let tile = directTile else { return ([roundUp(count, 64)], nil) }
        return ([roundUp(count, tile)], [tile])
    }

    /// The largest power of two ≤ 64 whose tile (positions, charges and cotangents of that many
    /// rows, plus the group's ranges) takes at most 3/4 of the device's local memory.
    static func directTile(channels: Int, device: CLDevice) -> Int {
        let rowBytes = (3 + 2 * channels) * MemoryLayout<T>.stride + 8
        var tile = 64
        while tile > 1, tile * rowBytes > device.localMemoryBytes * 3 / 4 || tile > device.maxWorkGroupSize { tile /= 2 }
        return tile
    }

    /// `directShape` picks the molecules' direct-sum loops (`KernelShape.preferred` by default:
    /// tiled on GPUs); both give the same bits.
    public init(context: CLContext, channels: Int, directShape: KernelShape? = nil) throws {
        self.context = context
        self.channels = channels
        let shape = directShape ?? .preferred(for: context.device)
        var tile = shape == .tiled ? Self.directTile(channels: channels, device: context.device) : nil
        var program: CLProgram
        while true {
            let defines = tile.map { ["DIRECT_TILED", "DIRECT_TILE=\($0)"] } ?? []
            program = try context.channelProgram(family: "ewald", precision: T.self, channels: channels,
                                                 owner: "EwaldKernels", defines: defines)
            // The tiled kernels require work-groups of exactly DIRECT_TILE: halve it until the
            // compiled kernels accept that many work-items.
            guard let t = tile, t > 1 else { break }
            let limit = min(try program.kernel("ewald_direct_potentials").maxWorkGroupSize(),
                            try program.kernel("ewald_direct_gradient").maxWorkGroupSize())
            if limit >= t { break }
            tile = t / 2
        }
        directTile = tile
        moments = try program.kernel("ewald_moments")
        structureFactors = try program.kernel("ewald_structure_factors")
        blockSums = try program.kernel("ewald_block_sums")
        forward = try program.kernel("ewald_potentials")
        direct = try program.kernel("ewald_direct_potentials")
        pairGradients = try program.kernel("ewald_pair_gradients")
        gather = try program.kernel("pair_gradient_gather")
        kspaceGradient = try program.kernel("ewald_kspace_gradient")
        kspaceVirial = try program.kernel("ewald_kspace_virial")
        directGradient = try program.kernel("ewald_direct_gradient")
    }

    /// V [N, C] for charges q [N, C] (§8.2 for bulk and slabs, §8.3 for molecules).
    ///
    /// Periodic: moments (Q, M, M₂ per channel), then pass 1 over k (C_k, S_k), then one
    /// work-item per atom for real space, pass 2 over k, self, background and slab. Both k passes
    /// take e^{i k·R_j} from the geometry's per-atom phase table (two complex products), not sin/cos.
    public func potentials(_ q: CLBuffer<T>, _ geometry: EwaldGeometry<T>, into v: CLBuffer<T>) throws {
        try potentials(q, geometry, into: v, sharing: nil)
    }

    /// `potentials`, with q's structure factors and moments already computed (`sharing`, from
    /// `geometryGradientSharing` of the same geometry) or computed here (nil).
    func potentials(_ q: CLBuffer<T>, _ geometry: EwaldGeometry<T>, into v: CLBuffer<T>, sharing: EwaldFactors<T>?) throws {
        let n = geometry.atomCount
        try q.require(n, channels, "Ewald charges")
        try v.require(n, channels, "Ewald potentials")
        guard n > 0 else { return }
        if let molecule = geometry.molecule { return try potentials(q, molecule, into: v) }
        let chargeMoments = try sharing?.moments ?? self.chargeMoments(q, geometry)
        let sf = try sharing?.structureFactors ?? self.structureFactors(q, geometry)
        let normal = geometry.slabNormal
        try forward.launch(
            global: [roundUp(n, 64)], geometry.positions, q, geometry.rowStarts, geometry.others,
            geometry.pairVectors, geometry.kVectors, geometry.kTriples, geometry.phases, Int32(geometry.phaseColumns),
            geometry.phaseOrigins.x, geometry.phaseOrigins.y, geometry.phaseOrigins.z, sf, chargeMoments, Int32(n), Int32(geometry.kVectorCount),
            T(geometry.smearing), T(geometry.volume), T(normal.x), T(normal.y), T(normal.z), T(geometry.slabHeight),
            Int32(geometry.hasSlab ? 1 : 0), v)
    }

    public func potentials(_ q: CLBuffer<T>, _ geometry: EwaldGeometry<T>) throws -> CLBuffer<T> {
        let v = try CLBuffer<T>(context, count: geometry.atomCount * channels)
        try potentials(q, geometry, into: v)
        return v
    }

    /// q̄ = ∂(Σ V̄·V)/∂q = A·V̄: A is symmetric (§10.2 G5), so the charge cotangent is the
    /// forward applied to the cotangent as charges.
    public func chargeCotangent(_ vbar: CLBuffer<T>, _ geometry: EwaldGeometry<T>) throws -> CLBuffer<T> {
        try potentials(vbar, geometry)
    }

    // MARK: Shared passes

    /// [C, 3]: Q, M = Σ x z, M₂ = Σ x z² per channel (z along the slab normal; 0 for bulk).
    func chargeMoments(_ x: CLBuffer<T>, _ geometry: EwaldGeometry<T>) throws -> CLBuffer<T> {
        let out = try CLBuffer<T>(context, count: 3 * channels)
        let normal = geometry.slabNormal
        try moments.launch(global: [channels], geometry.positions, x, Int32(geometry.atomCount),
                           T(normal.x), T(normal.y), T(normal.z), out)
        return out
    }

    /// [N_k, 2C]: C_k then S_k of every channel of x.
    func structureFactors(_ x: CLBuffer<T>, _ geometry: EwaldGeometry<T>) throws -> CLBuffer<T> {
        let k = geometry.kVectorCount
        let out = try CLBuffer<T>(context, count: k * 2 * channels)
        if k > 0 {
            let o = geometry.phaseOrigins
            try structureFactors.launch(global: [roundUp(k, 64)], geometry.phases, x, geometry.kTriples,
                                        Int32(geometry.atomCount), Int32(k), Int32(geometry.phaseColumns),
                                        o.x, o.y, o.z, out)
        }
        return out
    }

    /// Column sums of `buffer` [rows, cols]: fixed-order device blocks of 256 rows, added on the
    /// host in float64 (deterministic, and short float32 chains).
    func columnSums(_ buffer: CLBuffer<T>, rows: Int, cols: Int) throws -> [Double] {
        guard rows > 0 else { return [Double](repeating: 0, count: cols) }
        let blockRows = 256, blocks = (rows + blockRows - 1) / blockRows
        let partial = try CLBuffer<T>(context, count: blocks * cols)
        try blockSums.launch(global: [cols, blocks], buffer, Int32(rows), Int32(cols), Int32(blockRows), partial)
        let values = try partial.download()
        var sums = [Double](repeating: 0, count: cols)
        for b in 0..<blocks { for c in 0..<cols { sums[c] += Double(values[b * cols + c]) } }
        return sums
    }
}

/// The per-channel k-space sums of one set of charges on one geometry: structure factors
/// (C_k, S_k) and moments (Q, M, M₂). Computed once for V̄ in the backward, they serve both the
/// geometry gradient and q̄ = A·V̄.
struct EwaldFactors<T: CLReal> {
    let structureFactors: CLBuffer<T>
    let moments: CLBuffer<T>
}
