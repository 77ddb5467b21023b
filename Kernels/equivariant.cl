// e3x's equivariant layers and LOREM's degree-norm features, with their backward passes:
// Dense per degree (docs/MATH.md §3), Tensor (§4.2, also the core of TensorDense §4.3 and
// MessagePass §5) and flat(‖X‖) (§7.1).
//
// Spherical arrays are [rows, (L+1)², F] row-major: element (i, a, f) at (i·slots + a)·F + f.
// Tensor operands are addressed with a feature stride and offset, (i·slots + a)·stride +
// offset + f, so TensorDense reads and writes the two halves of its [rows, slots, 2F] buffer
// in place instead of splitting and joining copies.
//
// Every kernel computes one output element and sums in the reference's order (entries of the
// coupling table in table order, features in increasing order), so there are no write
// conflicts, no atomics, and results are bit-reproducible.
//
// CPU devices run the tensor products 8 features per work-item (tensor_*8, at the end), the
// same sums lane by lane. Obvious GPU optimisations, not done (correctness first): stage the
// per-degree Dense kernel and the coupling entries in local memory; one work-group per row
// sharing x and y rows.

// Degree of flat slot a: slots l² … l²+2l hold degree l (§0).
inline int degree_of(const int a) {
    int l = (int)sqrt((float)a);
    while (l * l > a) l--;
    while ((l + 1) * (l + 1) <= a) l++;
    return l;
}

// ---- Dense per degree (§3) ------------------------------------------------------------------

// y[i,a,g] = Σ_f x[i,a,f]·W^{deg a}[f,g]; w holds the degrees' [fin, fout] kernels back to
// back. global = (fout, slots, rows).
__kernel void eq_dense_forward(__global const real *x, __global const real *w, __global real *y,
                               const int rows, const int slots, const int fin, const int fout) {
    const int g = get_global_id(0), a = get_global_id(1), i = get_global_id(2);
    if (g >= fout || a >= slots || i >= rows) return;
    __global const real *xr = x + ((size_t)i * slots + a) * fin;
    __global const real *wk = w + (size_t)degree_of(a) * fin * fout + g;
    real acc = 0;
    for (int f = 0; f < fin; f++) acc += xr[f] * wk[(size_t)f * fout];
    y[((size_t)i * slots + a) * fout + g] = acc;
}

// The same y, 16 outputs per work-item (CPU devices, fout ≥ 16): each lane sums over f in the
// same order as eq_dense_forward, so the bits are the same; PoCL vectorises the 16 lanes, which
// it does not do across work-items. global = (ceil(fout/16), slots, rows).
__kernel void eq_dense_forward16(__global const real *x, __global const real *w, __global real *y,
                                 const int rows, const int slots, const int fin, const int fout) {
    const int c = get_global_id(0), a = get_global_id(1), i = get_global_id(2);
    const int g0 = c * 16;
    if (g0 >= fout || a >= slots || i >= rows) return;
    __global const real *xr = x + ((size_t)i * slots + a) * fin;
    __global const real *wk = w + (size_t)degree_of(a) * fin * fout;
    __global real *yr = y + ((size_t)i * slots + a) * fout;
    if (g0 + 16 <= fout) {
        real16 acc = (real16)(0);
        for (int f = 0; f < fin; f++) acc += xr[f] * vload16(0, wk + (size_t)f * fout + g0);
        vstore16(acc, 0, yr + g0);
        return;
    }
    for (int g = g0; g < fout; g++) {
        real acc = 0;
        for (int f = 0; f < fin; f++) acc += xr[f] * wk[(size_t)f * fout + g];
        yr[g] = acc;
    }
}

// x̄[i,a,f] = Σ_g ȳ[i,a,g]·W^{deg a}[f,g]; global = (fin, slots, rows).
__kernel void eq_dense_backward(__global const real *yBar, __global const real *w, __global real *xBar,
                                const int rows, const int slots, const int fin, const int fout) {
    const int f = get_global_id(0), a = get_global_id(1), i = get_global_id(2);
    if (f >= fin || a >= slots || i >= rows) return;
    __global const real *gr = yBar + ((size_t)i * slots + a) * fout;
    __global const real *wr = w + ((size_t)degree_of(a) * fin + f) * fout;
    real acc = 0;
    for (int g = 0; g < fout; g++) acc += gr[g] * wr[g];
    xBar[((size_t)i * slots + a) * fin + f] = acc;
}

