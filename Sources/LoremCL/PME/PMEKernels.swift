import LoremEngineCore

/// Smooth PME on the device (Kernels/pme.cl + clFFT), the reciprocal part of the long range for
/// `channels` charge channels, mirroring LoremReference's `PMEMesh`: potentials (docs/MATH.md §9)
/// and the explicit geometric gradient and virial (§10.2 G6 on the mesh). Real space, self,
/// background and slab terms are `EwaldKernels`' (an `EwaldGeometry` built from the same PME
/// summation has no k-vectors), and `EwaldOperator` puts the two together.
///
/// Channels go through the mesh in pairs and groups. Two real channels share one complex mesh
/// (real and imaginary part) and its in-place complex transforms: G·B is real and even, so the
/// pair's potentials come back as the real and imaginary parts of one inverse transform, with
/// half as many transforms as channels (`CLFFTPlan`). Groups of pairs (spread, transform,
/// convolution, inverse transform, gather; the gradient and virial in the backward) bound the
/// memory: the meshes and spectra are those of one group at a time. A geometry's group width is the largest eligible
/// divisor of `channels` whose pair meshes fit `groupBytes`, else the narrowest eligible: even
/// widths, so that every group's pairs are the same channels (2j, 2j + 1) and the numbers do
/// not depend on the width, or all channels, or one (for an odd count). With channel groups of
/// single channels (13,824 atoms of NaCl, lorem-jax's defaults, f32 on PoCL) the engine's peak
/// went 754 → 599 MiB held, time unchanged (alternating runs against d95d676).
///
/// clFFT plans (forward and backward, batch = the group's pairs) are made on first use of a mesh
/// shape and kept for the life of this object; the library itself is set up and torn down by
/// `CLFFTLibrary`.
public final class PMEKernels<T: CLReal> {
    public let context: CLContext
    public let channels: Int
    /// The kernels that loop over a group's channels, compiled per group width.
    struct GroupKernels {
        let spread, convolve, gather, gradient, virial: CLKernel
    }
    private var groupKernels: [Int: GroupKernels] = [:]
    let influence, segmentCounts, segmentCandidates: CLKernel
    private var plans: [SIMD4<Int>: (forward: CLFFTPlan, backward: CLFFTPlan)] = [:]

    /// Spreading's work split: rows (CPUs, the default there) one work-item per segment of mesh
    /// points from candidate lists made once per geometry (`pme_spread_segments`), tiled (GPUs)
    /// one work-item per point, walking its blocks; same bits.
    let spreadShape: KernelShape
    /// Mesh points per work-item of `pme_spread_segments` (SPREAD_SEGMENT), at most the order.
    static var spreadSegment: Int { 8 }

    /// Largest mesh of one channel group, in bytes (8 MiB: 2 M float32 mesh points).
    public static var defaultGroupBytes: Int { 8 << 20 }
    /// The fixed group width, or nil for the width chosen per geometry from `groupBytes`.
    let fixedGroup: Int?
    let groupBytes: Int

    /// `group` fixes the group width (a divisor of `channels`; tests); without it each geometry
    /// gets `groupWidth(meshPoints:)`.
    public init(context: CLContext, channels: Int, group: Int? = nil, groupBytes: Int = defaultGroupBytes,
                spreadShape: KernelShape? = nil) throws {
        self.context = context
        self.channels = channels
        if let group {
            guard group > 0, channels % group == 0 else {
                throw CLError.unsupported("PMEKernels: channel groups of \(group) do not divide \(channels) channels")
            }
        }
        fixedGroup = group
        self.groupBytes = groupBytes
        self.spreadShape = spreadShape ?? .preferred(for: context.device)
        let program = try Self.program(context, channels: channels, width: 1)
        segmentCounts = try program.kernel("pme_segment_counts")
        segmentCandidates = try program.kernel("pme_segment_candidates")
        influence = try program.kernel("pme_influence")
    }

    private static func program(_ context: CLContext, channels: Int, width: Int) throws -> CLProgram {
        try context.channelProgram(family: "pme", precision: T.self, channels: width, owner: "PMEKernels",
                                   defines: ["PME_STRIDE=\(channels)", "SPREAD_SEGMENT=\(Self.spreadSegment)"])
    }

