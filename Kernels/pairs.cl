// Pair↔atom plumbing shared by every LOREM stage (docs/MATH.md §7): segment sums Σ_{p→i},
// row gathers, column concatenation, the radial contraction of RadialCoefficients (§7.1) and
// the spherical edge basis G = w(deg a)·Y_a (§7.2 steps 5 and 9), with their backwards.
//
// Sums over pairs never scatter: a row map (gather index p → source row, plus its transpose
// as CSR: for each source row the pairs that read it, in increasing p) lets one work-item
// own each output row and add its pairs in a fixed order. No atomics; bit-reproducible.
//
// Obvious GPU optimisation, not done: one work-group per output row with the columns across
// its work-items is what these already do via global dimension 0 (coalesced along columns).

// out[r, k] = Σ_{q ∈ [offsets[r], offsets[r+1])} x[members[q], k]; global = (cols, rows), the
// rows from firstRow on (all outRows, or an accumulating chunk's mapped rows). With the centers'
// map (pairs sorted by center) this is the segment sum; with the others' map it is the transpose
// of the gather through o(p).
// With `accumulate` the sum continues from out's value: a pair range split into chunks at any
// points, summed chunk after chunk into one zeroed buffer, adds each row's terms in the same
// order as one launch over all pairs, so chunked sums are bit-identical to unchunked ones.
__kernel void segment_sum(__global const real *x, __global const int *offsets,
                          __global const int *members, __global real *out, const int outRows,
                          const int cols, const int accumulate, const int firstRow) {
    const int k = get_global_id(0), r = firstRow + (int)get_global_id(1);
    if (k >= cols || r >= outRows) return;
    real acc = accumulate ? out[(size_t)r * cols + k] : 0;
    for (int q = offsets[r]; q < offsets[r + 1]; q++) acc += x[(size_t)members[q] * cols + k];
    out[(size_t)r * cols + k] = acc;
}

// out[p, k] = x[index[p], k]; global = (cols, rows).
__kernel void gather_rows(__global const real *x, __global const int *index, __global real *out,
                          const int rows, const int cols) {
    const int k = get_global_id(0), p = get_global_id(1);
    if (k >= cols || p >= rows) return;
    out[(size_t)p * cols + k] = x[(size_t)index[p] * cols + k];
}

// dst[r, dstOffset + k] = src[r, srcOffset + k] for k < cols: one half of a concatenation
// [a ‖ b], or of its backward (the split); global = (cols, rows).
__kernel void copy_columns(__global const real *src, const int srcStride, const int srcOffset,
                           __global real *dst, const int dstStride, const int dstOffset,
                           const int rows, const int cols) {
    const int k = get_global_id(0), r = get_global_id(1);
    if (k >= cols || r >= rows) return;
    dst[(size_t)r * dstStride + dstOffset + k] = src[(size_t)r * srcStride + srcOffset + k];
}

// e[p,f] = Σ_k coef[row(p), k·d+f]·radial[p,k], row(p) = coefRow[p] (species-pair table)
// when hasRow, else p; global = (ceil(d/16), P).
__kernel void contract_radial(__global const real *coef, __global const int *coefRow, const int hasRow,
                              __global const real *radial, __global real *e, const int P, const int K,
                              const int d) {
    // One work-item per (16 features, pair) with 16-wide loads of the coefficient rows, the shape
    // PoCL turns into SIMD (as dense_forward); the sum over k runs in increasing k either way.
    const int c = get_global_id(0), p = get_global_id(1);
    const int f0 = c * 16;
    if (f0 >= d || p >= P) return;
    __global const real *cr = coef + (size_t)(hasRow ? coefRow[p] : p) * K * d;
    __global const real *rr = radial + (size_t)p * K;
    if (f0 + 16 <= d) {
        real16 acc = (real16)(0);
        for (int k = 0; k < K; k++) acc += vload16(0, cr + (size_t)k * d + f0) * rr[k];
        vstore16(acc, 0, e + (size_t)p * d + f0);
        return;
    }
    // The tail: 8 wide where it can (d = (L+1)·s = 56 at lorem-jax's defaults leaves 8), then
    // scalar; each element still sums k in increasing order, the same bits.
    int f = f0;
    if (f + 8 <= d) {
        real8 acc = (real8)(0);
        for (int k = 0; k < K; k++) acc += vload8(0, cr + (size_t)k * d + f) * rr[k];
        vstore8(acc, 0, e + (size_t)p * d + f);
        f += 8;
    }
    for (; f < d; f++) {
        real acc = 0;
        for (int k = 0; k < K; k++) acc += cr[(size_t)k * d + f] * rr[k];
        e[(size_t)p * d + f] = acc;
    }
}

