// Per-pair geometry of LOREM's `Initial` (docs/MATH.md §1, §2, §7.1) and its backward
// (§10.2 G1): pair vectors, distances, cutoff-weighted Bernstein basis with e3x's custom
// derivative rule, Racah spherical harmonics with their gradients, pair-vector gradients and
// their scatter onto atoms without atomics.
//
// Pairs are sorted by center atom (CSR offsets `start`), and `reverse[p]` is the index of the
// pair (o, c, −S), present because the list is full (§0), so atom i's gradient
//   ∂E/∂R_i = Σ_{p: o(p)=i} ḡ_p − Σ_{p: c(p)=i} ḡ_p = Σ_{p: c(p)=i} (ḡ_reverse(p) − ḡ_p)
// is a gather over its own pairs: deterministic and free of float atomics.
//
// The host guarantees K ≤ MAX_RADIAL and L ≤ MAX_DEGREE (private arrays are sized by them).

#define MAX_DEGREE 12
#define MAX_RADIAL 64
// ε = 2^−24 (float32 epsneg): e3x's switch to the one-hot end values (§2.3).
#define BERNSTEIN_EPS 5.9604644775390625e-08
#ifdef REAL_IS_DOUBLE
#define PI_REAL M_PI
#else
#define PI_REAL M_PI_F
#endif

// The masked Bernstein evaluation of degree n (§2.3): one-hot ends for x < ε and x > 1 − ε,
// otherwise exp(β_k + k ln x + (n−k) log1p(−x)) with the float32 β table jax trained with.
static void bernstein(const real x, const int n, __global const real *beta, real *out) {
    if (x < (real)BERNSTEIN_EPS) {
        for (int k = 0; k <= n; k++) out[k] = k == 0 ? 1 : 0;
        return;
    }
    if (x > (real)1 - (real)BERNSTEIN_EPS) {
        for (int k = 0; k <= n; k++) out[k] = k == n ? 1 : 0;
        return;
    }
    const real lx = log(x), l1x = log1p(-x);
    for (int k = 0; k <= n; k++) out[k] = exp(beta[k] + (real)k * lx + (real)(n - k) * l1x);
}

// Y_l^m(u) for unit u in e3x's slot order and ∂Y/∂u of this extension off the sphere (§1):
// Q_l^m by the stable three-term recursion in z from the diagonal Q_m^m (`diag`), and
// C_m + iS_m = (x + iy)^m. Only the tangential part of ∂Y/∂u is meaningful, and only that part
// survives the projection in ḡ (§10.2 G1). One pass serves the forward and the backward: it
// writes the S = (L+1)² values to y and the S×3 gradients to dy where those are not 0, and
// where yBar is not 0 returns ū = Σ_a Ȳ_a ∂Y_a/∂u, accumulated as each slot is reached (the
// backward's ∂Y/∂u without storing it). y and yBar are private arrays of MAX_SLOTS (the kernels
// that fuse the harmonics into a pair's backward hold both there, never in global memory).
#define MAX_SLOTS ((MAX_DEGREE + 1) * (MAX_DEGREE + 1))
static real3 harmonics_pass(const real3 u, const int L, __global const real *diag, real *y,
                            __global real *dy, const real *yBar) {
    real c[MAX_DEGREE + 1], s[MAX_DEGREE + 1];
    c[0] = 1;
    s[0] = 0;
    for (int m = 1; m <= L; m++) {
        c[m] = u.x * c[m - 1] - u.y * s[m - 1];
        s[m] = u.x * s[m - 1] + u.y * c[m - 1];
    }
    const real r2 = sqrt((real)2);
    real3 acc = (real3)(0);
    for (int m = 0; m <= L; m++) {
        real q2 = 0, d2 = 0, q1 = diag[m], d1 = 0;  // Q_{l−2}, Q_{l−1} and their z-derivatives
        for (int l = m; l <= L; l++) {
            real q = q1, dq = d1;
            if (l > m) {
                const real a = (real)(2 * l - 1);
                const real b = sqrt((real)((l - 1) * (l - 1) - m * m));  // 0 at l = m+1
                const real nn = sqrt((real)(l * l - m * m));
                q = (a * u.z * q1 - b * q2) / nn;
                dq = (a * (q1 + u.z * d1) - b * d2) / nn;
                q2 = q1; d2 = d1;
                q1 = q; d1 = dq;
            }
            if (m == 0) {
                const int k = l * l + 2 * l;
                const real3 grad = (real3)(0, 0, dq);
                if (y) y[k] = q;
                if (dy) vstore3(grad, k, dy);
                if (yBar) acc += yBar[k] * grad;
            } else {
                const int kc = l * l + 2 * (l - m), ks = kc + 1;  // slots of +m and −m
                const real fm = (real)m;
                // ∂C_m/∂x = m C_{m−1}, ∂C_m/∂y = −m S_{m−1},
                // ∂S_m/∂x = m S_{m−1}, ∂S_m/∂y = m C_{m−1}.
                const real3 gc = r2 * (real3)(q * fm * c[m - 1], -q * fm * s[m - 1], dq * c[m]);
                const real3 gs = r2 * (real3)(q * fm * s[m - 1], q * fm * c[m - 1], dq * s[m]);
                if (y) {
                    y[kc] = r2 * q * c[m];
                    y[ks] = r2 * q * s[m];
                }
                if (dy) {
                    vstore3(gc, kc, dy);
                    vstore3(gs, ks, dy);
                }
                if (yBar) {
                    acc += yBar[kc] * gc;
                    acc += yBar[ks] * gs;
                }
            }
        }
    }
    return acc;
}

