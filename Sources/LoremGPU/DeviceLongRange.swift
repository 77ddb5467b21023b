import LoremCL
import LoremIO
import LoremModel
import LoremEngineCore

/// The long-range branch's model-level parts (weights, the Ewald and, when the method may use
/// it, PME kernel families for all charge channels, whose clFFT plans then live as long as the
/// engine); `stage(geometry:)` makes the stage for one batch.
struct DeviceLongRange<T: CLReal> {
    let w: DeviceWeights<T>.LongRange
    let config: LoremConfig
    let method: LongRangeMethod
    let ewald: EwaldKernels<T>
    let pme: PMEKernels<T>?
    let context: CLContext

    init(weights: DeviceWeights<T>.LongRange, config: LoremConfig, method: LongRangeMethod, context: CLContext) throws {
        w = weights
        self.config = config
        self.method = method
        self.context = context
        ewald = try EwaldKernels(context: context, channels: config.chargeChannels)
        pme = method == .ewald ? nil : try PMEKernels(context: context, channels: config.chargeChannels)
    }

    func stage(geometry g: DeviceGeometry<T>) -> DeviceLongRangeStage<T> {
        DeviceLongRangeStage(parent: self)
    }
}

/// Step 10 of `Lorem.__call__` on the device (docs/MATH.md §7.2, §8), mirroring
/// LoremReference's LongRangeStage: charges [N, C] with all C channels in one Ewald pass (Ewald
/// is the only per-structure operation, §0 "Batching"). All molecules of the batch share one
/// direct-sum launch (`EwaldMolecules`, §8.3); each periodic structure (bulk, slab) has its own
/// `EwaldOperator` (exact Ewald or PME) and launches on its slice of the rows.
struct DeviceLongRangeStage<T: CLReal> {
    let parent: DeviceLongRange<T>
    private var ewald = BatchEwald()
    private var chargeCache = CLMLPCache<T>(keeping: .input)
    private var chargeHidden: CLBuffer<T>? = nil
    private var charges: CLBuffer<T>? = nil
    private var potentials: CLBuffer<T>? = nil
    private var phi: CLBuffer<T>? = nil
    private var nodes: CLBuffer<T>? = nil
    /// U = Tensor(Φ, A): the degree norms' input, and LoremBEC's last tensor head's.
    private(set) var mixed: CLBuffer<T>? = nil
    private var updateCache = DeviceUpdate<T>.Cache()
    private var energyCache = CLMLPCache<T>(keeping: .input)

    init(parent: DeviceLongRange<T>) {
        self.parent = parent
    }

    private var C: Int { parent.config.chargeChannels }

    /// The batch's long-range set-up: the molecules together, and one operator per periodic
    /// structure.
    private struct BatchEwald {
        var molecules: EwaldMolecules<T>? = nil
        /// Structure indices of the molecules, in the order of `molecules.structures`.
        var moleculeStructures: [Int] = []
        var periodic: [(structure: Int, plan: EwaldOperator<T>)] = []
    }

    private static func batchEwald(_ g: DeviceGeometry<T>, _ parent: DeviceLongRange<T>) throws -> BatchEwald {
        var b = BatchEwald()
        for s in g.structures.indices {
            if g.structures[s].periodicDimensions == 0 {
                b.moleculeStructures.append(s)
            } else {
                b.periodic.append((s, try plan(s, g, parent)))
            }
        }
        if !b.moleculeStructures.isEmpty {
            b.molecules = try EwaldMolecules(context: parent.context, positions: g.positions, atomCount: g.atoms,
                                             structures: b.moleculeStructures.map { g.atomRange($0) })
        }
        return b
    }