// ---- Tensor (§4.2) --------------------------------------------------------------------------
//
// The coupling table arrives grouped by one slot (c for the forward, a for x̄, b for ȳ): CSR
// `offsets`, and per entry, in increasing table order within a group, the slots of the two
// other operands (`slots`, int2) and W[path, f]·C[a,b,c] for every feature (`coupled`, [·, F],
// multiplied once at load). Each work-item loops over exactly the entries that touch its
// output, in table order, with no indirection.
//
// y row of row i: yIndex[i] when hasIndex (MessagePass reads the source atom o(p)), else i.

// z[i,c,f] = Σ_{entries→c} W[path,f]·C·x[i,a,f]·y[iy,b,f]; global = (F, slots3, rows).
__kernel void tensor_forward(__global const real *x, const int xStride, const int xOffset,
                             __global const real *y, const int yStride, const int yOffset,
                             __global const int *yIndex, const int hasIndex,
                             __global const real *coupled, __global const int2 *slots,
                             __global const int *offsets, __global real *z, const int rows,
                             const int slots1, const int slots2, const int slots3, const int F) {
    const int f = get_global_id(0), c = get_global_id(1), i = get_global_id(2);
    if (f >= F || c >= slots3 || i >= rows) return;
    const size_t iy = hasIndex ? (size_t)yIndex[i] : (size_t)i;
    __global const real *xr = x + (size_t)i * slots1 * xStride + xOffset + f;
    __global const real *yr = y + iy * slots2 * yStride + yOffset + f;
    real acc = 0;
    for (int q = offsets[c]; q < offsets[c + 1]; q++) {
        const int2 ab = slots[q];
        acc += coupled[(size_t)q * F + f] * xr[ab.x * xStride] * yr[ab.y * yStride];
    }
    z[((size_t)i * slots3 + c) * F + f] = acc;
}

// x̄[i,a,f] = Σ_{entries with a} (W[path,f]·C·z̄[i,c,f])·y[iy,b,f]; global = (F, slots1, rows).
__kernel void tensor_backward_x(__global const real *zBar, __global const real *y, const int yStride,
                                const int yOffset, __global const int *yIndex, const int hasIndex,
                                __global const real *coupled, __global const int2 *slots,
                                __global const int *offsets, __global real *xBar, const int xStride,
                                const int xOffset, const int rows, const int slots1, const int slots2,
                                const int slots3, const int F) {
    const int f = get_global_id(0), a = get_global_id(1), i = get_global_id(2);
    if (f >= F || a >= slots1 || i >= rows) return;
    const size_t iy = hasIndex ? (size_t)yIndex[i] : (size_t)i;
    __global const real *zr = zBar + (size_t)i * slots3 * F + f;
    __global const real *yr = y + iy * slots2 * yStride + yOffset + f;
    real acc = 0;
    for (int q = offsets[a]; q < offsets[a + 1]; q++) {
        const int2 bc = slots[q];
        acc += coupled[(size_t)q * F + f] * zr[bc.y * F] * yr[bc.x * yStride];
    }
    xBar[((size_t)i * slots1 + a) * xStride + xOffset + f] = acc;
}

// Row i's share of ȳ: Σ_{entries with b} (W[path,f]·C·z̄[i,c,f])·x[i,a,f], written to row i
// of `out` (ȳ itself, or a per-pair buffer that the host then reduces per source atom);
// global = (F, slots2, rows).
__kernel void tensor_backward_y(__global const real *zBar, __global const real *x, const int xStride,
                                const int xOffset, __global const real *coupled, __global const int2 *slots,
                                __global const int *offsets, __global real *out, const int outStride,
                                const int outOffset, const int rows, const int slots1, const int slots2,
                                const int slots3, const int F) {
    const int f = get_global_id(0), b = get_global_id(1), i = get_global_id(2);
    if (f >= F || b >= slots2 || i >= rows) return;
    __global const real *zr = zBar + (size_t)i * slots3 * F + f;
    __global const real *xr = x + (size_t)i * slots1 * xStride + xOffset + f;
    real acc = 0;
    for (int q = offsets[b]; q < offsets[b + 1]; q++) {
        const int2 ac = slots[q];
        acc += coupled[(size_t)q * F + f] * zr[ac.y * F] * xr[ac.x * xStride];
    }
    out[((size_t)i * slots2 + b) * outStride + outOffset + f] = acc;
}