// The scalar message Σ_{p→i} Σ_k T[row(p), k·d+f]·radial[p,k] of the species-pair table T
// [S², K·d] in two steps, since row(p) = slot(i)·S + slot(o(p)) takes only S values at centre i:
// first each centre's radial basis summed per neighbour species (this kernel), then one
// contraction per atom and species (contract_table_sum): K·d multiply-adds per atom and
// species instead of per pair (25–54 pairs an atom against S = 2 for NaCl or water).
// R[i−firstRow, o, k] = Σ_{p→i, row(p) mod S = o} radial[p,k], pairs in CSR order: one
// work-item owns R[i, ·, k] and adds each pair to its species' entry as it comes (one pass
// over the centre's pairs, not one per species); global = (K, rows) for the rows firstRow…
// (all N, or a chunk of whole centres).
__kernel void radial_species_sum(__global const real *radial, __global const int *coefRow, const int S,
                                 __global const int *offsets, __global const int *members, __global real *R,
                                 const int N, const int K, const int firstRow) {
    const int k = get_global_id(0), i = firstRow + (int)get_global_id(1);
    if (k >= K || i >= N) return;
    __global real *r = R + (size_t)(i - firstRow) * S * K + k;
    for (int o = 0; o < S; o++) r[o * K] = 0;
    for (int q = offsets[i]; q < offsets[i + 1]; q++) {
        const int p = members[q];
        r[(coefRow[p] % S) * K] += radial[(size_t)p * K + k];
    }
}

// out[i,f] = Σ_o Σ_k T[slot(i)·S+o, k·d+f]·R[i−firstRow, o, k], o then k increasing, 16
// features a work-item (PoCL's SIMD, as dense_forward); global = ((d + 15) / 16, rows).
__kernel void contract_table_sum(__global const real *table, __global const int *slot, const int S,
                                 __global const real *R, __global real *out, const int N, const int K, const int d,
                                 const int firstRow) {
    const int c = get_global_id(0), i = firstRow + (int)get_global_id(1);
    const int f0 = c * 16;
    if (f0 >= d || i >= N) return;
    const size_t first = (size_t)slot[i] * S;
    __global const real *r = R + (size_t)(i - firstRow) * S * K;
    if (f0 + 16 <= d) {
        real16 acc = (real16)(0);
        for (int o = 0; o < S; o++) {
            for (int k = 0; k < K; k++) acc += vload16(0, table + ((first + o) * K + k) * d + f0) * r[o * K + k];
        }
        vstore16(acc, 0, out + (size_t)i * d + f0);
    } else {
        for (int f = f0; f < d; f++) {
            real acc = 0;
            for (int o = 0; o < S; o++) {
                for (int k = 0; k < K; k++) acc += table[((first + o) * K + k) * d + f] * r[o * K + k];
            }
            out[(size_t)i * d + f] = acc;
        }
    }
}

// node[i,o,k] = Σ_f n̄[i,f]·table[slot(i)·S+o, k·d+f] for the S rows of centre i's species:
// the scalar message's share of the radial cotangent, Σ_f n̄[c(p),f]·table[row(p), k·d+f], which
// depends on a pair only through (c(p), row(p)), made once per atom and neighbour species
// instead of once per pair (25–54 pairs an atom against S = 2 species for NaCl or water). The
// same dot_rows, so the same bits as per pair. global = (K, S, N).
__kernel void contract_table_node(__global const real *nodeBar, __global const real *table,
                                  __global const int *slot, const int S, const int d, __global real *node,
                                  const int N, const int K) {
    const int k = get_global_id(0), o = get_global_id(1), i = get_global_id(2);
    if (k >= K || o >= S || i >= N) return;
    const size_t row = (size_t)slot[i] * S + o;
    node[((size_t)i * S + o) * K + k] = dot_rows(nodeBar + (size_t)i * d, table + (row * K + k) * d, d);
}