// radial[k] = B_k(r/c)·fc(r) and dradial[k] its r-derivative with the custom rule
// dB_k/dr = n(B_{k−1}^{(n−1)} − B_k^{(n−1)})/c (§2.2, §2.3; `betaLower` is the n−1 table).
// With dradial null only the values: the derivative's n−1 basis is half the cost of the
// forward's pair kernel on PoCL (359,424 pairs, K = 32, L = 6: 173 → 95 ms without it).
static void radial_terms(const real r, const real cutoff, const int K, __global const real *beta,
                         __global const real *betaLower, real *radial, real *dradial) {
    const real x = r / cutoff;
    const real fc = x < 1 ? (real)0.5 * cos(PI_REAL * x) + (real)0.5 : 0;
    real b[MAX_RADIAL];
    const int n = K - 1;
    bernstein(x, n, beta, b);
    for (int k = 0; k < K; k++) radial[k] = b[k] * fc;
    if (!dradial) return;
    const real dfc = x < 1 ? -(PI_REAL / (2 * cutoff)) * sin(PI_REAL * x) : 0;
    real bl[MAX_RADIAL];
    bernstein(x, n - 1, betaLower, bl);
    for (int k = 0; k < K; k++) {
        const real left = k > 0 ? bl[k - 1] : 0, right = k < n ? bl[k] : 0;
        dradial[k] = (real)n * (left - right) / cutoff * fc + b[k] * dfc;
    }
}

