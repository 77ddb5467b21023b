// LoremBEC's tensor heads, PerParticleTensorPredictor (docs/MATH.md §12.2), forward only (the
// Born charges are not differentiated, §12.4). The three Dense layers and the halves' Dense are
// equivariant.cl's eq_dense_forward; this family adds what those layers do beyond it and the
// head's last step, each in the reference's order (LoremReference.TensorPredictor):
//
// - degree0_bias: e3x's Dense bias, on slot 0 only, then (gate = 1) e3x's gated silu
//   g(x)[a,f] = x[a,f]·σ(x[0,f]) over all slots of feature f;
// - born_charge_head: s_c = Σ_{entries→c} (W·C)·p_a·q_b over the coupling entries grouped by
//   output slot c (table order), the 3×3 map of s (BornChargeCoupling.tensor), added to the
//   per-atom sum of the heads.
//
// Arrays are [rows, slots, F] row-major as in equivariant.cl. One work-item per output element,
// no atomics: bit-reproducible.

// y[i,0,f] += b[f]; with gate, every y[i,a,f] *= σ(y[i,0,f]). global = (F, rows).
__kernel void degree0_bias(__global real *y, __global const real *bias, const int rows, const int slots,
                           const int features, const int gate) {
    const int f = get_global_id(0), i = get_global_id(1);
    if (f >= features || i >= rows) return;
    __global real *row = y + (size_t)i * slots * features + f;
    const real x0 = row[0] + bias[f];
    row[0] = x0;
    if (!gate) return;
    const real sigma = 1 / (1 + exp(-x0));
    for (int a = 0; a < slots; a++) row[(size_t)a * features] *= sigma;
}

// apt[i, 0..8] += M(s) with s_c = Σ_{e in group c} coupled[e]·pq[i,a_e,0]·pq[i,b_e,1]; pq is
// [rows, slots, 2] (p = feature 0, q = feature 1). offsets has 10 entries (groups c = 0…8).
// global = (rows).
__kernel void born_charge_head(__global const real *pq, const int slots, __global const int *offsets,
                               __global const int2 *pairs, __global const real *coupled, __global real *apt,
                               const int rows) {
    const int i = get_global_id(0);
    if (i >= rows) return;
    __global const real *row = pq + (size_t)i * slots * 2;
    real s[9];
    for (int c = 0; c < 9; c++) {
        real acc = 0;
        for (int e = offsets[c]; e < offsets[c + 1]; e++) acc += coupled[e] * row[2 * pairs[e].x] * row[2 * pairs[e].y + 1];
        s[c] = acc;
    }
    const real r2 = sqrt((real)2), r3 = sqrt((real)3), r6 = sqrt((real)6);
    const real d = s[0] / r3;
    real m[9];
    m[0] = d + s[4] / r2 - s[8] / r6;  m[1] = s[3] / r2 + s[5] / r2;    m[2] = -s[2] / r2 + s[6] / r2;
    m[3] = -s[3] / r2 + s[5] / r2;     m[4] = d - s[4] / r2 - s[8] / r6; m[5] = s[1] / r2 + s[7] / r2;
    m[6] = s[2] / r2 + s[6] / r2;      m[7] = -s[1] / r2 + s[7] / r2;   m[8] = d + 2 * s[8] / r6;
    __global real *out = apt + (size_t)i * 9;
    for (int k = 0; k < 9; k++) out[k] += m[k];
}
