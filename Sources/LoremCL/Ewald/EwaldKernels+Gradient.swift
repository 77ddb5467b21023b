/// The explicit geometric gradient of B = Σ_ch Σ_i V̄_i V_i(q) at fixed charges.
public struct EwaldGeometryGradient<T: CLReal> {
    /// ∂B/∂R [N, 3] on the device.
    public let positions: CLBuffer<T>
    /// W[a][b] = Σ_i R_ia ∂B/∂R_ib + Σ_A h_Aa ∂B/∂h_Ab (§10.1), i.e. dB/dε_ab, in float64.
    /// Bulk: w.r.t. the input cell; slab: w.r.t. the shrunk cell; molecule: Σ_i R_i ⊗ ∂B/∂R_i.
    public let virial: [[Double]]
}

extension EwaldKernels {
    /// ∂B/∂R and the virial, mirroring `EwaldSummation.geometryGradient` (docs/MATH.md §10.2).
    ///
    /// Periodic structures:
    /// - G2, real space: ḡ_p per pair, then per atom Σ_{p: c(p)=i} (ḡ_reverse(p) − ḡ_p) and the
    ///   per-atom virial rows Σ R_p⊗ḡ_p (gathers over the CSR row, `PairTopology`).
    /// - G6, k-space: C_k, S_k of q and of V̄ (the forward's pass 1 twice), then one work-item per
    ///   atom over k for the gradient (plus the slab term) and one per k for its strain virial.
    /// - Background and slab virials are O(C) scalars of the moments, formed on the host:
    ///   W_bg = −B_bg I with B_bg = −πσ² Σ_ch Q^V̄ Q^q / V, and W_slab = B_slab (2 n̂⊗n̂ − I).
    /// Molecules (G3): the batched direct sum of `EwaldMolecules` with this one structure.
    /// Per-atom and per-k virial rows are summed in a fixed order (device blocks, host float64).
    public func geometryGradient(charges q: CLBuffer<T>, cotangent vbar: CLBuffer<T>, _ geometry: EwaldGeometry<T>)
        throws -> EwaldGeometryGradient<T>
    {
        try geometryGradientSharing(charges: q, cotangent: vbar, geometry).gradient
    }

    /// `geometryGradient`, also returning V̄'s structure factors and moments (nil for a molecule
    /// or an empty structure) for `potentials(_:_:into:sharing:)`: q̄ = A·V̄ then needs no second
    /// k-pass over V̄.
    func geometryGradientSharing(charges q: CLBuffer<T>, cotangent vbar: CLBuffer<T>, _ geometry: EwaldGeometry<T>)
        throws -> (gradient: EwaldGeometryGradient<T>, cotangentFactors: EwaldFactors<T>?)
    {
        let n = geometry.atomCount
        try q.require(n, channels, "Ewald gradient charges")
        try vbar.require(n, channels, "Ewald gradient cotangent")
        if let molecule = geometry.molecule {
            let direct = try geometryGradient(charges: q, cotangent: vbar, molecule)
            return (EwaldGeometryGradient(positions: direct.positions, virial: direct.virials[0]), nil)
        }
        let grad = try CLBuffer<T>(context, count: 3 * n)
        let atomVirial = try CLBuffer<T>(context, count: 9 * n)
        guard n > 0 else {
            return (EwaldGeometryGradient(positions: grad, virial: Self.matrix([Double](repeating: 0, count: 9))), nil)
        }
        let atoms = [roundUp(n, 64)]

        let p = geometry.pairCount
        let pairGradient = try CLBuffer<T>(context, shape: [p, 3], name: "Ewald real-space pair gradients")
        if p > 0 {
            try pairGradients.launch(global: [roundUp(p, 64)], geometry.centers, geometry.others, geometry.pairVectors,
                                     q, vbar, Int32(p), T(geometry.smearing), pairGradient)
        }
        try gather.launch(global: atoms, geometry.rowStarts, geometry.reverse, geometry.pairVectors, pairGradient,
                          Int32(n), grad, atomVirial)

        let k = geometry.kVectorCount
        let sfq = try structureFactors(q, geometry), sfv = try structureFactors(vbar, geometry)
        let momq = try chargeMoments(q, geometry), momv = try chargeMoments(vbar, geometry)
        let normal = geometry.slabNormal
        try kspaceGradient.launch(
            global: atoms, geometry.positions, q, vbar, geometry.kVectors, geometry.kTriples, geometry.phases,
            Int32(geometry.phaseColumns), geometry.phaseOrigins.x, geometry.phaseOrigins.y, geometry.phaseOrigins.z,
            sfq, sfv, momq, momv, Int32(n), Int32(k),
            T(geometry.volume), T(normal.x), T(normal.y), T(normal.z), Int32(geometry.hasSlab ? 1 : 0), grad)
        let kVirial = try CLBuffer<T>(context, count: 9 * k)
        if k > 0 {
            try kspaceVirial.launch(global: [roundUp(k, 64)], geometry.kVectors, sfq, sfv, Int32(k),
                                    T(geometry.smearing), kVirial)
        }

        var w = try columnSums(atomVirial, rows: n, cols: 9)
        let wk = try columnSums(kVirial, rows: k, cols: 9)
        let extra = scalarVirial(try momq.download().map(Double.init), try momv.download().map(Double.init), geometry)
        for e in 0..<9 { w[e] += wk[e] + extra[e] }
        return (EwaldGeometryGradient(positions: grad, virial: Self.matrix(w)),
                EwaldFactors(structureFactors: sfv, moments: momv))
    }

    /// W_bg + W_slab (row-major 9) from the per-channel moments (Q, M, M₂) of q and V̄:
    /// B_slab = (2π/V) Σ_ch [M^V̄ M^q − ½(Q^V̄ M₂^q + Q^q M₂^V̄) − Q^V̄ Q^q H²/12] (§8.2, §10.2 G6).
    private func scalarVirial(_ mq: [Double], _ mv: [Double], _ geometry: EwaldGeometry<T>) -> [Double] {
        let sigma2 = geometry.smearing * geometry.smearing, volume = geometry.volume
        var background = 0.0, slab = 0.0
        let h2 = geometry.slabHeight * geometry.slabHeight
        for ch in 0..<channels {
            let (qq, fq, sq) = (mq[3 * ch], mq[3 * ch + 1], mq[3 * ch + 2])
            let (qv, fv, sv) = (mv[3 * ch], mv[3 * ch + 1], mv[3 * ch + 2])
            background -= Double.pi * sigma2 * qv * qq / volume
            if geometry.hasSlab {
                slab += 2 * Double.pi / volume * (fv * fq - 0.5 * (qv * sq + qq * sv) - qv * qq * h2 / 12)
            }
        }
        let n = geometry.slabNormal
        var w = [Double](repeating: 0, count: 9)
        for a in 0..<3 {
            for b in 0..<3 { w[3 * a + b] = 2 * slab * n[a] * n[b] }
            w[4 * a] -= background + slab
        }
        return w
    }

    static func matrix(_ w: [Double]) -> [[Double]] { (0..<3).map { Array(w[(3 * $0)..<(3 * $0 + 3)]) } }
}