// One work-item per pair p = first + q, q < P: R_p = R_o − R_c + S_p·h (§0, h's rows are the
// lattice vectors), r_p, radial = B(r/c)·fc(r) and its r-derivative with the custom rule
// dB_k/dr = n(B_{k−1}^{(n−1)} − B_k^{(n−1)})/c (§2.2, §2.3; `betaLower` is the n−1 table),
// and Y(u_p), ∂Y/∂u (§1). Outputs: with `geometry` vectors [·,3] and distances [·] at row p;
// with `edges` radial [P,K] and y [P,S] at row q, and with withDerivatives dradial [P,K] and
// dy [P,S,3] (else the backward recomputes them). One launch over all pairs writes all of them;
// an engine that makes the edge inputs a chunk of pairs at a time (the initial layers without
// message passing) launches once for the geometry and once per chunk for the rest.
__kernel void pair_features(__global const real *positions, __global const real *cells,
                            __global const int *atomStructure,
                            __global const int *centers, __global const int *others,
                            __global const int *shifts, const int first, const int P, const real cutoff,
                            const int K, __global const real *beta, __global const real *betaLower,
                            const int L, __global const real *diag, const int geometry,
                            __global real *vectors, __global real *distances, const int edges,
                            __global real *radial, const int withDerivatives, __global real *dradial,
                            __global real *y, __global real *dy) {
    const int q = get_global_id(0);
    if (q >= P) return;
    const int p = first + q;
    const int c = centers[p], o = others[p];
    // Batches: each structure has its own cell, found through the center's structure.
    __global const real *cell = cells + (size_t)9 * atomStructure[c];
    const real3 shift = (real3)((real)shifts[3 * p], (real)shifts[3 * p + 1], (real)shifts[3 * p + 2]);
    const real3 v = vload3(o, positions) - vload3(c, positions) +
                    (shift.x * vload3(0, cell) + shift.y * vload3(1, cell) + shift.z * vload3(2, cell));
    const real r = sqrt(dot(v, v));
    const real3 u = v / r;
    if (geometry) {
        vstore3(v, p, vectors);
        distances[p] = r;
    }
    if (!edges) return;
    real rad[MAX_RADIAL], drad[MAX_RADIAL];
    radial_terms(r, cutoff, K, beta, betaLower, rad, withDerivatives ? drad : 0);
    for (int k = 0; k < K; k++) radial[(size_t)q * K + k] = rad[k];
    if (withDerivatives) {
        for (int k = 0; k < K; k++) dradial[(size_t)q * K + k] = drad[k];
    }
    const int S = (L + 1) * (L + 1);
    real yp[MAX_SLOTS];
    harmonics_pass(u, L, diag, yp, withDerivatives ? dy + (size_t)q * S * 3 : 0, 0);
    for (int a = 0; a < S; a++) y[(size_t)q * S + a] = yp[a];
}