    /// The long-range operator of periodic structure s: the reference's set-up (k-grid or PME
    /// mesh, slab frame) with the structure's rows of the device's pair list, positions and pair
    /// vectors (a batch of this structure alone hands over its own, without copies), so nothing
    /// pair-sized is made on the host and a structure gets the same numbers in any batch. (Built
    /// from the host pair list, with its pair vectors rounded from float64, a batch's periodic
    /// structures differed from their single evaluations by up to 9e-7 in the float32 virial.)
    private static func plan(_ s: Int, _ g: DeviceGeometry<T>, _ parent: DeviceLongRange<T>) throws -> EwaldOperator<T> {
        let structure = g.structures[s], offset = g.layout.hostStart[s]
        let summation = try EwaldSummation(positions: structure.positions, cell: structure.cell, pbc: structure.pbc,
                                           cutoff: parent.config.cutoff, pairs: PairList(),
                                           reciprocal: parent.method.reciprocal(atoms: structure.positions.count))
        let geometry: EwaldGeometry<T>
        if g.structures.count == 1 {
            geometry = try EwaldGeometry<T>(context: parent.context, summation: summation, positions: g.positions,
                                            pairs: g.pairs, pairVectors: g.features.vectors)
        } else {
            let (r, atoms) = (g.pairStart[s]..<g.pairStart[s + 1], g.atomRange(s))
            let pairs = try CLPairList(parent.context, atoms: atoms.count, centers: g.hostCenters[r].map { $0 - offset },
                                       others: g.hostOthers[r].map { $0 - offset }, shifts: Array(g.hostShifts[r]))
            geometry = try EwaldGeometry<T>(context: parent.context, summation: summation,
                                            positions: rows(g.positions, atoms, columns: 3, parent.context), pairs: pairs,
                                            pairVectors: rows(g.features.vectors, r, columns: 3, parent.context))
        }
        return try EwaldOperator<T>(ewald: parent.ewald, pme: parent.pme, summation: summation, geometry: geometry)
    }

    /// Rows r of a [·, columns] device buffer as their own buffer.
    private static func rows(_ x: CLBuffer<T>, _ r: Range<Int>, columns: Int, _ context: CLContext) throws -> CLBuffer<T> {
        let slice = try CLBuffer<T>(context, count: r.count * columns)
        if !r.isEmpty { try slice.copy(from: x, sourceOffset: r.lowerBound * columns, count: r.count * columns) }
        return slice
    }

    /// A·x for x [N, C]: the potentials of charges x, and equally the charge cotangent of
    /// cotangent x, A being symmetric (§10.2 G5). Molecules in one launch; each periodic
    /// structure on a copy of its rows (a batch of one periodic structure needs no copies).
    private func applyEwald(_ x: CLBuffer<T>, _ g: DeviceGeometry<T>) throws -> CLBuffer<T> {
        // Each periodic operator keeps its charges (and PME mesh) for `backwardEwald`.
        if ewald.molecules == nil, ewald.periodic.count == 1 {
            return try ewald.periodic[0].plan.potentials(x, keepingForBackward: true)
        }
        let out = try CLBuffer<T>(parent.context, count: g.atoms * C)
        if let molecules = ewald.molecules { try parent.ewald.potentials(x, molecules, into: out) }
        for (s, plan) in ewald.periodic {
            let r = g.atomRange(s)
            try out.copy(from: plan.potentials(rows(x, r), keepingForBackward: true), offset: r.lowerBound * C,
                         count: r.count * C)
        }
        return out
    }

    /// Rows r of x [N, C] as their own buffer.
    private func rows(_ x: CLBuffer<T>, _ r: Range<Int>) throws -> CLBuffer<T> {
        let slice = try CLBuffer<T>(parent.context, count: r.count * C)
        try slice.copy(from: x, sourceOffset: r.lowerBound * C, count: r.count * C)
        return slice
    }

