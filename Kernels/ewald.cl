// Exact Ewald summation as LOREM calls jax-pme (Ewald, exponent 1, half-space): the forward
// potentials of docs/MATH.md §8 and the explicit geometric gradient of §10.2 (G2, G3, G6), for
// all EWALD_CHANNELS charge channels in one pass. Charges, potentials and cotangents are
// [N, EWALD_CHANNELS] row-major, so an atom's channels are contiguous; positions and pair
// vectors are [·, 3]; each k-vector is a real4 (k_x, k_y, k_z, w_k = G(k)/(2V)) with its integer
// triple (n1, n2, n3, 0), k = Σ_A n_A b_A.
//
// No k-sum evaluates a sine or cosine: e^{i k·R_j} = Π_A e^{i n_A θ_jA} with θ_jA = b_A·R_j, and
// the host uploads, per atom, the table e^{i m θ_jA} for every m of each axis' frequency range
// (EwaldGeometry), so each (atom, k) phase is two complex products of table entries.
//
// The geometry-only setup (λ, σ, K⁺, G, V, the slab frame) comes from the host. Everything here
// is a gather with a fixed summation order (serial loops, no atomics), so two runs are
// bit-identical, and no buffer is larger than O(N + P + N_k) × channels.

#ifndef EWALD_CHANNELS
#error "build with -DEWALD_CHANNELS=C"
#endif
#define NC EWALD_CHANNELS

#define SQRT2 ((real)1.4142135623730950488)
#define PI ((real)3.1415926535897932385)
// sqrt(2/π), the self-interaction and φ_sr′ constant.
#define SQRT_2_OVER_PI ((real)0.79788456080286535588)

inline real3 load3(__global const real *a, const int i) {
    return (real3)(a[3 * i], a[3 * i + 1], a[3 * i + 2]);
}

// φ_sr(r) = 1/r − erf(r/(σ√2))/r, 0 at r = 0 (§8.2). Literal two-term form, not erfc, to follow
// lorem-jax's arithmetic (costs ~1e-3 relative of this term near the cutoff in float32).
inline real short_range(const real r, const real sigma) {
    return r == 0 ? 0 : 1 / r - erf(r / (sigma * SQRT2)) / r;
}

// φ_sr′(r) = −1/r² − [√(2/π)/σ · e^{−r²/(2σ²)} · r − erf(r/(√2σ))]/r² (§10.2 G2).
inline real short_range_derivative(const real r, const real sigma) {
    if (r == 0) return 0;
    const real gauss = SQRT_2_OVER_PI / sigma * exp(-r * r / (2 * sigma * sigma));
    return -1 / (r * r) - (gauss * r - erf(r / (sigma * SQRT2))) / (r * r);
}