// ---- Degree-norm features (§7.1) ------------------------------------------------------------

// flat[i, l·F+f] = λ_l·sqrt(Σ_{deg a=l} X[i,a,f]²); global = (F, L+1, rows).
__kernel void norm_features_forward(__global const real *x, __global const real *lambda,
                                    __global real *out, const int rows, const int L, const int F) {
    const int f = get_global_id(0), l = get_global_id(1), i = get_global_id(2);
    if (f >= F || l > L || i >= rows) return;
    const int slots = (L + 1) * (L + 1);
    __global const real *xr = x + (size_t)i * slots * F + f;
    real s = 0;
    for (int a = l * l; a < (l + 1) * (l + 1); a++) s += xr[a * F] * xr[a * F];
    out[((size_t)i * (L + 1) + l) * F + f] = lambda[l] * sqrt(s);
}

// X̄[i,a,f] = flat̄[i, l·F+f]·λ_l/n·X[i,a,f] with n the block's norm, and 0 where the block
// vanishes (spherical_norm's custom JVP divides by 1 there: zero, not NaN).
// global = (F, L+1, rows): one work-item per block, its norm once for its 2l+1 slots (one per
// slot recomputed it (2l+1)² times a block: 455 squares for 49 slots at L = 6; 37 ms of NaCl
// 12³ on PoCL). The norm sums the same terms in the same order, so the same bits.
__kernel void norm_features_backward(__global const real *outBar, __global const real *x,
                                     __global const real *lambda, __global real *xBar,
                                     const int rows, const int L, const int F) {
    const int f = get_global_id(0), l = get_global_id(1), i = get_global_id(2);
    if (f >= F || l > L || i >= rows) return;
    const int slots = (L + 1) * (L + 1);
    __global const real *xr = x + (size_t)i * slots * F + f;
    real s = 0;
    for (int b = l * l; b < (l + 1) * (l + 1); b++) s += xr[b * F] * xr[b * F];
    const real n = sqrt(s);
    const real g = outBar[((size_t)i * (L + 1) + l) * F + f];
    for (int a = l * l; a < (l + 1) * (l + 1); a++)
        xBar[((size_t)i * slots + a) * F + f] = n > 0 ? g * lambda[l] / n * xr[a * F] : 0;
}

// ---- Tensor, 8 features and 2 rows per work-item (CPU devices) ------------------------------
//
// The same sums as tensor_forward / tensor_backward_x / tensor_backward_y, each lane in the
// same order, for F a multiple of 8: one work-item per 8 consecutive features of two rows
// (i0 = 2·gid, i1 = i0 + 1), with 8-wide loads of the coupled weights and both operands. A CPU
// compiler turns each entry into a few vector instructions instead of a scalar loop per
// feature, and the two rows share each entry's weights and slot pair (one load of each for two
// products). An odd last row is its own partner: computed twice, stored once.
// global = (F/8, slots, ⌈rows/2⌉).

__kernel void tensor_forward8(__global const real *x, const int xStride, const int xOffset,
                              __global const real *y, const int yStride, const int yOffset,
                              __global const int *yIndex, const int hasIndex,
                              __global const real *coupled, __global const int2 *slots,
                              __global const int *offsets, __global real *z, const int rows,
                              const int slots1, const int slots2, const int slots3, const int F) {
    const int f = 8 * get_global_id(0), c = get_global_id(1), i0 = 2 * get_global_id(2);
    if (f >= F || c >= slots3 || i0 >= rows) return;
    const int i1 = min(i0 + 1, rows - 1);
    const size_t iy0 = hasIndex ? (size_t)yIndex[i0] : (size_t)i0, iy1 = hasIndex ? (size_t)yIndex[i1] : (size_t)i1;
    __global const real *xr0 = x + (size_t)i0 * slots1 * xStride + xOffset + f;
    __global const real *xr1 = x + (size_t)i1 * slots1 * xStride + xOffset + f;
    __global const real *yr0 = y + iy0 * slots2 * yStride + yOffset + f;
    __global const real *yr1 = y + iy1 * slots2 * yStride + yOffset + f;
    real8 acc0 = (real8)(0), acc1 = (real8)(0);
    for (int q = offsets[c]; q < offsets[c + 1]; q++) {
        const int2 ab = slots[q];
        const real8 w = vload8(0, coupled + (size_t)q * F + f);
        acc0 += w * vload8(0, xr0 + ab.x * xStride) * vload8(0, yr0 + ab.y * yStride);
        acc1 += w * vload8(0, xr1 + ab.x * xStride) * vload8(0, yr1 + ab.y * yStride);
    }
    vstore8(acc0, 0, z + ((size_t)i0 * slots3 + c) * F + f);
    if (i1 != i0) vstore8(acc1, 0, z + ((size_t)i1 * slots3 + c) * F + f);
}

