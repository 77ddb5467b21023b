import LoremEngineCore

/// Smooth PME on the device (Kernels/pme.cl + clFFT), the reciprocal part of the long range for
/// `channels` charge channels at once, mirroring LoremReference's `PMEMesh`: potentials
/// (docs/MATH.md §9) and the explicit geometric gradient and virial (§10.2 G6 on the mesh).
/// Real space, self, background and slab terms are `EwaldKernels`' (an `EwaldGeometry` built
/// from the same PME summation has no k-vectors), and `EwaldOperator` puts the two together.
///
/// clFFT plans (R2C and C2R, batch = channels) are made on first use of a mesh shape and kept
/// for the life of this object; the library itself is set up and torn down by `CLFFTLibrary`.
public final class PMEKernels<T: CLReal> {
    public let context: CLContext
    public let channels: Int
    let spread, influence, convolve, gather, gradient, virial: CLKernel
    private var plans: [SIMD3<Int>: (forward: CLFFTPlan, backward: CLFFTPlan)] = [:]

    /// Spreading's work split: rows (CPUs, the default there) walks blocks once per segment of
    /// mesh points (`pme_spread_segments`), tiled (GPUs) one work-item per point; same bits.
    let spreadShape: KernelShape
    /// Mesh points per work-item of `pme_spread_segments` (SPREAD_SEGMENT), at most the order.
    static var spreadSegment: Int { 8 }

    public init(context: CLContext, channels: Int, spreadShape: KernelShape? = nil) throws {
        self.context = context
        self.channels = channels
        let program = try context.channelProgram(family: "pme", precision: T.self, channels: channels, owner: "PMEKernels",
                                                  defines: ["SPREAD_SEGMENT=\(Self.spreadSegment)"])
        self.spreadShape = spreadShape ?? .preferred(for: context.device)
        spread = try program.kernel(self.spreadShape == .rows ? "pme_spread_segments" : "pme_spread")
        influence = try program.kernel("pme_influence")
        convolve = try program.kernel("pme_convolve")
        gather = try program.kernel("pme_gather")
        gradient = try program.kernel("pme_gradient")
        virial = try program.kernel("pme_virial")
    }

    /// Uploads the mesh of `summation` (built with `reciprocal: .pme`) and fills its influence
    /// function G(k)B(m)/V on the half spectrum.
    public func geometry(_ summation: EwaldSummation) throws -> PMEGeometry<T> {
        let g = try PMEGeometry<T>(context: context, summation: summation)
        let n = g.size
        try influence.launch(global: [n.x, n.y, n.z / 2 + 1], g.moduli, g.basis, Int32(n.x), Int32(n.y), Int32(n.z),
                             T(g.smearing), T(g.volume), g.influence)
        return g
    }

    private func plan(_ n: SIMD3<Int>) throws -> (forward: CLFFTPlan, backward: CLFFTPlan) {
        if let cached = plans[n] { return cached }
        let made = (forward: try CLFFTPlan(context: context, size: n, batch: channels, direction: .forward, precision: T.self),
                    backward: try CLFFTPlan(context: context, size: n, batch: channels, direction: .backward, precision: T.self))
        plans[n] = made
        return made
    }

    /// Q [C, M]: x's charges spread onto the mesh (§9).
    func spreadMesh(_ x: CLBuffer<T>, _ g: PMEGeometry<T>) throws -> CLBuffer<T> {
        let n = g.size, mesh = try CLBuffer<T>(context, count: channels * g.realCount)
        let segment = min(Self.spreadSegment, g.order)
        let items = spreadShape == .rows ? n.x * n.y * ((n.z + segment - 1) / segment) : g.realCount
        try spread.launch(global: [roundUp(items, 64)], g.bases, g.weights, x, g.blockStart, g.blockAtoms,
                          Int32(n.x), Int32(n.y), Int32(n.z), Int32(g.order), mesh)
        return mesh
    }

    /// The half spectra F [C, Mh] complex of x's spread charges (§9: spread, R2C).
    func spectrum(_ x: CLBuffer<T>, _ g: PMEGeometry<T>) throws -> CLBuffer<T> {
        let f = try CLBuffer<T>(context, count: 2 * channels * g.complexCount)
        try plan(g.size).forward.execute(spreadMesh(x, g), into: f)
        return f
    }

    /// The mesh potentials φ [C, M] = C2R(G·B/V · F); F is left intact.
    func meshPotentials(_ f: CLBuffer<T>, _ g: PMEGeometry<T>) throws -> CLBuffer<T> {
        let scaled = try CLBuffer<T>(context, count: f.count)
        try convolve.launch(global: [roundUp(channels * g.complexCount, 64)], g.influence, f, Int32(g.complexCount), scaled)
        return try transformBack(scaled, g)
    }

    /// The same from a spectrum no longer needed: F is scaled in place (`pme_convolve` is
    /// elementwise) and the C2R may overwrite it, so no third [C, mesh] buffer is made.
    func meshPotentials(consuming f: CLBuffer<T>, _ g: PMEGeometry<T>) throws -> CLBuffer<T> {
        try convolve.launch(global: [roundUp(channels * g.complexCount, 64)], g.influence, f, Int32(g.complexCount), f)
        return try transformBack(f, g)
    }