// radial̄[p,k] = Σ_j ā[p,j]·folded[row(p), k·c+j] + Σ_f n̄[c(p),f]·table[row(p), k·d+f]: the
// backward of the species-pair table's two uses, coefficients = Σ_k (T_k W) r_k with ā its
// cotangent, and the scalar message Σ_{p→i} Σ_k T_k r_k with n̄ the center's cotangent (read
// by row: no [P, d] copy). global = (K, P).
__kernel void contract_radial_backward_radial_folded(__global const real *aBar, __global const real *folded,
                                                     const int c, __global const real *nodeBar,
                                                     __global const int *nodeRow, __global const real *table,
                                                     const int d, __global const int *coefRow,
                                                     __global real *radialBar, const int P, const int K) {
    const int k = get_global_id(0), p = get_global_id(1);
    if (k >= K || p >= P) return;
    const size_t row = (size_t)coefRow[p];
    const real node = dot_rows(nodeBar + (size_t)nodeRow[p] * d, table + (row * K + k) * d, d);
    const real pair = dot_rows(aBar + (size_t)p * c, folded + (row * K + k) * c, c);
    radialBar[(size_t)p * K + k] = node + pair;
}

// radial̄[p,k] = Σ_f ē[p,f]·coef[row(p), k·d+f]; global = (K, P).
__kernel void contract_radial_backward_radial(__global const real *eBar, __global const real *coef,
                                              __global const int *coefRow, const int hasRow,
                                              __global real *radialBar, const int P, const int K,
                                              const int d) {
    const int k = get_global_id(0), p = get_global_id(1);
    if (k >= K || p >= P) return;
    const size_t row = (size_t)(hasRow ? coefRow[p] : p);
    radialBar[(size_t)p * K + k] = dot_rows(eBar + (size_t)p * d, coef + (row * K + k) * d, d);
}

// coef̄[p, k·d+f] = ē[p,f]·radial[p,k] (per-pair coefficients); global = (K·d, P).
__kernel void contract_radial_backward_coefficients(__global const real *eBar, __global const real *radial,
                                                    __global real *coefBar, const int P, const int K,
                                                    const int d) {
    const int j = get_global_id(0), p = get_global_id(1);
    if (j >= K * d || p >= P) return;
    coefBar[(size_t)p * K * d + j] = eBar[(size_t)p * d + j % d] * radial[(size_t)p * K + j / d];
}

// Degree of flat slot a (slots l² … l²+2l hold degree l).
inline int slot_degree(const int a) {
    int l = (int)sqrt((float)a);
    while (l * l > a) l--;
    while ((l + 1) * (l + 1) <= a) l++;
    return l;
}

// G[p,a,f] = w[p, deg a·s+f]·Y[p,a]; global = (s, slots, P).
__kernel void edge_basis(__global const real *w, __global const real *Y, __global real *G, const int P,
                         const int L, const int s) {
    const int f = get_global_id(0), a = get_global_id(1), p = get_global_id(2);
    const int slots = (L + 1) * (L + 1);
    if (f >= s || a >= slots || p >= P) return;
    G[((size_t)p * slots + a) * s + f] = w[(size_t)p * (L + 1) * s + slot_degree(a) * s + f] * Y[(size_t)p * slots + a];
}

// A[i,a,f] = Σ_{p→i} w[p, deg a·s+f]·Y[p,a]: the edge basis summed over each center's pairs
// (segment_sum of edge_basis) without storing G [P, slots, s]; the same products added in the
// same order (CSR of the centers). global = (s, slots, rows): rows firstRow… of A, as in
// contract_table_sum.
__kernel void edge_basis_segment_sum(__global const real *w, __global const real *Y,
                                     __global const int *offsets, __global const int *members,
                                     __global real *A, const int N, const int L, const int s,
                                     const int firstRow) {
    const int f = get_global_id(0), a = get_global_id(1), i = firstRow + (int)get_global_id(2);
    const int slots = (L + 1) * (L + 1);
    if (f >= s || a >= slots || i >= N) return;
    const int column = slot_degree(a) * s + f;
    real acc = 0;
    for (int q = offsets[i]; q < offsets[i + 1]; q++) {
        const int p = members[q];
        acc += w[(size_t)p * (L + 1) * s + column] * Y[(size_t)p * slots + a];
    }
    A[((size_t)i * slots + a) * s + f] = acc;
}

