import LoremEngineCore
import Foundation

extension EwaldSummation {
    /// Gradient of B = Σ_ch Σ_i vbar[ch][i] · V[ch][i](q) with respect to positions, at fixed q
    /// (§10.2 G2, G3, G4, G6), plus the virial W[a][b] = Σ_i R_ia ∂B/∂R_ib + Σ_A h_Aa ∂B/∂h_Ab.
    ///
    /// W equals dB/dε_ab under R → R(1+ε), h → h(1+ε) (§10.1) and is computed in that form:
    /// phases k·R are strain invariant, d|k|²/dε_ab = −2k_a k_b, dV/dε_ab = V δ_ab, and for slabs
    /// z_i and H scale as z(1 + n̂ᵀεn̂), so the degree-2 slab form contributes B_slab(2 n̂⊗n̂ − I).
    /// - Bulk: the virial of §10.1 with respect to the input cell.
    /// - Slab: with respect to the shrunk cell (`cell`), as lorem-jax does (§8.2); the k-grid
    ///   integers and the shrink itself are preprocessing and are not differentiated.
    /// - Molecule: Σ_i R_i ⊗ ∂B/∂R_i (no cell dependence), which is translation invariant.
    public func geometryGradient(charges q: [[Double]], cotangent vbar: [[Double]])
        -> (positions: [SIMD3<Double>], virial: [[Double]])
    {
        precondition(q.count == vbar.count, "one cotangent channel per charge channel")
        for ch in q.indices {
            precondition(q[ch].count == positions.count && vbar[ch].count == positions.count)
        }
        var grad = [SIMD3<Double>](repeating: .zero, count: positions.count)
        var virial = [SIMD3<Double>](repeating: .zero, count: 3)
        if periodicity == .molecule {
            addDirectGradient(q, vbar, &grad, &virial)
        } else {
            addRealSpaceGradient(q, vbar, &grad, &virial)
            addReciprocalGradient(q, vbar, &grad, &virial)
            addBackgroundAndSlabGradient(q, vbar, &grad, &virial)
        }
        return (grad, tensorArray(virial))
    }

    /// Adds pair-vector gradient ḡ for R_p = R_o − R_c + S·h: ∂/∂R_o += ḡ, ∂/∂R_c −= ḡ, W += R_p⊗ḡ.
    private func scatterPair(
        _ center: Int, _ other: Int, _ vector: SIMD3<Double>, _ g: SIMD3<Double>,
        _ grad: inout [SIMD3<Double>], _ virial: inout [SIMD3<Double>]
    ) {
        grad[other] += g
        grad[center] -= g
        for a in 0..<3 { virial[a] += vector[a] * g }
    }

    /// G2: B_real = ½ Σ_p V̄_c q_o φ_sr(r_p), so ḡ_p = ½ V̄_c q_o φ_sr′(r_p) R_p / r_p.
    private func addRealSpaceGradient(
        _ q: [[Double]], _ vbar: [[Double]], _ grad: inout [SIMD3<Double>], _ virial: inout [SIMD3<Double>]
    ) {
        for p in pairVectors.indices {
            let r = norm(pairVectors[p])
            guard r > 0 else { continue }
            var weight = 0.0
            for ch in q.indices { weight += vbar[ch][pairCenters[p]] * q[ch][pairOthers[p]] }
            let g = (0.5 * weight * shortRangeDerivative(r) / r) * pairVectors[p]
            scatterPair(pairCenters[p], pairOthers[p], pairVectors[p], g, &grad, &virial)
        }
    }