    private func transformBack(_ scaled: CLBuffer<T>, _ g: PMEGeometry<T>) throws -> CLBuffer<T> {
        let phi = try CLBuffer<T>(context, count: channels * g.realCount)
        try plan(g.size).backward.execute(scaled, into: phi)
        return phi
    }

    /// v [N, C] += ½ Σ_g w_i(g) φ(g).
    func gatherPotentials(_ phi: CLBuffer<T>, _ g: PMEGeometry<T>, addingTo v: CLBuffer<T>) throws {
        let n = g.size
        try gather.launch(global: [roundUp(g.atomCount, 64)], g.bases, g.weights, phi, Int32(n.x), Int32(n.y), Int32(n.z),
                          Int32(g.order), Int32(g.atomCount), v)
    }

    /// The half spectra F and mesh potentials φ of one set of charges: what the backward of
    /// V = A·q needs of q again, kept from the forward instead of a second spread and two FFTs.
    /// `addGradient` drops the spectrum after the virial, its last use.
    public final class ChargeMesh {
        var spectrum: CLBuffer<T>?
        let potentials: CLBuffer<T>

        init(spectrum: CLBuffer<T>, potentials: CLBuffer<T>) {
            self.spectrum = spectrum
            self.potentials = potentials
        }
    }

    /// v [N, C] += V^k, the reciprocal-space potentials of charges x [N, C] (§9). Returns the
    /// charges' spectrum and mesh potentials for `addGradient`'s `chargeMesh`.
    @discardableResult
    public func addPotentials(_ x: CLBuffer<T>, _ g: PMEGeometry<T>, to v: CLBuffer<T>) throws -> ChargeMesh? {
        try x.require(g.atomCount, channels, "PME charges")
        try v.require(g.atomCount, channels, "PME potentials")
        guard g.atomCount > 0 else { return nil }
        let f = try spectrum(x, g)
        let phi = try meshPotentials(f, g)
        try gatherPotentials(phi, g, addingTo: v)
        return ChargeMesh(spectrum: f, potentials: phi)
    }

    /// grad [N, 3] += ∂B/∂R of B = Σ V̄·V^k(q) at fixed charges, and the strain derivative W of B
    /// (row-major 9, float64; §10.2 G6 on the mesh). `columnSums` is `EwaldKernels`' fixed-order
    /// reduction, shared so both reciprocal methods sum their virial rows the same way. With
    /// `cotangentPotentials`, also adds V^k(V̄) to it (q̄'s reciprocal part, from the same φ^V̄).
    func addGradient(charges q: CLBuffer<T>, cotangent vbar: CLBuffer<T>, _ g: PMEGeometry<T>, to grad: CLBuffer<T>,
                     cotangentPotentials: CLBuffer<T>? = nil, chargeMesh: ChargeMesh? = nil,
                     columnSums: (CLBuffer<T>, Int, Int) throws -> [Double]) throws -> [Double] {
        try q.require(g.atomCount, channels, "PME gradient charges")
        try vbar.require(g.atomCount, channels, "PME gradient cotangent")
        guard g.atomCount > 0 else { return [Double](repeating: 0, count: 9) }
        let n = g.size
        let fv = try spectrum(vbar, g)
        let rows = try CLBuffer<T>(context, count: n.x * n.y * 10)
        func virialRows(_ fq: CLBuffer<T>) throws {
            try virial.launch(global: [roundUp(n.x * n.y, 64)], g.influence, fq, fv, g.basis, Int32(n.x), Int32(n.y),
                              Int32(n.z), T(g.smearing), rows)
        }
        // The charges' mesh is the forward's when kept (the same kernels on the same charges: the
        // same numbers); measured on PoCL, a third of PME's spreads and FFTs per evaluation. The
        // spectra are dropped after the virial, their last use, and scaled in place: the long
        // range's backward was the engine's memory peak (13,824 atoms of NaCl, lorem-jax's
        // defaults: five [C, mesh] buffers, 276 MiB, now three).
        let phiQ: CLBuffer<T>
        if let chargeMesh, let fq = chargeMesh.spectrum {
            try virialRows(fq)
            chargeMesh.spectrum = nil
            phiQ = chargeMesh.potentials
        } else {
            let fq = try spectrum(q, g)
            try virialRows(fq)
            phiQ = try meshPotentials(consuming: fq, g)
        }
        let phiV = try meshPotentials(consuming: fv, g)
        try gradient.launch(global: [roundUp(g.atomCount, 64)], g.bases, g.weights, g.derivatives, q, vbar, phiQ, phiV,
                            g.meshGradient, Int32(n.x), Int32(n.y), Int32(n.z), Int32(g.order), Int32(g.atomCount), grad)
        if let cotangentPotentials {
            try cotangentPotentials.require(g.atomCount, channels, "PME charge cotangent")
            try gatherPotentials(phiV, g, addingTo: cotangentPotentials)
        }
        let sums = try columnSums(rows, n.x * n.y, 10)
        var w = Array(sums[0..<9])
        for a in 0..<3 { w[4 * a] -= sums[9] }
        return w
    }
}