__kernel void tensor_backward_x8(__global const real *zBar, __global const real *y, const int yStride,
                                 const int yOffset, __global const int *yIndex, const int hasIndex,
                                 __global const real *coupled, __global const int2 *slots,
                                 __global const int *offsets, __global real *xBar, const int xStride,
                                 const int xOffset, const int rows, const int slots1, const int slots2,
                                 const int slots3, const int F) {
    const int f = 8 * get_global_id(0), a = get_global_id(1), i0 = 2 * get_global_id(2);
    if (f >= F || a >= slots1 || i0 >= rows) return;
    const int i1 = min(i0 + 1, rows - 1);
    const size_t iy0 = hasIndex ? (size_t)yIndex[i0] : (size_t)i0, iy1 = hasIndex ? (size_t)yIndex[i1] : (size_t)i1;
    __global const real *zr0 = zBar + (size_t)i0 * slots3 * F + f;
    __global const real *zr1 = zBar + (size_t)i1 * slots3 * F + f;
    __global const real *yr0 = y + iy0 * slots2 * yStride + yOffset + f;
    __global const real *yr1 = y + iy1 * slots2 * yStride + yOffset + f;
    real8 acc0 = (real8)(0), acc1 = (real8)(0);
    for (int q = offsets[a]; q < offsets[a + 1]; q++) {
        const int2 bc = slots[q];
        const real8 w = vload8(0, coupled + (size_t)q * F + f);
        acc0 += w * vload8(0, zr0 + bc.y * F) * vload8(0, yr0 + bc.x * yStride);
        acc1 += w * vload8(0, zr1 + bc.y * F) * vload8(0, yr1 + bc.x * yStride);
    }
    vstore8(acc0, 0, xBar + ((size_t)i0 * slots1 + a) * xStride + xOffset + f);
    if (i1 != i0) vstore8(acc1, 0, xBar + ((size_t)i1 * slots1 + a) * xStride + xOffset + f);
}

__kernel void tensor_backward_y8(__global const real *zBar, __global const real *x, const int xStride,
                                 const int xOffset, __global const real *coupled, __global const int2 *slots,
                                 __global const int *offsets, __global real *out, const int outStride,
                                 const int outOffset, const int rows, const int slots1, const int slots2,
                                 const int slots3, const int F) {
    const int f = 8 * get_global_id(0), b = get_global_id(1), i0 = 2 * get_global_id(2);
    if (f >= F || b >= slots2 || i0 >= rows) return;
    const int i1 = min(i0 + 1, rows - 1);
    __global const real *zr0 = zBar + (size_t)i0 * slots3 * F + f;
    __global const real *zr1 = zBar + (size_t)i1 * slots3 * F + f;
    __global const real *xr0 = x + (size_t)i0 * slots1 * xStride + xOffset + f;
    __global const real *xr1 = x + (size_t)i1 * slots1 * xStride + xOffset + f;
    real8 acc0 = (real8)(0), acc1 = (real8)(0);
    for (int q = offsets[b]; q < offsets[b + 1]; q++) {
        const int2 ac = slots[q];
        const real8 w = vload8(0, coupled + (size_t)q * F + f);
        acc0 += w * vload8(0, zr0 + ac.y * F) * vload8(0, xr0 + ac.x * xStride);
        acc1 += w * vload8(0, zr1 + ac.y * F) * vload8(0, xr1 + ac.x * xStride);
    }
    vstore8(acc0, 0, out + ((size_t)i0 * slots2 + b) * outStride + outOffset + f);
    if (i1 != i0) vstore8(acc1, 0, out + ((size_t)i1 * slots2 + b) * outStride + outOffset + f);
}
