import LoremEngineCore
import Foundation

extension EwaldSummation {
    /// V[ch][i] for each channel of charges q[ch][i] (channels are independent scalar charge sets).
    ///
    /// V_i = V_i^real + V_i^k with the ½ of §8.2 (or the direct sum of §8.3 for molecules).
    public func potentials(_ q: [[Double]]) -> [[Double]] {
        for ch in q { precondition(ch.count == positions.count, "one charge per atom and channel") }
        if periodicity == .molecule { return directPotentials(q) }
        var v = realSpacePotentials(q)
        let k = reciprocalPotentials(q)
        for ch in q.indices {
            let self_ = selfPotentials(q[ch]), bg = backgroundPotentials(q[ch]), slab = slabPotentials(q[ch])
            for i in v[ch].indices { v[ch][i] += k[ch][i] + self_[i] + bg[i] + slab[i] }
        }
        return v
    }

    /// The separate terms of §8.2 for one channel (each already including its ½), for tests and
    /// diagnostics. For molecules everything is in `real`.
    struct Parts {
        var real: [Double]
        var reciprocal: [Double]
        var selfInteraction: [Double]
        var background: [Double]
        var slab: [Double]
    }

    func parts(_ q: [Double]) -> Parts {
        if periodicity == .molecule {
            let zero = [Double](repeating: 0, count: q.count)
            return Parts(real: directPotentials([q])[0], reciprocal: zero, selfInteraction: zero, background: zero, slab: zero)
        }
        return Parts(real: realSpacePotentials([q])[0], reciprocal: reciprocalPotentials([q])[0],
                     selfInteraction: selfPotentials(q), background: backgroundPotentials(q), slab: slabPotentials(q))
    }

    /// ½ Σ_{p: c(p)=i} q_{o(p)} φ_sr(r_p) over the full (double-counted) list.
    func realSpacePotentials(_ q: [[Double]]) -> [[Double]] {
        var v = q.map { [Double](repeating: 0, count: $0.count) }
        for p in pairVectors.indices {
            let phi = 0.5 * shortRange(norm(pairVectors[p]))
            for ch in q.indices { v[ch][pairCenters[p]] += phi * q[ch][pairOthers[p]] }
        }
        return v
    }

    /// ½ (1/V) Σ_{K⁺} G(k) (cos(k·R_i) C_k + sin(k·R_i) S_k), one k at a time so that no
    /// atoms × k-vectors matrix is ever stored.
    func reciprocalPotentials(_ q: [[Double]]) -> [[Double]] {
        if let pme { return pme.potentials(q) }
        let n = positions.count
        var v = q.map { [Double](repeating: 0, count: $0.count) }
        var c = [Double](repeating: 0, count: n), s = c
        for (k, g) in zip(kVectors, kernel) where g != 0 {
            for i in 0..<n {
                let phase = dot(k, positions[i])
                c[i] = cos(phase)
                s[i] = sin(phase)
            }
            let w = 0.5 * g / volume
            for ch in q.indices {
                var ck = 0.0, sk = 0.0
                for i in 0..<n {
                    ck += q[ch][i] * c[i]
                    sk += q[ch][i] * s[i]
                }
                for i in 0..<n { v[ch][i] += w * (c[i] * ck + s[i] * sk) }
            }
        }
        return v
    }

    /// ½ · (−q_i √(2/π)/σ): removes each Gaussian's interaction with itself.
    func selfPotentials(_ q: [Double]) -> [Double] {
        let f = 0.5 * (2 / Double.pi).squareRoot() / smearing
        return q.map { -f * $0 }
    }

    /// ½ · (−2πσ²Q/V): the neutralising background, non-zero only for charged cells.
    func backgroundPotentials(_ q: [Double]) -> [Double] {
        let total = q.reduce(0, +)
        return [Double](repeating: -Double.pi * smearing * smearing * total / volume, count: q.count)
    }

    /// ½ · E_slab,i / V for slabs, zero for bulk.
    func slabPotentials(_ q: [Double]) -> [Double] {
        guard let slab else { return [Double](repeating: 0, count: q.count) }
        return slab.energies(q).map { 0.5 * $0 / volume }
    }

    /// Molecules: ½ Σ_{j≠i} q_j / |R_j − R_i| over all pairs, no cutoff (§8.3).
    func directPotentials(_ q: [[Double]]) -> [[Double]] {
        let n = positions.count
        var v = q.map { [Double](repeating: 0, count: $0.count) }
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let inv = 0.5 / norm(positions[j] - positions[i])
                for ch in q.indices {
                    v[ch][i] += inv * q[ch][j]
                    v[ch][j] += inv * q[ch][i]
                }
            }
        }
        return v
    }
}