    /// G3: B = ½ Σ_{i≠j} V̄_i q_j / r_ij, each unordered pair once with weight ½(V̄_i q_j + V̄_j q_i).
    private func addDirectGradient(
        _ q: [[Double]], _ vbar: [[Double]], _ grad: inout [SIMD3<Double>], _ virial: inout [SIMD3<Double>]
    ) {
        let n = positions.count
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let d = positions[j] - positions[i]
                let r = norm(d)
                var weight = 0.0
                for ch in q.indices { weight += vbar[ch][i] * q[ch][j] + vbar[ch][j] * q[ch][i] }
                let g = (-0.5 * weight / (r * r * r)) * d
                scatterPair(i, j, d, g, &grad, &virial)
            }
        }
    }

    /// G4/G6: B_k = (1/2V) Σ_{K⁺} G(k) (C^V̄ C^q + S^V̄ S^q).
    /// ∂B/∂R_m = (1/2V) Σ_k G k [V̄_m(c_m S^q − s_m C^q) + q_m(c_m S^V̄ − s_m C^V̄)];
    /// W_k = Σ_k P_k/(2V) · 2G(σ²/2 + 1/k²) k⊗k − B_k I with P_k = C^V̄C^q + S^V̄S^q.
    private func addReciprocalGradient(
        _ q: [[Double]], _ vbar: [[Double]], _ grad: inout [SIMD3<Double>], _ virial: inout [SIMD3<Double>]
    ) {
        if let pme { return pme.addGradient(q, vbar, &grad, &virial) }
        let n = positions.count
        let sigma2 = smearing * smearing
        var c = [Double](repeating: 0, count: n), s = c, t = c
        var energy = 0.0
        for (k, g) in zip(kVectors, kernel) where g != 0 {
            for i in 0..<n {
                let phase = dot(k, positions[i])
                c[i] = cos(phase)
                s[i] = sin(phase)
                t[i] = 0
            }
            var product = 0.0
            for ch in q.indices {
                var cq = 0.0, sq = 0.0, cv = 0.0, sv = 0.0
                for i in 0..<n {
                    cq += q[ch][i] * c[i]
                    sq += q[ch][i] * s[i]
                    cv += vbar[ch][i] * c[i]
                    sv += vbar[ch][i] * s[i]
                }
                product += cv * cq + sv * sq
                for i in 0..<n {
                    t[i] += vbar[ch][i] * (c[i] * sq - s[i] * cq) + q[ch][i] * (c[i] * sv - s[i] * cv)
                }
            }
            let w = 0.5 * g / volume
            for i in 0..<n { grad[i] += (w * t[i]) * k }
            energy += w * product
            let strain = w * product * 2 * (0.5 * sigma2 + 1 / dot(k, k))
            for a in 0..<3 { virial[a] += (strain * k[a]) * k }
        }
        for a in 0..<3 { virial[a][a] -= energy }
    }

    /// Background B_bg = −πσ² Q^V̄ Q^q / V (no position dependence, W = −B_bg I) and the slab form
    /// B_slab = (2π/V)[M^V̄ M^q − ½(Q^V̄ M₂^q + Q^q M₂^V̄) − Q^V̄ Q^q H²/12] (§8.2, §10.2 G6):
    /// ∂B_slab/∂R_m = (2π/V) n̂ [V̄_m M^q + q_m M^V̄ − z_m (Q^V̄ q_m + Q^q V̄_m)],
    /// W_slab = B_slab (2 n̂⊗n̂ − I).
    private func addBackgroundAndSlabGradient(
        _ q: [[Double]], _ vbar: [[Double]], _ grad: inout [SIMD3<Double>], _ virial: inout [SIMD3<Double>]
    ) {
        var background = 0.0
        for ch in q.indices {
            background -= Double.pi * smearing * smearing * vbar[ch].reduce(0, +) * q[ch].reduce(0, +) / volume
        }
        for a in 0..<3 { virial[a][a] -= background }
        guard let slab else { return }
        let f = 2 * Double.pi / volume
        var energy = 0.0
        for ch in q.indices {
            let mq = slab.moments(q[ch]), mv = slab.moments(vbar[ch])
            energy += f * (mv.first * mq.first - 0.5 * (mv.total * mq.second + mq.total * mv.second)
                           - mv.total * mq.total * slab.height * slab.height / 12)
            for m in positions.indices {
                let dz = vbar[ch][m] * mq.first + q[ch][m] * mv.first
                    - slab.z[m] * (mv.total * q[ch][m] + mq.total * vbar[ch][m])
                grad[m] += (f * dz) * slab.normal
            }
        }
        let nn = outer(slab.normal, slab.normal)
        for a in 0..<3 {
            virial[a] += (2 * energy) * nn[a]
            virial[a][a] -= energy
        }
    }
}