// ḡ_p = ∂E/∂R_p = r̄u + (ū − (ū·u)u)/r (§10.2 G1) with r̄ = Σ_k radial̄_k·dradial_k and
// ū = Σ_a Ȳ_a ∂Y_a/∂u; the projection removes the meaningless radial part of ∂Y/∂u. dradial
// and ∂Y/∂u are recomputed from the pair vector, not read: the forward stores neither ([P,K]
// and [P,S,3], 716 bytes a pair in float32 at K = 32, L = 6). dradial comes out bit for bit as
// the forward's; ū sums the same products in the recursion's order rather than slot order.
//
// radial̄ and Ȳ are the sums of every stage's cotangents. The stored ones (radialBar, yBar,
// each only if present) are the message-passing stages'; with `initial` the initial layers'
// share is made here from its per-atom form (§7.2 backward), never stored as [P, ·]:
//   w_j = Σ_k (TW)[row, k·c+j]·radial_k                            (the pair weights, again)
//   Ȳ_a += Σ_f Ā[c(p),a,f]·w[deg a·s+f]                            (edge basis, Ȳ half)
//   w̄[l·s+f] = Σ_{deg a=l} Ā[c(p),a,f]·Y_a                          (edge basis, w̄ half)
//   radial̄_k += node[c(p), row mod S, k] + Σ_j w̄_j·(TW)[row,k·c+j]    (species-pair table)
// with radial and Y recomputed here, w and w̄ in private memory (c = (L+1)·s ≤
// MAX_EDGE_WEIGHTS). w's sums are in contract_radial's order; Ȳ's and w̄'s Ā contractions run
// 8 wide for s a multiple of 8; the table's share of r̄ is taken as Σ_j w̄_j·v_j with
// v_j = Σ_k (TW)[row,k·c+j]·radial′_k (the same sum regrouped: one dot instead of K). So the
// result equals the separate kernels' to rounding, not bit for bit. For a 12,288-atom
// water box with lorem-jax's defaults those buffers were w [P,56] 144 MiB, Ȳ [P,49] 124 MiB
// and radial̄ [P,32] 84 MiB, live at the memory peak with the harmonics, which the backward
// no longer needs either. Recomputing w costs K·c multiply-adds a pair (1,792), as much as
// the radial cotangent's w̄ term; its scalar message term, node = Σ_f n̄[c(p),f]·T[row,k·d+f]
// (K·d = 4,096), depends only on the centre and the neighbour's species and comes per atom
// (`contract_table_node` in pairs.cl, the same bits).
#define MAX_EDGE_WEIGHTS 128
__kernel void pair_vector_gradients(__global const real *vectors, __global const real *distances,
                                    const int hasRadialBar, __global const real *radialBar,
                                    const int hasYBar, __global const real *yBar,
                                    const int P, const real cutoff, const int K,
                                    __global const real *beta, __global const real *betaLower,
                                    const int L, __global const real *diag,
                                    const int initial, __global const int *centers,
                                    __global const real *aBar, const int s,
                                    __global const real *folded, __global const real *node, const int species,
                                    __global const int *coefRow, __global real *g) {
    const int p = get_global_id(0);
    if (p >= P) return;
    const real r = distances[p];
    const real3 u = vload3(p, vectors) / r;
    const int S = (L + 1) * (L + 1), c = (L + 1) * s;
    const size_t center = initial ? (size_t)centers[p] : 0;
    const size_t row = initial ? (size_t)coefRow[p] : 0;
    real rad[MAX_RADIAL], drad[MAX_RADIAL];
    radial_terms(r, cutoff, K, beta, betaLower, rad, drad);
    // w_j = Σ_k (TW)[row, k·c+j]·radial_k, and with it v_j = Σ_k (TW)[row, k·c+j]·radial′_k for
    // the radial cotangent's pair term (below): one pass over the table row for both.
    real w[MAX_EDGE_WEIGHTS], v[MAX_EDGE_WEIGHTS];
    const bool wide = s % 8 == 0;  // then c = (L+1)·s is too
    if (initial && wide) {
        // 8 columns at a time with k inside, so the two sums stay in registers (with k outside
        // they were loaded and stored from private memory every k: a quarter of this kernel on
        // PoCL); every w_j and v_j still sums k = 0, 1, … .
        __global const real *t = folded + row * K * c;
        for (int j = 0; j < c; j += 8) {
            real8 wj = (real8)(0), vj = (real8)(0);
            for (int k = 0; k < K; k++) {
                const real8 tk = vload8(0, t + k * c + j);
                wj += tk * rad[k];
                vj += tk * drad[k];
            }
            vstore8(wj, 0, w + j);
            vstore8(vj, 0, v + j);
        }
    } else if (initial) {
        // k outside, so each table row is read in order; every w_j still sums k = 0, 1, … .
        for (int j = 0; j < c; j++) w[j] = v[j] = 0;
        for (int k = 0; k < K; k++) {
            __global const real *tk = folded + (row * K + k) * c;
            for (int j = 0; j < c; j++) {
                w[j] += tk[j] * rad[k];
                v[j] += tk[j] * drad[k];
            }
        }
    }
    // The two Ā contractions run over f in 8-wide vectors when s is a multiple of 8 (lorem-jax's
    // default s = 8): with a scalar loop of 8 per slot they took about a quarter of this kernel
    // on PoCL (perf annotate, NaCl 12³). Ȳ's dot then sums f in 8 lanes, added in lane order;
    // w̄ sums over a in the same order either way.
    real yb[MAX_SLOTS], y[MAX_SLOTS];
    for (int l = 0; l <= L; l++) {
        for (int a = l * l; a < (l + 1) * (l + 1); a++) {
            real acc = 0;
            if (initial) {
                __global const real *ar = aBar + (center * S + a) * s;
                if (wide) {
                    for (int f = 0; f < s; f += 8) {
                        const real8 t = vload8(0, ar + f) * vload8(0, w + l * s + f);
                        acc += t.s0 + t.s1 + t.s2 + t.s3 + t.s4 + t.s5 + t.s6 + t.s7;
                    }
                } else {
                    for (int f = 0; f < s; f++) acc += ar[f] * w[l * s + f];
                }
            }
            if (!hasYBar) yb[a] = acc;
            else yb[a] = initial ? yBar[(size_t)p * S + a] + acc : yBar[(size_t)p * S + a];
        }
    }
    const real3 uBar = harmonics_pass(u, L, diag, initial ? y : 0, 0, yb);
    real wb[MAX_EDGE_WEIGHTS];
    if (initial) {
        for (int l = 0; l <= L; l++) {
            if (wide) {
                for (int f = 0; f < s; f += 8) {
                    real8 acc = (real8)(0);
                    for (int a = l * l; a < (l + 1) * (l + 1); a++) acc += vload8(0, aBar + (center * S + a) * s + f) * y[a];
                    vstore8(acc, 0, wb + l * s + f);
                }
            } else {
                for (int f = 0; f < s; f++) {
                    real acc = 0;
                    for (int a = l * l; a < (l + 1) * (l + 1); a++) acc += aBar[(center * S + a) * s + f] * y[a];
                    wb[l * s + f] = acc;
                }
            }
        }
    }
    // r̄ = Σ_k radial̄_k·radial′_k with radial̄_k = stored_k + node_k + Σ_j w̄_j·(TW)[row, k·c+j]:
    // the pair term summed over k first, Σ_j w̄_j·v_j, one dot instead of K (each with a lane
    // sum and a scalar tail of c mod 16: with K = 32, c = 56, 40% of this kernel on PoCL).
    real rBar = 0;
    for (int k = 0; k < K; k++) {
        real rb = hasRadialBar ? radialBar[(size_t)p * K + k] : 0;
        if (initial) rb += node[(center * species + row % species) * K + k];
        rBar += rb * drad[k];
    }
    if (initial) {
        real pair = 0;
        for (int j = 0; j < c; j++) pair += wb[j] * v[j];
        rBar += pair;
    }
    vstore3(rBar * u + (uBar - dot(uBar, u) * u) / r, p, g);
}