    func kernels(width: Int) throws -> GroupKernels {
        if let made = groupKernels[width] { return made }
        let program = try Self.program(context, channels: channels, width: width)
        let made = GroupKernels(spread: try program.kernel(spreadShape == .rows ? "pme_spread_segments" : "pme_spread"),
                                convolve: try program.kernel("pme_convolve"), gather: try program.kernel("pme_gather"),
                                gradient: try program.kernel("pme_gradient"), virial: try program.kernel("pme_virial"))
        groupKernels[width] = made
        return made
    }

    /// The group width for a mesh of `meshPoints`: the largest divisor of `channels` that is
    /// even, all channels, or 1, whose ⌈width/2⌉ complex meshes take at most `groupBytes`; when
    /// none fits, 2 (one pair) or, for an odd count of channels, 1.
    public func groupWidth(meshPoints: Int) -> Int {
        if let fixedGroup { return fixedGroup }
        let perPair = max(1, 2 * meshPoints * MemoryLayout<T>.stride)
        let eligible = (1...channels).filter { channels % $0 == 0 && ($0 % 2 == 0 || $0 == channels || $0 == 1) }
        return eligible.last { ($0 + 1) / 2 * perPair <= groupBytes } ?? (channels % 2 == 0 ? 2 : 1)
    }

    /// Uploads the mesh of `summation` (built with `reciprocal: .pme`), fills its influence
    /// function G(k)B(m)/V (evened in m, `pme_influence`) on the half spectrum and, for rows-shaped spreading, its segments'
    /// candidate lists (a count pass, the host's prefix sum, a fill pass).
    public func geometry(_ summation: EwaldSummation) throws -> PMEGeometry<T> {
        let g = try PMEGeometry<T>(context: context, summation: summation)
        g.group = groupWidth(meshPoints: g.realCount)
        let n = g.size
        try influence.launch(global: [n.x, n.y, n.z / 2 + 1], g.moduli, g.basis, Int32(n.x), Int32(n.y), Int32(n.z),
                             T(g.smearing), T(g.volume), g.influence)
        if spreadShape == .rows, g.atomCount > 0 {
            // An entry packs the atom with 5 bits of z offset (< 2p − 1 ≤ 23).
            guard g.atomCount < 1 << 26, g.order <= 12 else {
                throw CLError.unsupported("PME spreading by segments: \(g.atomCount) atoms at order \(g.order) (at most 2²⁶ atoms, order 12)")
            }
            let segments = n.x * n.y * ((n.z + spreadSegment(g) - 1) / spreadSegment(g))
            let counts = try CLBuffer<Int32>(context, count: segments)
            try segmentCounts.launch(global: [roundUp(segments, 64)], g.bases, g.weights, g.blockStart, g.blockAtoms,
                                     Int32(n.x), Int32(n.y), Int32(n.z), Int32(g.order), Int32(segments), counts)
            var start = [Int32](repeating: 0, count: segments + 1), total = 0
            for (t, c) in try counts.download().enumerated() {
                total += Int(c)
                guard total <= Int(Int32.max) else {
                    throw CLError.unsupported("PME spreading: more than 2³¹ − 1 candidates on a \(n) mesh")
                }
                start[t + 1] = Int32(total)
            }
            let starts = try CLBuffer<Int32>(context, start)
            let lists = (start: starts, entries: try CLBuffer<Int32>(context, count: max(total, 1)),
                         weights: try CLBuffer<T>(context, count: max(total, 1)))
            try segmentCandidates.launch(global: [roundUp(segments, 64)], g.bases, g.weights, g.blockStart, g.blockAtoms,
                                         Int32(n.x), Int32(n.y), Int32(n.z), Int32(g.order), Int32(segments), starts,
                                         lists.entries, lists.weights)
            g.segments = lists
        }
        return g
    }

    /// Mesh points per segment of rows-shaped spreading.
    private func spreadSegment(_ g: PMEGeometry<T>) -> Int { min(Self.spreadSegment, g.order) }

    private func plan(_ g: PMEGeometry<T>) throws -> (forward: CLFFTPlan, backward: CLFFTPlan) {
        let (n, width) = (g.size, g.group), key = SIMD4(n.x, n.y, n.z, width)
        if let cached = plans[key] { return cached }
        let made = (forward: try CLFFTPlan(context: context, size: n, batch: g.pairs, direction: .forward, precision: T.self),
                    backward: try CLFFTPlan(context: context, size: n, batch: g.pairs, direction: .backward, precision: T.self))
        plans[key] = made
        return made
    }