inline real2 cmul(const real2 a, const real2 b) {
    return (real2)(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// e^{i k·R} for the atom whose phase-table row is `row` and the k with triple n: the product of
// the row's entries at columns o_A + n_A (o_A: the column of m = 0 on axis A), as (cos, sin).
inline real2 phase(__global const real2 *row, const int4 n, const int o1, const int o2, const int o3) {
    return cmul(cmul(row[o1 + n.x], row[o2 + n.y]), row[o3 + n.z]);
}

// The same product in a loop over k in K⁺ order, where n3 runs fastest: the (n1, n2) factor is
// formed only when it changes (same value as phase(), so same rounding). *n12 starts at an
// impossible pair (INT_MIN, INT_MIN).
inline real2 phase_cached(__global const real2 *row, const int4 n, const int o1, const int o2, const int o3,
                          int2 *n12, real2 *ab) {
    if (n.x != n12->x || n.y != n12->y) {
        *n12 = n.xy;
        *ab = cmul(row[o1 + n.x], row[o2 + n.y]);
    }
    return cmul(*ab, row[o3 + n.z]);
}

// ---------------------------------------------------------------------------------------------
// Shared passes

// Per channel: Q = Σ_j x_j, M = Σ_j x_j z_j, M₂ = Σ_j x_j z_j², z_j = R_j·n̂ (§8.2 background and
// slab moments). n̂ = 0 for bulk leaves only Q. One work-item per channel, serial over atoms.
// out: [NC, 3].
__kernel void ewald_moments(__global const real *pos, __global const real *x, const int N,
                            const real nx, const real ny, const real nz, __global real *out) {
    const int ch = get_global_id(0);
    if (ch >= NC) return;
    const real3 n = (real3)(nx, ny, nz);
    real total = 0, first = 0, second = 0;
    for (int j = 0; j < N; j++) {
        const real xj = x[j * NC + ch], z = dot(load3(pos, j), n);
        total += xj;
        first += xj * z;
        second += xj * z * z;
    }
    out[3 * ch] = total;
    out[3 * ch + 1] = first;
    out[3 * ch + 2] = second;
}

// Pass 1 of the k-sum: C_k = Σ_j x_j cos(k·R_j), S_k = Σ_j x_j sin(k·R_j) for every channel
// (§8.2; §10.2 G6 uses the same sums of V̄). One work-item per k, serial over atoms, so the sum
// order is fixed. sf: [K, 2·NC], the NC cosine sums then the NC sine sums.
// table: [N, M] phases (see phase), ktri: [K] triples.
__kernel void ewald_structure_factors(__global const real2 *table, __global const real *x,
                                      __global const int4 *ktri, const int N, const int K,
                                      const int M, const int o1, const int o2, const int o3,
                                      __global real *sf) {
    const int k = get_global_id(0);
    if (k >= K) return;
    const int4 n = ktri[k];
    real cs[NC], sn[NC];
    for (int ch = 0; ch < NC; ch++) cs[ch] = sn[ch] = 0;
    for (int j = 0; j < N; j++) {
        const real2 e = phase(table + (size_t)j * M, n, o1, o2, o3);
        const real c = e.x, s = e.y;
        __global const real *xj = x + j * NC;
        for (int ch = 0; ch < NC; ch++) {
            cs[ch] += xj[ch] * c;
            sn[ch] += xj[ch] * s;
        }
    }
    __global real *out = sf + (size_t)k * 2 * NC;
    for (int ch = 0; ch < NC; ch++) {
        out[ch] = cs[ch];
        out[NC + ch] = sn[ch];
    }
}

// Fixed-order partial sums of the columns of in [rows, cols]: out[b, c] = Σ of rows
// b·blockRows ..< (b+1)·blockRows. The host adds the blocks in float64: short float32 chains
// keep per-atom or per-k virial contributions accurate. global = (cols, blocks).
__kernel void ewald_block_sums(__global const real *in, const int rows, const int cols,
                               const int blockRows, __global real *out) {
    const int c = get_global_id(0), b = get_global_id(1);
    if (c >= cols) return;
    const int end = min(rows, (b + 1) * blockRows);
    real acc = 0;
    for (int r = b * blockRows; r < end; r++) acc += in[(size_t)r * cols + c];
    out[(size_t)b * cols + c] = acc;
}

// ---------------------------------------------------------------------------------------------
// Forward (§8.2, §8.3)

// Pass 2 and every per-atom term of a periodic structure, one work-item per atom:
//   real space  ½ Σ_{p: c(p)=i} q_o φ_sr(r_p) over i's CSR row of the full list,
//   k-space     Σ_{K⁺} w_k (cos(k·R_i) C_k + sin(k·R_i) S_k),   w_k = G(k)/(2V),
//   self        −½ q_i √(2/π)/σ,
//   background  −π σ² Q / V,
//   slab        (½/V) · 4π [z_i M − ½(M₂ + Q z_i²) − Q H²/12]   (hasSlab; bulk passes 0).
__kernel void ewald_potentials(__global const real *pos, __global const real *q,
                               __global const int *rowStart, __global const int *others,
                               __global const real *pairVec, __global const real4 *kvec,
                               __global const int4 *ktri, __global const real2 *table,
                               const int M, const int o1, const int o2, const int o3,
                               __global const real *sf, __global const real *moments,
                               const int N, const int K, const real sigma, const real volume,
                               const real nx, const real ny, const real nz, const real height,
                               const int hasSlab, __global real *v) {
    const int i = get_global_id(0);
    if (i >= N) return;
    real acc[NC], ks[NC];
    for (int ch = 0; ch < NC; ch++) acc[ch] = ks[ch] = 0;

    for (int p = rowStart[i]; p < rowStart[i + 1]; p++) {
        const real phi = (real)0.5 * short_range(length(load3(pairVec, p)), sigma);
        __global const real *qo = q + others[p] * NC;
        for (int ch = 0; ch < NC; ch++) acc[ch] += phi * qo[ch];
    }

    const real3 r = load3(pos, i);
    __global const real2 *row = table + (size_t)i * M;
    int2 n12 = (int2)(INT_MIN, INT_MIN);
    real2 ab = (real2)(0);
    for (int k = 0; k < K; k++) {
        const real w = kvec[k].w;
        const real2 e = phase_cached(row, ktri[k], o1, o2, o3, &n12, &ab);
        const real c = w * e.x, s = w * e.y;
        __global const real *sk = sf + (size_t)k * 2 * NC;
        for (int ch = 0; ch < NC; ch++) ks[ch] += c * sk[ch] + s * sk[NC + ch];
    }

    const real selfFactor = (real)0.5 * SQRT_2_OVER_PI / sigma;
    const real z = dot(r, (real3)(nx, ny, nz));
    for (int ch = 0; ch < NC; ch++) {
        const real total = moments[3 * ch];
        real extra = ks[ch] - selfFactor * q[i * NC + ch] - PI * sigma * sigma * total / volume;
        if (hasSlab) {
            const real first = moments[3 * ch + 1], second = moments[3 * ch + 2];
            extra += (real)0.5 / volume * 4 * PI *
                     (z * first - (real)0.5 * (second + total * z * z) - total * height * height / 12);
        }
        v[i * NC + ch] = acc[ch] + extra;
    }
}

// Molecules (pbc all false, §8.3), every molecule of a batch in one launch:
//   V_i = ½ Σ_{j≠i} q_j / |R_j − R_i|,  j over the atoms of i's own structure, no cutoff.
// One work-item per molecule atom t: i = atoms[t] is its batch row and range[t] = [start, end)
// its structure's rows, summed in increasing j. Only the rows of listed atoms are written, so
// periodic structures of the same batch can fill theirs (EwaldMolecules). The charge cotangent
// is the same operator (§10.2 G5).
//
// Two shapes of the same sums (KernelShape), bit for bit equal: the order over j is the same.
// Rows (CPU devices): each work-item reads the source rows from global memory; PoCL vectorises
// across work-items and the rows stay in cache. Tiled (DIRECT_TILED, GPUs): a work-group of
// DIRECT_TILE atoms loads DIRECT_TILE source rows at a time into local memory and every
// work-item takes the rows of the tile that lie in its own structure. Tiles run over the union
// of the group's ranges, skipping gaps (rows of periodic structures between two molecules).
#ifdef DIRECT_TILED
#ifndef DIRECT_TILE
#error "build DIRECT_TILED with -DDIRECT_TILE=T"
#endif


// Fills this group's table of ranges (inactive work-items: an empty range) and returns whether
// work-item t exists.
inline bool direct_ranges(__global const int2 *range, const int count, __local int2 *ranges) {
    const int t = get_global_id(0), lid = get_local_id(0);
    ranges[lid] = t < count ? range[t] : (int2)(0, 0);
    barrier(CLK_LOCAL_MEM_FENCE);
    return t < count;
}

// The first row ≥ from inside one of the group's ranges, or INT_MAX: the next tile's start.
// Every work-item computes the same value from the shared table.
inline int direct_next_row(__local const int2 *ranges, const int from) {
    int next = INT_MAX;
    for (int k = 0; k < DIRECT_TILE; k++) {
        const int2 r = ranges[k];
        if (r.y > from && r.y > r.x) next = min(next, max(r.x, from));
    }
    return next;
}

// One past the last row of any of the group's ranges.
inline int direct_end(__local const int2 *ranges) {
    int end = 0;
    for (int k = 0; k < DIRECT_TILE; k++) end = max(end, ranges[k].y);
    return end;
}

// Copies `count` reals from src to dst with the whole group (then a barrier).
inline void direct_load(__local real *dst, __global const real *src, const int count) {
    for (int e = get_local_id(0); e < count; e += DIRECT_TILE) dst[e] = src[e];
}

__kernel __attribute__((reqd_work_group_size(DIRECT_TILE, 1, 1)))
void ewald_direct_potentials(__global const real *pos, __global const real *q,
                             __global const int *atoms, __global const int2 *range,
                             const int count, __global real *v) {
    __local int2 ranges[DIRECT_TILE];
    __local real tilePos[3 * DIRECT_TILE];
    __local real tileQ[NC * DIRECT_TILE];
    const int t = get_global_id(0);
    const bool active = direct_ranges(range, count, ranges);
    const int i = active ? atoms[t] : 0;
    const int2 js = active ? range[t] : (int2)(0, 0);
    const real3 ri = active ? load3(pos, i) : (real3)(0);
    const int end = direct_end(ranges);
    real acc[NC];
    for (int ch = 0; ch < NC; ch++) acc[ch] = 0;
    for (int j0 = direct_next_row(ranges, 0); j0 < end; j0 = direct_next_row(ranges, j0 + DIRECT_TILE)) {
        const int n = min(DIRECT_TILE, end - j0);
        direct_load(tilePos, pos + 3 * j0, 3 * n);
        direct_load(tileQ, q + j0 * NC, NC * n);
        barrier(CLK_LOCAL_MEM_FENCE);
        const int lo = max(js.x, j0), hi = min(js.y, j0 + n);
        for (int j = lo; j < hi; j++) {
            if (j == i) continue;
            const int jj = j - j0;
            const real3 rj = (real3)(tilePos[3 * jj], tilePos[3 * jj + 1], tilePos[3 * jj + 2]);
            const real inv = (real)0.5 / length(rj - ri);
            __local const real *qj = tileQ + jj * NC;
            for (int ch = 0; ch < NC; ch++) acc[ch] += inv * qj[ch];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (active) {
        for (int ch = 0; ch < NC; ch++) v[i * NC + ch] = acc[ch];
    }
}

#else

__kernel void ewald_direct_potentials(__global const real *pos, __global const real *q,
                                      __global const int *atoms, __global const int2 *range,
                                      const int count, __global real *v) {
    const int t = get_global_id(0);
    if (t >= count) return;
    const int i = atoms[t];
    const int2 js = range[t];
    const real3 ri = load3(pos, i);
    real acc[NC];
    for (int ch = 0; ch < NC; ch++) acc[ch] = 0;
    for (int j = js.x; j < js.y; j++) {
        if (j == i) continue;
        const real inv = (real)0.5 / length(load3(pos, j) - ri);
        __global const real *qj = q + j * NC;
        for (int ch = 0; ch < NC; ch++) acc[ch] += inv * qj[ch];
    }
    for (int ch = 0; ch < NC; ch++) v[i * NC + ch] = acc[ch];
}

#endif

// ---------------------------------------------------------------------------------------------
// Geometric gradient of B = Σ_ch Σ_i V̄_i V_i(q) at fixed q (§10.2 G2, G3, G6)

// G2: ḡ_p = ½ (Σ_ch V̄_{c(p)} q_{o(p)}) φ_sr′(r_p) R_p / r_p, one work-item per pair.
// gbar: [P, 3], consumed by pair_gradient_gather.
__kernel void ewald_pair_gradients(__global const int *centers, __global const int *others,
                                   __global const real *pairVec, __global const real *q,
                                   __global const real *vbar, const int P, const real sigma,
                                   __global real *gbar) {
    const int p = get_global_id(0);
    if (p >= P) return;
    const real3 d = load3(pairVec, p);
    const real r = length(d);
    real3 g = (real3)(0);
    if (r > 0) {
        __global const real *vc = vbar + centers[p] * NC;
        __global const real *qo = q + others[p] * NC;
        real weight = 0;
        for (int ch = 0; ch < NC; ch++) weight += vc[ch] * qo[ch];
        g = ((real)0.5 * weight * short_range_derivative(r, sigma) / r) * d;
    }
    gbar[3 * p] = g.x;
    gbar[3 * p + 1] = g.y;
    gbar[3 * p + 2] = g.z;
}

// Writes atom i's gradient [3] and its virial rows [3×3] (shared by the per-atom gathers).
static void store_atom_gradient(__global real *grad, __global real *virial, const int i, const real3 acc,
                                const real3 w0, const real3 w1, const real3 w2) {
    grad[3 * i] = acc.x;
    grad[3 * i + 1] = acc.y;
    grad[3 * i + 2] = acc.z;
    __global real *w = virial + 9 * i;
    w[0] = w0.x; w[1] = w0.y; w[2] = w0.z;
    w[3] = w1.x; w[4] = w1.y; w[5] = w1.z;
    w[6] = w2.x; w[7] = w2.y; w[8] = w2.z;
}

// Pair-vector cotangents to atoms (§10.2 G1 chain): ∂/∂R_i = Σ_{p: c(p)=i} (ḡ_reverse(p) − ḡ_p),
// and atom i's share of the virial Σ_{p: c(p)=i} R_p ⊗ ḡ_p. Overwrites grad [N, 3] and
// virial [N, 9] (row-major 3×3). One work-item per atom over its CSR row.
__kernel void pair_gradient_gather(__global const int *rowStart, __global const int *reverse,
                                   __global const real *pairVec, __global const real *gbar,
                                   const int N, __global real *grad, __global real *virial) {
    const int i = get_global_id(0);
    if (i >= N) return;
    real3 acc = (real3)(0), w0 = (real3)(0), w1 = (real3)(0), w2 = (real3)(0);
    for (int p = rowStart[i]; p < rowStart[i + 1]; p++) {
        const real3 g = load3(gbar, p), d = load3(pairVec, p);
        acc += load3(gbar, reverse[p]) - g;
        w0 += d.x * g;
        w1 += d.y * g;
        w2 += d.z * g;
    }
    store_atom_gradient(grad, virial, i, acc, w0, w1, w2);
}

// G6, k-space and slab position gradient, added to grad [N, 3]; one work-item per atom over k:
//   ∂B_k/∂R_m = Σ_k w_k k Σ_ch [V̄_m (c_m S^q − s_m C^q) + q_m (c_m S^V̄ − s_m C^V̄)],
//   ∂B_slab/∂R_m = (2π/V) n̂ Σ_ch [V̄_m M^q + q_m M^V̄ − z_m (Q^V̄ q_m + Q^q V̄_m)].
__kernel void ewald_kspace_gradient(__global const real *pos, __global const real *q,
                                    __global const real *vbar, __global const real4 *kvec,
                                    __global const int4 *ktri, __global const real2 *table,
                                    const int M, const int o1, const int o2, const int o3,
                                    __global const real *sfq, __global const real *sfv,
                                    __global const real *momq, __global const real *momv,
                                    const int N, const int K, const real volume,
                                    const real nx, const real ny, const real nz,
                                    const int hasSlab, __global real *grad) {
    const int m = get_global_id(0);
    if (m >= N) return;
    const real3 r = load3(pos, m);
    __global const real *qm = q + m * NC;
    __global const real *vm = vbar + m * NC;
    __global const real2 *row = table + (size_t)m * M;
    real3 acc = (real3)(0);
    int2 n12 = (int2)(INT_MIN, INT_MIN);
    real2 ab = (real2)(0);
    for (int k = 0; k < K; k++) {
        const real4 kv = kvec[k];
        const real2 e = phase_cached(row, ktri[k], o1, o2, o3, &n12, &ab);
        __global const real *fq = sfq + (size_t)k * 2 * NC;
        __global const real *fv = sfv + (size_t)k * 2 * NC;
        // t = c·Σ_ch (V̄ S^q + q S^V̄) − s·Σ_ch (V̄ C^q + q C^V̄).
        real sines = 0, cosines = 0;
        for (int ch = 0; ch < NC; ch++) {
            sines += vm[ch] * fq[NC + ch] + qm[ch] * fv[NC + ch];
            cosines += vm[ch] * fq[ch] + qm[ch] * fv[ch];
        }
        acc += (kv.w * (e.x * sines - e.y * cosines)) * kv.xyz;
    }
    if (hasSlab) {
        const real3 n = (real3)(nx, ny, nz);
        const real z = dot(r, n);
        real dz = 0;
        for (int ch = 0; ch < NC; ch++) {
            dz += vm[ch] * momq[3 * ch + 1] + qm[ch] * momv[3 * ch + 1] -
                  z * (momv[3 * ch] * qm[ch] + momq[3 * ch] * vm[ch]);
        }
        acc += (2 * PI / volume * dz) * n;
    }
    grad[3 * m] += acc.x;
    grad[3 * m + 1] += acc.y;
    grad[3 * m + 2] += acc.z;
}

// G6 virial of each k (strain form, §10.2): with P_k = Σ_ch C^V̄C^q + S^V̄S^q and e_k = w_k P_k,
//   W_k = 2 e_k (σ²/2 + 1/|k|²) k⊗k − e_k I   (d|k|²/dε = −2k⊗k, dV/dε = V I).
// One work-item per k; out [K, 9], reduced by ewald_block_sums.
__kernel void ewald_kspace_virial(__global const real4 *kvec, __global const real *sfq,
                                  __global const real *sfv, const int K, const real sigma,
                                  __global real *out) {
    const int k = get_global_id(0);
    if (k >= K) return;
    const real4 kv = kvec[k];
    __global const real *fq = sfq + (size_t)k * 2 * NC;
    __global const real *fv = sfv + (size_t)k * 2 * NC;
    real product = 0;
    for (int ch = 0; ch < NC; ch++) product += fv[ch] * fq[ch] + fv[NC + ch] * fq[NC + ch];
    const real e = kv.w * product;
    const real strain = e * 2 * ((real)0.5 * sigma * sigma + 1 / dot(kv.xyz, kv.xyz));
    const real kk[3] = {kv.x, kv.y, kv.z};
    __global real *w = out + (size_t)9 * k;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) w[3 * a + b] = strain * kk[a] * kk[b] - (a == b ? e : 0);
}

// G3 for molecules, batched like ewald_direct_potentials: B = ½ Σ_{i≠j} V̄_i q_j / r_ij within each
// structure. Pair (i, j) with d = R_j − R_i has ḡ = −½ (Σ_ch V̄_i q_j + V̄_j q_i) d / r³, so
// ∂B/∂R_i = −Σ_{j≠i} ḡ; the pair's virial d⊗ḡ is symmetric in i ↔ j, so each atom takes half.
// Summed over a structure's rows (by the host) that is Σ_i R_i⊗∂B/∂R_i, in the pair form, which
// is translation invariant. Writes rows i = atoms[t] of grad [N, 3] and virial [N, 9].
// Pair (i, j) with d = R_j − R_i and weight Σ_ch V̄_i q_j + V̄_j q_i: ḡ = −½ weight d / r³,
// ∂B/∂R_i −= ḡ, and i's half of the pair virial d⊗ḡ (rows w0, w1, w2).
inline void direct_pair_gradient(const real3 d, const real weight, real3 *acc, real3 *w0, real3 *w1, real3 *w2) {
    const real r = length(d);
    const real3 g = (-(real)0.5 * weight / (r * r * r)) * d;
    *acc -= g;
    *w0 += ((real)0.5 * d.x) * g;
    *w1 += ((real)0.5 * d.y) * g;
    *w2 += ((real)0.5 * d.z) * g;
}

#ifdef DIRECT_TILED

__kernel __attribute__((reqd_work_group_size(DIRECT_TILE, 1, 1)))
void ewald_direct_gradient(__global const real *pos, __global const real *q,
                           __global const real *vbar, __global const int *atoms,
                           __global const int2 *range, const int count,
                           __global real *grad, __global real *virial) {
    __local int2 ranges[DIRECT_TILE];
    __local real tilePos[3 * DIRECT_TILE];
    __local real tileQ[NC * DIRECT_TILE];
    __local real tileV[NC * DIRECT_TILE];
    const int t = get_global_id(0);
    const bool active = direct_ranges(range, count, ranges);
    const int i = active ? atoms[t] : 0;
    const int2 js = active ? range[t] : (int2)(0, 0);
    const real3 ri = active ? load3(pos, i) : (real3)(0);
    __global const real *qi = q + i * NC;
    __global const real *vi = vbar + i * NC;
    const int end = direct_end(ranges);
    real3 acc = (real3)(0), w0 = (real3)(0), w1 = (real3)(0), w2 = (real3)(0);
    for (int j0 = direct_next_row(ranges, 0); j0 < end; j0 = direct_next_row(ranges, j0 + DIRECT_TILE)) {
        const int n = min(DIRECT_TILE, end - j0);
        direct_load(tilePos, pos + 3 * j0, 3 * n);
        direct_load(tileQ, q + j0 * NC, NC * n);
        direct_load(tileV, vbar + j0 * NC, NC * n);
        barrier(CLK_LOCAL_MEM_FENCE);
        const int lo = max(js.x, j0), hi = min(js.y, j0 + n);
        for (int j = lo; j < hi; j++) {
            if (j == i) continue;
            const int jj = j - j0;
            const real3 d = (real3)(tilePos[3 * jj], tilePos[3 * jj + 1], tilePos[3 * jj + 2]) - ri;
            __local const real *qj = tileQ + jj * NC;
            __local const real *vj = tileV + jj * NC;
            real weight = 0;
            for (int ch = 0; ch < NC; ch++) weight += vi[ch] * qj[ch] + vj[ch] * qi[ch];
            direct_pair_gradient(d, weight, &acc, &w0, &w1, &w2);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (active) store_atom_gradient(grad, virial, i, acc, w0, w1, w2);
}

#else

__kernel void ewald_direct_gradient(__global const real *pos, __global const real *q,
                                    __global const real *vbar, __global const int *atoms,
                                    __global const int2 *range, const int count,
                                    __global real *grad, __global real *virial) {
    const int t = get_global_id(0);
    if (t >= count) return;
    const int i = atoms[t];
    const int2 js = range[t];
    const real3 ri = load3(pos, i);
    __global const real *qi = q + i * NC;
    __global const real *vi = vbar + i * NC;
    real3 acc = (real3)(0), w0 = (real3)(0), w1 = (real3)(0), w2 = (real3)(0);
    for (int j = js.x; j < js.y; j++) {
        if (j == i) continue;
        const real3 d = load3(pos, j) - ri;
        __global const real *qj = q + j * NC;
        __global const real *vj = vbar + j * NC;
        real weight = 0;
        for (int ch = 0; ch < NC; ch++) weight += vi[ch] * qj[ch] + vj[ch] * qi[ch];
        direct_pair_gradient(d, weight, &acc, &w0, &w1, &w2);
    }
    store_atom_gradient(grad, virial, i, acc, w0, w1, w2);
}

#endif