// One work-item per atom i: ∂E/∂R_i as the gather over its CSR pairs (see the header), and
// its share Σ_{p: c(p)=i} R_p ⊗ ḡ_p of the virial W = Σ_p R_p ⊗ ḡ_p (§10.2 G1: this already
// holds the cell path Σ_A S_pA ḡ_p), row-major [N,9]. Pairs are visited in CSR order.
__kernel void scatter_pair_gradients(__global const real *vectors, __global const real *g,
                                     __global const int *start, __global const int *reverse,
                                     const int N, __global real *grad, __global real *virial) {
    const int i = get_global_id(0);
    if (i >= N) return;
    real3 acc = (real3)(0);
    real3 w0 = (real3)(0), w1 = (real3)(0), w2 = (real3)(0);  // rows a = x, y, z of R ⊗ ḡ
    for (int p = start[i]; p < start[i + 1]; p++) {
        const real3 gp = vload3(p, g), rp = vload3(p, vectors);
        acc += vload3(reverse[p], g) - gp;
        w0 += rp.x * gp;
        w1 += rp.y * gp;
        w2 += rp.z * gp;
    }
    vstore3(acc, i, grad);
    vstore3(w0, 3 * i, virial);
    vstore3(w1, 3 * i + 1, virial);
    vstore3(w2, 3 * i + 2, virial);
}

// W_k = Σ_i partial[i, k] in increasing i: nine work-items, a fixed order, so the virial is
// bit-reproducible (no atomics, no work-group-size-dependent tree).
__kernel void sum_virial(__global const real *partial, __global const int *structureStart, const int S,
                         __global real *virial) {
    const int k = get_global_id(0), s = get_global_id(1);
    if (k >= 9 || s >= S) return;
    real acc = 0;
    for (int i = structureStart[s]; i < structureStart[s + 1]; i++) acc += partial[(size_t)i * 9 + k];
    virial[(size_t)s * 9 + k] = acc;
}