    /// The backward of V = A·q for cotangent V̄: the explicit long-range geometry gradient
    /// (§10.2 G2–G6) of B = Σ V̄·V(q) at fixed charges, as ∂B/∂R [N] and one virial (row-major 9)
    /// per structure, and the charge cotangent q̄ = A·V̄ [N, C] (§10.2 G5).
    private func backwardEwald(charges q: CLBuffer<T>, cotangent vBar: CLBuffer<T>, _ g: DeviceGeometry<T>)
        throws -> (gradient: [SIMD3<Double>], virials: [[Double]], qBar: CLBuffer<T>)
    {
        var gradient = [SIMD3<Double>](repeating: .zero, count: g.atoms)
        var virials = [[Double]](repeating: [Double](repeating: 0, count: 9), count: g.structures.count)
        let qBar = try CLBuffer<T>(parent.context, count: g.atoms * C)
        if let molecules = ewald.molecules {
            let direct = try parent.ewald.geometryGradient(charges: q, cotangent: vBar, molecules)
            gradient = try downloadVectors(direct.positions)  // zero outside the molecules
            for (s, w) in zip(ewald.moleculeStructures, direct.virials) { virials[s] = w.flatMap { $0 } }
            try parent.ewald.potentials(vBar, molecules, into: qBar)
        }
        for (s, plan) in ewald.periodic {
            let r = g.atomRange(s)
            let (periodic, structureQBar) = try plan.backward(cotangent: rows(vBar, r))
            gradient.replaceSubrange(r, with: try downloadVectors(periodic.positions))
            virials[s] = periodic.virial.flatMap { $0 }
            try qBar.copy(from: structureQBar, offset: r.lowerBound * C, count: r.count * C)
        }
        return (gradient, virials, qBar)
    }

    mutating func forward(h: CLBuffer<T>, A: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>)
        throws -> (h: CLBuffer<T>, energies: [Double])
    {
        let (w, c) = (parent.w, parent.config)
        let (N, s, L) = (g.atoms, c.numSphericalFeatures, c.maxDegree)
        let slr = C - 1
        ewald = try Self.batchEwald(g, parent)
        let q0 = try k.dense.mlp(h, rows: N, w.charges, cache: &chargeCache)
        let (qs, hidden) = try k.equivariant.tensorDense(A, rows: N, w.sphericalCharges)
        chargeHidden = hidden
        let q = try k.pairs.concat(q0, columns: 1, qs, columns: slr, rows: N)
        charges = q
        let v = try applyEwald(q, g)
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
    /// gradient (§10.2 G2–G6) as ∂E/∂R [N,3] and one virial (row-major 9) per structure.
    func backward(hBar hIn: CLBuffer<T>, _ g: DeviceGeometry<T>, _ k: DeviceKernels<T>)
        throws -> (hBar: CLBuffer<T>, aBar: CLBuffer<T>, gradient: [SIMD3<Double>], virials: [[Double]])
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
        let (gradient, virials, qBar) = try backwardEwald(charges: charges!, cotangent: vBar, g)
        let (q0Bar, qsBar) = try k.pairs.concatBackward(qBar, rows: N, columns: 1, slr)
        let hBar = try k.sum(hBarUpdate, k.dense.mlpBackward(q0Bar, rows: N, w.charges, cache: chargeCache), count: N * d)
        let aBar = try k.sum(aBarMix, k.equivariant.tensorDenseBackward(qsBar, rows: N, w.sphericalCharges, hidden: chargeHidden!),
                             count: aBarMix.count)
        return (hBar, aBar, gradient, virials)
    }

    /// Charges and potentials of structure s as [C][n_s] host channels.
    func hostCharges(_ g: DeviceGeometry<T>) throws -> [[[Double]]] { try channels(charges, g) }
    func hostPotentials(_ g: DeviceGeometry<T>) throws -> [[[Double]]] { try channels(potentials, g) }

    /// [N, C] device rows → per structure [C][n_s] host channels.
    private func channels(_ b: CLBuffer<T>?, _ g: DeviceGeometry<T>) throws -> [[[Double]]] {
        guard let b else { return g.structures.map { _ in [] } }
        let v = try b.download()
        return g.structures.indices.map { s in
            (0..<C).map { ch in g.atomRange(s).map { Double(v[$0 * C + ch]) } }
        }
    }
}