    /// Q [⌈G/2⌉, M] complex: the charges of x's columns first … first+G−1 spread onto the mesh
    /// (§9), channel first+2j the real and first+2j+1 the imaginary part of pair j.
    func spreadMesh(_ x: CLBuffer<T>, first: Int, _ g: PMEGeometry<T>) throws -> CLBuffer<T> {
        let n = g.size, mesh = try CLBuffer<T>(context, count: 2 * g.pairs * g.realCount)
        let spread = try kernels(width: g.group).spread
        if spreadShape == .rows {
            guard let lists = g.segments else {
                throw CLError.unsupported("PME spreading by segments needs a geometry made by PMEKernels.geometry")
            }
            let segments = n.x * n.y * ((n.z + spreadSegment(g) - 1) / spreadSegment(g))
            try spread.launch(global: [roundUp(segments, 64)], g.weights, x, lists.start, lists.entries, lists.weights,
                              Int32(n.x), Int32(n.y), Int32(n.z), Int32(g.order), Int32(first), mesh)
        } else {
            try spread.launch(global: [roundUp(g.realCount, 64)], g.bases, g.weights, x, g.blockStart, g.blockAtoms,
                              Int32(n.x), Int32(n.y), Int32(n.z), Int32(g.order), Int32(first), mesh)
        }
        return mesh
    }

    /// The spectra F [⌈G/2⌉, M] complex of one group's spread charge pairs (§9: spread, forward
    /// transform in place).
    func spectrum(_ x: CLBuffer<T>, first: Int, _ g: PMEGeometry<T>) throws -> CLBuffer<T> {
        let f = try spreadMesh(x, first: first, g)
        try plan(g).forward.execute(f)
        return f
    }

    /// The mesh potentials φ [⌈G/2⌉, M] complex (the pairs' channels as in Q) =
    /// FFT⁻¹(G·B/V · F); F is left intact.
    func meshPotentials(_ f: CLBuffer<T>, _ g: PMEGeometry<T>) throws -> CLBuffer<T> {
        let scaled = try CLBuffer<T>(context, count: f.count)
        try convolve(f, g, into: scaled)
        try plan(g).backward.execute(scaled)
        return scaled
    }

    /// The same from a spectrum no longer needed: F is scaled and transformed in place, so no
    /// second mesh-sized buffer is made.
    func meshPotentials(consuming f: CLBuffer<T>, _ g: PMEGeometry<T>) throws -> CLBuffer<T> {
        try convolve(f, g, into: f)
        try plan(g).backward.execute(f)
        return f
    }

    /// `pme_convolve` (elementwise, so `out` may be `f`).
    private func convolve(_ f: CLBuffer<T>, _ g: PMEGeometry<T>, into out: CLBuffer<T>) throws {
        let n = g.size
        try kernels(width: g.group).convolve.launch(global: [n.z, g.pairs * n.x * n.y], g.influence, f,
                                                    Int32(n.x), Int32(n.y), Int32(n.z), out)
    }

    /// v [N, C] columns first … first+G−1 += ½ Σ_g w_i(g) φ(g).
    func gatherPotentials(_ phi: CLBuffer<T>, first: Int, _ g: PMEGeometry<T>, addingTo v: CLBuffer<T>) throws {
        let n = g.size
        try kernels(width: g.group).gather.launch(global: [roundUp(g.atomCount, 64)], g.bases, g.weights, phi, Int32(n.x),
                                                  Int32(n.y), Int32(n.z), Int32(g.order), Int32(g.atomCount), Int32(first), v)
    }

    /// The spectra F and mesh potentials φ of one set of charges, one entry per channel
    /// group: what the backward of V = A·q needs of q again, kept from the forward instead of a
    /// second spread and two FFTs. `addGradient` drops each group's after its last use.
    public final class ChargeMesh {
        var groups: [(spectrum: CLBuffer<T>, potentials: CLBuffer<T>)?] = []
    }