// The same for s a multiple of 8: one work-item per 8 consecutive features of (slot, centre),
// 8-wide loads of w's row and one Y per pair; each lane sums its pairs in the same order, the
// same bits. global = (s/8, slots, rows). With one work-item per feature the loads of w were
// scalar gathers through `members`: 84 ms of NaCl 12³'s ~1,800 on PoCL.
__kernel void edge_basis_segment_sum8(__global const real *w, __global const real *Y,
                                      __global const int *offsets, __global const int *members,
                                      __global real *A, const int N, const int L, const int s,
                                      const int firstRow) {
    const int f = 8 * get_global_id(0), a = get_global_id(1), i = firstRow + (int)get_global_id(2);
    const int slots = (L + 1) * (L + 1);
    if (f >= s || a >= slots || i >= N) return;
    const int column = slot_degree(a) * s + f;
    real8 acc = (real8)(0);
    for (int q = offsets[i]; q < offsets[i + 1]; q++) {
        const int p = members[q];
        acc += vload8(0, w + (size_t)p * (L + 1) * s + column) * Y[(size_t)p * slots + a];
    }
    vstore8(acc, 0, A + ((size_t)i * slots + a) * s + f);
}

// Ḡ's row of pair p: p itself, or gRow[p] when the cotangent is an atom's row gathered to its
// pairs (the backward of edge_basis_segment_sum reads Ā[c(p)] directly, no [P, slots, s] copy).
inline size_t cotangent_row(__global const int *gRow, const int hasRow, const int p) {
    return hasRow ? (size_t)gRow[p] : (size_t)p;
}

// w̄[p, l·s+f] = Σ_{deg a=l} Ḡ[p,a,f]·Y[p,a]; global = (s, L+1, P).
__kernel void edge_basis_backward_weights(__global const real *gBar, __global const int *gRow, const int hasRow,
                                          __global const real *Y, __global real *wBar, const int P, const int L,
                                          const int s) {
    const int f = get_global_id(0), l = get_global_id(1), p = get_global_id(2);
    if (f >= s || l > L || p >= P) return;
    const int slots = (L + 1) * (L + 1);
    const size_t g = cotangent_row(gRow, hasRow, p);
    real acc = 0;
    for (int a = l * l; a < (l + 1) * (l + 1); a++)
        acc += gBar[(g * slots + a) * s + f] * Y[(size_t)p * slots + a];
    wBar[(size_t)p * (L + 1) * s + l * s + f] = acc;
}

// Ȳ[p,a] = Σ_f Ḡ[p,a,f]·w[p, deg a·s+f]; global = (slots, P).
__kernel void edge_basis_backward_harmonics(__global const real *gBar, __global const int *gRow, const int hasRow,
                                            __global const real *w, __global real *yBar, const int P, const int L,
                                            const int s) {
    const int a = get_global_id(0), p = get_global_id(1);
    const int slots = (L + 1) * (L + 1);
    if (a >= slots || p >= P) return;
    __global const real *gr = gBar + (cotangent_row(gRow, hasRow, p) * slots + a) * s;
    __global const real *wr = w + (size_t)p * (L + 1) * s + slot_degree(a) * s;
    real acc = 0;
    for (int f = 0; f < s; f++) acc += gr[f] * wr[f];
    yBar[(size_t)p * slots + a] = acc;
}

// out = a + b elementwise (residuals); out may be a or b. 8 elements per work-item.
__kernel void add(__global const real *a, __global const real *b, __global real *out, const int count) {
    const int first = 8 * get_global_id(0);
    if (first >= count) return;
    store8_partial(load8_padded(a, first, count) + load8_padded(b, first, count), out, first, count);
}
