import LoremCL
import LoremIO
import LoremModel
import LoremReference

/// The long-range branch's model-level parts (weights, the Ewald kernel family for all charge
/// channels); `stage(for:geometry:)` makes the per-structure stage.
struct DeviceLongRange<T: CLReal> {
    let w: DeviceWeights<T>.LongRange
    let config: LoremConfig
    let ewald: EwaldKernels<T>
    let context: CLContext

    init(weights: DeviceWeights<T>.LongRange, config: LoremConfig, context: CLContext) throws {
        w = weights
        self.config = config
        self.context = context
        ewald = try EwaldKernels(context: context, channels: config.chargeChannels)
    }

    func stage(for s: Structure, geometry g: DeviceGeometry<T>) -> DeviceLongRangeStage<T> {
        DeviceLongRangeStage(parent: self, structure: s, geometry: g)
    }
}

/// Step 10 of `Lorem.__call__` on the device (LOREM_MATH.md §7.2, §8), mirroring
/// LoremReference's LongRangeStage: charges [N, C] with all C channels in one Ewald pass.
struct DeviceLongRangeStage<T: CLReal> {
    let parent: DeviceLongRange<T>
    let structure: Structure
    private var plan: EwaldGeometry<T>? = nil
    private var chargeCache = CLMLPCache<T>()
    private var chargeHidden: CLBuffer<T>? = nil
    private var charges: CLBuffer<T>? = nil
    private var potentials: CLBuffer<T>? = nil
    private var phi: CLBuffer<T>? = nil
    private var nodes: CLBuffer<T>? = nil
    private var mixed: CLBuffer<T>? = nil
    private var updateCache = DeviceUpdate<T>.Cache()
    private var energyCache = CLMLPCache<T>()

    init(parent: DeviceLongRange<T>, structure: Structure, geometry: DeviceGeometry<T>) {
        self.parent = parent
        self.structure = structure
    }

    private var C: Int { parent.config.chargeChannels }

    mutating func forward(h: CLBuffer<T>, A: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>)
        throws -> (h: CLBuffer<T>, energies: [Double])
    {
        let (w, c) = (parent.w, parent.config)
        let (N, s, L) = (g.atoms, c.numSphericalFeatures, c.maxDegree)
        let slr = C - 1
        // The Ewald set-up (k-grid, slab frame) is the reference's, on the same pair list.
        let list = PairList(centers: g.hostCenters, others: g.hostOthers,
                            shifts: g.hostShifts.map { SIMD3(Double($0.x), Double($0.y), Double($0.z)) })
        let summation = try EwaldSummation(positions: structure.positions, cell: structure.cell, pbc: structure.pbc,
                                           cutoff: c.cutoff, pairs: list)
        let plan = try EwaldGeometry<T>(context: parent.context, summation: summation, pairs: list)
        self.plan = plan
        let q0 = try k.dense.mlp(h, rows: N, w.charges, cache: &chargeCache)
        let (qs, hidden) = try k.equivariant.tensorDense(A, rows: N, w.sphericalCharges)
        chargeHidden = hidden
        let q = try k.pairs.concat(q0, columns: 1, qs, columns: slr, rows: N)
        charges = q
        let v = try parent.ewald.potentials(q, plan)
        potentials = v
        let (v0, vs) = try k.pairs.concatBackward(v, rows: N, columns: 1, slr)  // split columns
        let p = try k.equivariant.dense(vs, rows: N, w.potentialDense)
        phi = p
        nodes = A
        let u = try k.equivariant.tensor(p, A, rows: N, w.tensor)
        mixed = u
        let input = try k.pairs.concat(v0, columns: 1, k.equivariant.normFeatures(u, rows: N, maxDegree: L, features: s),
                                       columns: (L + 1) * s, rows: N)
        let hOut = try w.update.forward(h, input, rows: N, k, cache: &updateCache)
        let energy = try k.dense.mlp(hOut, rows: N, w.energy, cache: &energyCache)
        return (hOut, try hostEnergies(energy))
    }

    /// Backward with Ē_i = 1: (h̄, Ā) of the stage inputs, and the explicit Ewald geometry
    /// gradient (§10.2 G2–G6) as ∂E/∂R [N,3] and virial (row-major 9).
    func backward(hBar hIn: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>)
        throws -> (hBar: CLBuffer<T>, aBar: CLBuffer<T>, gradient: [SIMD3<Double>], virial: [Double])
    {
        let (w, c) = (parent.w, parent.config)
        let (N, d, s, L) = (g.atoms, c.numFeatures, c.numSphericalFeatures, c.maxDegree)
        let slr = C - 1
        let hBarOut = try k.sum(hIn, k.dense.mlpBackward(k.ones(N), rows: N, w.energy, cache: energyCache), count: N * d)
        let (hBarUpdate, inputBar) = try w.update.backward(hBarOut, rows: N, k, cache: updateCache)
        let (v0Bar, normBar) = try k.pairs.concatBackward(inputBar, rows: N, columns: 1, (L + 1) * s)
        let uBar = try k.equivariant.normFeaturesBackward(normBar, mixed!, rows: N, maxDegree: L, features: s)
        let (phiBar, aBarMix) = try k.equivariant.tensorBackward(uBar, phi!, nodes!, rows: N, w.tensor)
        let vsBar = try k.equivariant.denseBackward(phiBar, rows: N, w.potentialDense)
        let vBar = try k.pairs.concat(v0Bar, columns: 1, vsBar, columns: slr, rows: N)
        let geometric = try parent.ewald.geometryGradient(charges: charges!, cotangent: vBar, plan!)
        let qBar = try parent.ewald.chargeCotangent(vBar, plan!)
        let (q0Bar, qsBar) = try k.pairs.concatBackward(qBar, rows: N, columns: 1, slr)
        let hBar = try k.sum(hBarUpdate, k.dense.mlpBackward(q0Bar, rows: N, w.charges, cache: chargeCache), count: N * d)
        let aBar = try k.sum(aBarMix, k.equivariant.tensorDenseBackward(qsBar, rows: N, w.sphericalCharges, hidden: chargeHidden!),
                             count: aBarMix.count)
        return (hBar, aBar, try downloadVectors(geometric.positions), geometric.virial.flatMap { $0 })
    }

    func hostCharges() throws -> [[Double]] { try channels(charges) }
    func hostPotentials() throws -> [[Double]] { try channels(potentials) }

    /// [N, C] device rows → [C][N] host channels.
    private func channels(_ b: CLBuffer<T>?) throws -> [[Double]] {
        guard let b else { return [] }
        let v = try b.download()
        let n = v.count / C
        return (0..<C).map { ch in (0..<n).map { Double(v[$0 * C + ch]) } }
    }
}