    /// v [N, C] += V^k, the reciprocal-space potentials of charges x [N, C] (§9), one channel
    /// group after the other. Returns the charges' spectra and mesh potentials for
    /// `addGradient`'s `chargeMesh`.
    @discardableResult
    public func addPotentials(_ x: CLBuffer<T>, _ g: PMEGeometry<T>, to v: CLBuffer<T>) throws -> ChargeMesh? {
        try x.require(g.atomCount, channels, "PME charges")
        try v.require(g.atomCount, channels, "PME potentials")
        guard g.atomCount > 0 else { return nil }
        let kept = ChargeMesh()
        for first in g.groups(of: channels) {
            let f = try spectrum(x, first: first, g)
            let phi = try meshPotentials(f, g)
            try gatherPotentials(phi, first: first, g, addingTo: v)
            kept.groups.append((f, phi))
        }
        return kept
    }

    /// grad [N, 3] += ∂B/∂R of B = Σ V̄·V^k(q) at fixed charges, and the strain derivative W of B
    /// (row-major 9, float64; §10.2 G6 on the mesh). `columnSums` is `EwaldKernels`' fixed-order
    /// reduction, shared so both reciprocal methods sum their virial rows the same way; the
    /// groups' sums are added in group order. With `cotangentPotentials`, also adds V^k(V̄) to it
    /// (q̄'s reciprocal part, from the same φ^V̄).
    func addGradient(charges q: CLBuffer<T>, cotangent vbar: CLBuffer<T>, _ g: PMEGeometry<T>, to grad: CLBuffer<T>,
                     cotangentPotentials: CLBuffer<T>? = nil, chargeMesh: ChargeMesh? = nil,
                     columnSums: (CLBuffer<T>, Int, Int) throws -> [Double]) throws -> [Double] {
        try q.require(g.atomCount, channels, "PME gradient charges")
        try vbar.require(g.atomCount, channels, "PME gradient cotangent")
        if let cotangentPotentials { try cotangentPotentials.require(g.atomCount, channels, "PME charge cotangent") }
        guard g.atomCount > 0 else { return [Double](repeating: 0, count: 9) }
        let n = g.size
        let rows = try CLBuffer<T>(context, count: n.x * n.y * 10)
        var sums = [Double](repeating: 0, count: 10)
        let group = try kernels(width: g.group)
        for (k, first) in g.groups(of: channels).enumerated() {
            let fv = try spectrum(vbar, first: first, g)
            // The charges' mesh is the forward's when kept (the same kernels on the same charges:
            // the same numbers); measured on PoCL, a third of PME's spreads and FFTs per
            // evaluation. Each group's spectra are dropped after the virial, their last use, and
            // scaled and transformed in place.
            func virialRows(_ fq: CLBuffer<T>) throws {
                try group.virial.launch(global: [roundUp(n.x * n.y, 64)], g.influence, g.moduli, fq, fv, g.basis, Int32(n.x), Int32(n.y),
                                  Int32(n.z), T(g.smearing), T(g.volume), rows)
                for (e, s) in try columnSums(rows, n.x * n.y, 10).enumerated() { sums[e] += s }
            }
            let phiQ: CLBuffer<T>
            if let chargeMesh, k < chargeMesh.groups.count, let kept = chargeMesh.groups[k] {
                chargeMesh.groups[k] = nil
                try virialRows(kept.spectrum)
                phiQ = kept.potentials
            } else {
                let fq = try spectrum(q, first: first, g)
                try virialRows(fq)
                phiQ = try meshPotentials(consuming: fq, g)
            }
            let phiV = try meshPotentials(consuming: fv, g)
            // q̄'s reciprocal part is gathered by the gradient's own walk over the stencils (one
            // launch per group fewer; `pme_gather`'s sum in its order).
            try group.gradient.launch(global: [roundUp(g.atomCount, 64)], g.bases, g.weights, g.derivatives, q, vbar, phiQ, phiV,
                                g.meshGradient, Int32(n.x), Int32(n.y), Int32(n.z), Int32(g.order), Int32(g.atomCount),
                                Int32(first), grad, Int32(cotangentPotentials == nil ? 0 : 1), cotangentPotentials ?? grad)
        }
        var w = Array(sums[0..<9])
        for a in 0..<3 { w[4 * a] -= sums[9] }
        return w
    }
}
