import LoremEngineCore
import Foundation
import LoremModel

/// LoremBEC's `PerParticleTensorPredictor` (docs/MATH.md §12.2): from an equivariant array
/// X [N, (L'+1)², s] to one 3×3 tensor per atom,
///
///     X¹ = g(Dense_0(X)),  X² = g(Dense_1(X¹)),  X³ = Dense_2(X²),  (p, q) = Dense(X³),
///     s_c = Σ_{a,b} W[deg a, deg b, deg c]·C[a,b,c]·p_a·q_b,   APT = M(s),
///
/// with g e3x's gated silu, g(x)[a,f] = x[a,f]·σ(x[0,f]), and M the 3×3 map of
/// `BornChargeCoupling.tensor`. Forward only: the Born charges are not differentiated (§12.4).
public enum TensorPredictor {
    /// Row-major 3×3 tensors, one per row of `x`.
    static func forward(_ x: SphericalArray, _ w: TensorPredictorWeights) -> [[Double]] {
        precondition(x.maxDegree == w.maxDegree)
        var h = x
        for (k, dense) in w.dense.enumerated() {
            h = EquivariantOps.dense(h, dense)
            if k < w.dense.count - 1 { h = gatedSilu(h) }
        }
        let pq = EquivariantOps.dense(h, w.halves)
        let L = w.maxDegree
        return (0..<x.rows).map { i in
            var s = [Double](repeating: 0, count: 9)
            for e in w.coupling.entries {
                let weight = w.kernel[(e.l1 * (L + 1) + e.l2) * 3 + e.l3]
                s[e.c] += weight * e.value * pq.data[pq.offset(i, e.a)] * pq.data[pq.offset(i, e.b) + 1]
            }
            return BornChargeCoupling.tensor(s)
        }
    }

    /// e3x.nn.silu on an equivariant array: every slot of feature f scaled by σ of that feature's
    /// l = 0 entry (so the l = 0 entry itself becomes silu).
    static func gatedSilu(_ x: SphericalArray) -> SphericalArray {
        var y = x
        for i in 0..<x.rows {
            let o = x.offset(i, 0)
            for f in 0..<x.features {
                let gate = DenseOps.sigmoid(x.data[o + f])
                for a in 0..<x.slots { y.data[x.offset(i, a) + f] *= gate }
            }
        }
        return y
    }
}
