// Smooth particle-mesh Ewald, the reciprocal-space part of the long range (docs/MATH.md §9),
// for all PME_CHANNELS charge channels at once; the real-space, self, background and slab
// terms stay with Kernels/ewald.cl, exactly as for the exact k-sum.
//
//   spread     Q_ch(g) = Σ_i x_i,ch w_i(g)                 (pme_spread, a gather: see below)
//   transform  F = FFT(Q) (clFFT, in-place complex, e^{−2πi m·g/n}; the host owns the plans)
//   convolve   F'(m) = G(k_m) B(m) / V · F(m)               (pme_influence once, pme_convolve)
//   transform  φ = FFT⁻¹(F') (unnormalised)
//   gather     V_i,ch += ½ Σ_g w_i(g) φ_ch(g)                 (pme_gather)
//
// with w_i(g) = Π_A M_p(u_iA − g_A + …): atom i touches the p³ points g_A = (base_iA − j_A) mod n_A
// with weights W_iA[j_A] (host-computed stencils, `PMEMeshView`), G(k) = 4π e^{−σ²k²/2}/k² and
// B(m) = Π_A |b_A(m_A)|². The clFFT sign convention is the conjugate of the reference's
// F(m) = Σ Q e^{+2πi m·g/n}; G·B is even in m, so φ is the same.
//
// Channel pairs: two real channels share one complex mesh, channel 2j its real and 2j+1 its
// imaginary part. G·B is real and even in m, so FFT⁻¹(G·B·FFT(Q_a + i Q_b)) = φ_a + i φ_b: the
// pair needs no unpacking, and half as many (complex) transforms as the channels' real ones.
//
// Channel groups: a program handles NC = PME_CHANNELS channels per launch, columns first …
// first+NC−1 of charges and potentials [N, PME_STRIDE] row-major (as ewald.cl, PME_STRIDE being
// all C channels); the host walks the groups, so the meshes hold one group at a time (PMEKernels).
// Layout: NP = ⌈NC/2⌉ interleaved complex meshes [NP][n0][n1][n2] (one clFFT batch per pair);
// with NC odd, the last pair's imaginary part is zero. The influence is kept on the half
// spectrum [n0][n1][n2/2+1] and read through its symmetry for m2 > n2/2.
//
// Determinism without atomics: spreading is a gather over mesh points. Atoms are binned by
// their stencil base into blocks of p×p×p mesh indices (CSR `blockStart`/`blockAtoms`, atoms
// in index order within a block); a mesh point's contributors have base_A in g_A … g_A+p−1
// (mod n_A), which meets at most 3 blocks per axis (n_A ≥ 2p), visited in a fixed order. Every
// other kernel is a per-item serial loop. Two runs are bit-identical.

#ifndef PME_CHANNELS
#error "build with -DPME_CHANNELS=C"
#endif
#ifndef PME_STRIDE
#error "build with -DPME_STRIDE=C (all channels of a charge row)"
#endif
#define NC PME_CHANNELS
#define NP ((NC + 1) / 2)
#define NS PME_STRIDE
#define PI ((real)3.1415926535897932385)

// The distinct blocks (of p indices) holding base values g, g+1, …, g+len−1 (mod n), in
// first-seen order; returns how many: ≤ 3 for len = p, ≤ 4 for len ≤ 2p − 1 (n ≥ 2p; the last
// block may be partial).
inline int covering_blocks(const int g, const int len, const int n, const int p, int blocks[4]) {
    int count = 0;
    for (int t = 0; t < len; t++) {
        const int b = ((g + t) % n) / p;
        bool seen = false;
        for (int s = 0; s < count; s++) seen = seen || blocks[s] == b;
        if (!seen && count < 4) blocks[count++] = b;
    }
    return count;
}

// (base − g) mod n for base, g in [0, n): the stencil offset j of mesh index g, and likewise the
// mesh index g of stencil offset j (the gather and gradient walks).
inline int stencil_offset(const int base, const int g, const int n) {
    const int j = base - g;
    return j < 0 ? j + n : j;
}

// Where channel ch of mesh point g is, in reals: the real (ch even) or imaginary part of pair
// ch/2's complex mesh of M points.
inline size_t mesh_index(const int ch, const size_t g, const size_t M) { return ((size_t)(ch >> 1) * M + g) * 2 + (ch & 1); }

// Frequency of mesh index g in fftfreq order: 0, 1, …, ⌈n/2⌉−1, −⌊n/2⌋, …, −1.
inline int frequency(const int g, const int n) { return g < (n + 1) / 2 ? g : g - n; }

// k_m = Σ_A m_A b_A; basis = [b_0, b_1, b_2] row-major.
inline real3 k_vector(const int g0, const int g1, const int g2, const int n0, const int n1, const int n2,
                      __global const real *basis) {
    const real m0 = frequency(g0, n0), m1 = frequency(g1, n1), m2 = frequency(g2, n2);
    return m0 * (real3)(basis[0], basis[1], basis[2]) + m1 * (real3)(basis[3], basis[4], basis[5])
         + m2 * (real3)(basis[6], basis[7], basis[8]);
}

// acc[ch] += Q_ch(g) at mesh point (g0, g1, g2): its covering blocks in first-seen order, the
// atoms of each block in index order. w: [N, 3, p] stencil weights; x: the group's first column.
inline void spread_point(__global const int4 *base, __global const real *w, __global const real *x,
                         __global const int *blockStart, __global const int *blockAtoms, const int n0,
                         const int n1, const int n2, const int p, const int g0, const int g1, const int g2,
                         real acc[NC]) {
    const int nb1 = (n1 + p - 1) / p, nb2 = (n2 + p - 1) / p;
    int b0[4], b1[4], b2[4];
    const int c0 = covering_blocks(g0, p, n0, p, b0), c1 = covering_blocks(g1, p, n1, p, b1),
              c2 = covering_blocks(g2, p, n2, p, b2);
    for (int a = 0; a < c0; a++)
        for (int b = 0; b < c1; b++)
            for (int c = 0; c < c2; c++) {
                const int block = (b0[a] * nb1 + b1[b]) * nb2 + b2[c];
                for (int t = blockStart[block]; t < blockStart[block + 1]; t++) {
                    const int i = blockAtoms[t];
                    const int4 s = base[i];
                    const int j0 = stencil_offset(s.x, g0, n0), j1 = stencil_offset(s.y, g1, n1),
                              j2 = stencil_offset(s.z, g2, n2);
                    if (j0 >= p || j1 >= p || j2 >= p) continue;
                    __global const real *wi = w + (size_t)i * 3 * p;
                    const real weight = wi[j0] * wi[p + j1] * wi[2 * p + j2];
                    for (int ch = 0; ch < NC; ch++) acc[ch] += x[(size_t)i * NS + ch] * weight;
                }
            }
}

// Q_ch(g) for every mesh point g (one work-item each: GPUs) and channel.
__kernel void pme_spread(__global const int4 *base, __global const real *w, __global const real *x,
                         __global const int *blockStart, __global const int *blockAtoms,
                         const int n0, const int n1, const int n2, const int p, const int first,
                         __global real *mesh) {
    const int g = get_global_id(0), M = n0 * n1 * n2;
    if (g >= M) return;
    x += first;
    real acc[NC];
    for (int ch = 0; ch < NC; ch++) acc[ch] = 0;
    spread_point(base, w, x, blockStart, blockAtoms, n0, n1, n2, p, g / (n1 * n2), (g / n2) % n1, g % n2, acc);
    for (int ch = 0; ch < NC; ch++) mesh[mesh_index(ch, g, M)] = acc[ch];
    if (NC & 1) mesh[mesh_index(NC, g, M)] = 0;
}

// CPU devices spread by segments of min(SPREAD_SEGMENT, p) consecutive mesh points along the
// last axis. A segment's candidates are the atoms that touch it: (index, x·y weight, z offset
// k = base_z − z0 mod n2), found by walking its covering blocks and checking the x/y stencils.
// The walk depends only on the geometry, so it is done once per geometry (count, host prefix
// sum, fill: a CSR over segments) and every spread, of every channel group, forward and
// backward, only sums. (Walked inside each spread, it took ~45 of the ~70 ms of a 10-channel
// spread of 13,824 atoms on PoCL, and grew with the number of channel groups.) The candidates
// keep the block order, which for each point is its own covering order, so every point gets the
// same sum in the same order as pme_spread.
#ifndef SPREAD_SEGMENT
#error "build with -DSPREAD_SEGMENT=S (PMEKernels.spreadSegment)"
#endif

// Segment t's candidates, written from entry[0], weightXY[0] unless entry is null; returns how
// many. An entry packs the atom and its z offset k < 2p − 1 ≤ 23 as (atom << 5) | k.
inline int segment_candidates(__global const int4 *base, __global const real *w, __global const int *blockStart,
                              __global const int *blockAtoms, const int n0, const int n1, const int n2,
                              const int p, const int t, __global int *entry, __global real *weightXY) {
    // At most p points, so that a segment's reach (len + p − 1 ≤ 2p − 1 ≤ n2 − 1) meets at most
    // 4 blocks and never wraps onto itself.
    const int S = min(SPREAD_SEGMENT, p);
    const int segments = (n2 + S - 1) / S;
    const int g0 = t / (n1 * segments), g1 = (t / segments) % n1, z0 = (t % segments) * S;
    const int len = min(S, n2 - z0), reach = len + p - 1;
    const int nb1 = (n1 + p - 1) / p, nb2 = (n2 + p - 1) / p;
    int b0[4], b1[4], b2[4];
    const int c0 = covering_blocks(g0, p, n0, p, b0), c1 = covering_blocks(g1, p, n1, p, b1),
              c2 = covering_blocks(z0, reach, n2, p, b2);
    int count = 0;
    for (int a = 0; a < c0; a++)
        for (int b = 0; b < c1; b++)
            for (int c = 0; c < c2; c++) {
                const int block = (b0[a] * nb1 + b1[b]) * nb2 + b2[c];
                for (int u = blockStart[block]; u < blockStart[block + 1]; u++) {
                    const int i = blockAtoms[u];
                    const int4 s = base[i];
                    const int j0 = stencil_offset(s.x, g0, n0), j1 = stencil_offset(s.y, g1, n1),
                              k = stencil_offset(s.z, z0, n2);
                    if (j0 >= p || j1 >= p || k >= reach) continue;
                    if (entry) {
                        __global const real *wi = w + (size_t)i * 3 * p;
                        entry[count] = (i << 5) | k;
                        weightXY[count] = wi[j0] * wi[p + j1];
                    }
                    count++;
                }
            }
    return count;
}

// counts[t]: segment t's number of candidates, for t < n0·n1·⌈n2/S⌉.
__kernel void pme_segment_counts(__global const int4 *base, __global const real *w, __global const int *blockStart,
                                 __global const int *blockAtoms, const int n0, const int n1, const int n2,
                                 const int p, const int segments, __global int *counts) {
    const int t = get_global_id(0);
    if (t >= segments) return;
    counts[t] = segment_candidates(base, w, blockStart, blockAtoms, n0, n1, n2, p, t, 0, 0);
}

// Segment t's candidates at start[t] … start[t+1]−1.
__kernel void pme_segment_candidates(__global const int4 *base, __global const real *w,
                                     __global const int *blockStart, __global const int *blockAtoms, const int n0,
                                     const int n1, const int n2, const int p, const int segments,
                                     __global const int *start, __global int *entry, __global real *weightXY) {
    const int t = get_global_id(0);
    if (t >= segments) return;
    const int s = start[t];
    segment_candidates(base, w, blockStart, blockAtoms, n0, n1, n2, p, t, entry + s, weightXY + s);
}

// Q_ch(g) for the points of segment t, one work-item per segment, from its candidates: each
// candidate is read once and added to the points it touches (0 ≤ k − m < p), so every point still
// sums its candidates in their order.
__kernel void pme_spread_segments(__global const real *w, __global const real *x, __global const int *start,
                                  __global const int *entry, __global const real *weightXY, const int n0, const int n1, const int n2,
                                  const int p, const int first, __global real *mesh) {
    const int S = min(SPREAD_SEGMENT, p);
    const int segments = (n2 + S - 1) / S, M = n0 * n1 * n2;
    const int t = get_global_id(0);
    if (t >= n0 * n1 * segments) return;
    x += first;
    const int g0 = t / (n1 * segments), g1 = (t / segments) % n1, z0 = (t % segments) * S;
    const int len = min(S, n2 - z0);
    real acc[SPREAD_SEGMENT][NC];
    for (int m = 0; m < len; m++)
        for (int ch = 0; ch < NC; ch++) acc[m][ch] = 0;
    for (int e = start[t]; e < start[t + 1]; e++) {
        const int i = entry[e] >> 5, k = entry[e] & 31;
        const real wxy = weightXY[e];
        __global const real *wz = w + (size_t)i * 3 * p + 2 * p;
        real xi[NC];
        for (int ch = 0; ch < NC; ch++) xi[ch] = x[(size_t)i * NS + ch];
        for (int m = max(0, k - p + 1); m <= min(len - 1, k); m++) {
            const real weight = wxy * wz[k - m];
            for (int ch = 0; ch < NC; ch++) acc[m][ch] += xi[ch] * weight;
        }
    }
    for (int m = 0; m < len; m++) {
        const int g = (g0 * n1 + g1) * n2 + z0 + m;
        for (int ch = 0; ch < NC; ch++) mesh[mesh_index(ch, g, M)] = acc[m][ch];
        if (NC & 1) mesh[mesh_index(NC, g, M)] = 0;
    }
}

// G(k_m) B(m) / V at mesh point (g0, g1, g2), 0 at m = 0. moduli: the n0, n1, n2 values of
// |b_A|² one axis after the other.
inline real influence_value(__global const real *moduli, __global const real *basis, const int n0, const int n1,
                            const int n2, const real sigma, const real volume, const int g0, const int g1,
                            const int g2) {
    const real3 k = k_vector(g0, g1, g2, n0, n1, n2, basis);
    const real k2 = dot(k, k);
    return k2 == 0 ? 0
                   : 4 * PI * exp(-(real)0.5 * sigma * sigma * k2) / k2 * moduli[g0] * moduli[n0 + g1]
                         * moduli[n0 + n1 + g2] / volume;
}

// ½[G·B/V (m) + G·B/V (−m)] on the half spectrum [n0][n1][n2/2+1]. global = (n0, n1, n2/2+1).
// The two differ only on the Nyquist planes (m_A = n_A/2, whose fftfreq is −n_A/2 for m and −m
// alike, so k_{−m} ≠ −k_m in a triclinic cell). The reference takes the real part of a full
// complex inverse, which for a real mesh is the convolution with this even part; evened here, a
// pair's inverse transform keeps its two channels apart exactly.
__kernel void pme_influence(__global const real *moduli, __global const real *basis, const int n0, const int n1,
                            const int n2, const real sigma, const real volume, __global real *out) {
    const int g0 = get_global_id(0), g1 = get_global_id(1), g2 = get_global_id(2), h2 = n2 / 2 + 1;
    if (g0 >= n0 || g1 >= n1 || g2 >= h2) return;
    out[((size_t)g0 * n1 + g1) * h2 + g2] =
        (real)0.5 * (influence_value(moduli, basis, n0, n1, n2, sigma, volume, g0, g1, g2)
                     + influence_value(moduli, basis, n0, n1, n2, sigma, volume, (n0 - g0) % n0, (n1 - g1) % n1,
                                       (n2 - g2) % n2));
}

// The even G·B/V at full-mesh point (g0, g1, g2), from the half spectrum (m and −m share it).
inline real influence_at(__global const real *influence, const int g0, const int g1, const int g2, const int n0,
                         const int n1, const int n2) {
    const int h2 = n2 / 2 + 1;
    return g2 < h2 ? influence[((size_t)g0 * n1 + g1) * h2 + g2]
                   : influence[((size_t)((n0 - g0) % n0) * n1 + (n1 - g1) % n1) * h2 + (n2 - g2)];
}

// F'(m) = influence(m) F(m) for every pair's spectrum: [NP, M] complex, in place or not.
// global = (n2, NP·n0·n1): one row of the last axis per index of dimension 1, so a work-item
// divides once per row, not per point (a 1D launch measured 59 ms for 10 pair meshes of 112³ on
// PoCL).
__kernel void pme_convolve(__global const real *influence, __global const real2 *f, const int n0, const int n1,
                           const int n2, __global real2 *out) {
    const int g2 = get_global_id(0), row = get_global_id(1);
    if (g2 >= n2 || row >= NP * n0 * n1) return;
    const int r = row % (n0 * n1);
    const size_t t = (size_t)row * n2 + g2;
    out[t] = influence_at(influence, r / n1, r % n1, g2, n0, n1, n2) * f[t];
}

// Whether atom i's stencil takes the 16-wide path of pme_gather and pme_gradient: order 8 with
// its z points base_z − 7 … base_z unwrapped. One test for both kernels, so q̄'s gather in the
// gradient always takes pme_gather's path.
inline bool wide_z_stencil(const int p, const int baseZ) { return p == 8 && baseZ >= 7; }

// Order 8's z weights for points g2 = base_z − 7 … base_z (j2 = 7 … 0), each twice: the lanes
// (re, im) of a pair's 8 contiguous complex mesh points.
inline real16 z_weights16(__global const real *wz) {
    return (real16)(wz[7], wz[7], wz[6], wz[6], wz[5], wz[5], wz[4], wz[4], wz[3], wz[3], wz[2], wz[2], wz[1],
                    wz[1], wz[0], wz[0]);
}

// (a, b) in every lane pair: a channel pair's values against its (re, im) lanes.
inline real16 pair_pattern(const real a, const real b) {
    const real2 t = (real2)(a, b);
    return (real16)(t, t, t, t, t, t, t, t);
}

// The sum over a pair's 8 points of its real (part 0) or imaginary (part 1) lanes, in point order.
inline real pair_lane_sum(const real16 a, const int part) {
    const real8 h = part ? a.odd : a.even;
    return h.s0 + h.s1 + h.s2 + h.s3 + h.s4 + h.s5 + h.s6 + h.s7;
}

// V_i,ch += ½ Σ_g w_i(g) φ_ch(g), one work-item per atom over its p³ points.
__kernel void pme_gather(__global const int4 *base, __global const real *w, __global const real *phi,
                         const int n0, const int n1, const int n2, const int p, const int N, const int first,
                         __global real *v) {
    const int i = get_global_id(0);
    if (i >= N) return;
    const int4 s = base[i];
    const size_t M = (size_t)n0 * n1 * n2;
    __global const real *wi = w + (size_t)i * 3 * p;
    real acc[NC];
    if (wide_z_stencil(p, s.z)) {
        // Order 8 with the stencil's z points contiguous (no wrap: all but 7 of n2 bases): a
        // pair's 8 points are 16 contiguous reals, one 16-wide load per (j0, j1) row, weighted
        // by the z weights reversed and doubled (re, im); the lanes are summed at the end.
        real16 acc16[NP];
        const real16 wz = z_weights16(wi + 2 * p);
        for (int j = 0; j < NP; j++) acc16[j] = (real16)(0);
        for (int j0 = 0; j0 < p; j0++) {
            const int g0 = stencil_offset(s.x, j0, n0);
            for (int j1 = 0; j1 < p; j1++) {
                const int g1 = stencil_offset(s.y, j1, n1);
                const real16 wr = (wi[j0] * wi[p + j1]) * wz;
                const size_t row = ((size_t)g0 * n1 + g1) * n2 + s.z - 7;
                for (int j = 0; j < NP; j++) acc16[j] += wr * vload16(0, phi + ((size_t)j * M + row) * 2);
            }
        }
        for (int ch = 0; ch < NC; ch++) acc[ch] = pair_lane_sum(acc16[ch >> 1], ch & 1);
    } else {
        for (int ch = 0; ch < NC; ch++) acc[ch] = 0;
        for (int j0 = 0; j0 < p; j0++) {
            const int g0 = stencil_offset(s.x, j0, n0);
            for (int j1 = 0; j1 < p; j1++) {
                const int g1 = stencil_offset(s.y, j1, n1);
                const real w01 = wi[j0] * wi[p + j1];
                for (int j2 = 0; j2 < p; j2++) {
                    const int g2 = stencil_offset(s.z, j2, n2);
                    const real weight = w01 * wi[2 * p + j2];
                    const size_t g = ((size_t)g0 * n1 + g1) * n2 + g2;
                    for (int ch = 0; ch < NC; ch++) acc[ch] += weight * phi[mesh_index(ch, g, M)];
                }
            }
        }
    }
    for (int ch = 0; ch < NC; ch++) v[(size_t)i * NS + first + ch] += (real)0.5 * acc[ch];
}

// ∂B/∂R_i += ½ Σ_ch [V̄_i ∇w_i·φ^q + q_i ∇w_i·φ^V̄] (§10.2 G6 on the mesh), with
// ∇w_i(g) = Σ_A (∂w/∂u_A) ∂u_A/∂R; meshGradient = [∂u_0/∂R, ∂u_1/∂R, ∂u_2/∂R] row-major.
// dw: [N, 3, p] stencil derivatives. One work-item per atom. With `gatherV`, also v += ½ Σ_g w_i(g)
// φ^V̄(g), pme_gather's sum in its order (q̄'s reciprocal part), from the same stencil walk.
// Order 8 with an unwrapped z stencil goes 16 wide as pme_gather does: NaCl 12³ on PoCL,
// alternating, pme_gradient 133–158 → 31–32 ms and pme_gather 49–60 → 15–16 ms.
__kernel void pme_gradient(__global const int4 *base, __global const real *w, __global const real *dw,
                           __global const real *q, __global const real *vbar, __global const real *phiQ,
                           __global const real *phiV, __global const real *meshGradient, const int n0,
                           const int n1, const int n2, const int p, const int N, const int first,
                           __global real *grad, const int gatherV, __global real *v) {
    const int i = get_global_id(0);
    if (i >= N) return;
    const int4 s = base[i];
    const size_t M = (size_t)n0 * n1 * n2;
    __global const real *wi = w + (size_t)i * 3 * p, *di = dw + (size_t)i * 3 * p;
    real qi[NC], vi[NC];
    for (int ch = 0; ch < NC; ch++) {
        qi[ch] = q[(size_t)i * NS + first + ch];
        vi[ch] = vbar[(size_t)i * NS + first + ch];
    }
    real3 du = (real3)(0, 0, 0);
    real acc[NC];
    for (int ch = 0; ch < NC; ch++) acc[ch] = 0;
    if (wide_z_stencil(p, s.z)) {
        // pme_gather's 16-wide rows (same weights, same sums for q̄); c(g) per lane pair from
        // the pair's (re, im) patterns of V̄_i and q_i, and ∇w·c as three 16-lane sums.
        const real16 wz = z_weights16(wi + 2 * p), dz = z_weights16(di + 2 * p);
        real16 acc16[NP], vpat[NP], qpat[NP];
        for (int j = 0; j < NP; j++) {
            acc16[j] = (real16)(0);
            vpat[j] = pair_pattern(vi[2 * j], 2 * j + 1 < NC ? vi[2 * j + 1] : 0);
            qpat[j] = pair_pattern(qi[2 * j], 2 * j + 1 < NC ? qi[2 * j + 1] : 0);
        }
        real16 dx = (real16)(0), dy = (real16)(0), dzs = (real16)(0);
        for (int j0 = 0; j0 < p; j0++) {
            const int g0 = stencil_offset(s.x, j0, n0);
            for (int j1 = 0; j1 < p; j1++) {
                const int g1 = stencil_offset(s.y, j1, n1);
                const size_t row = ((size_t)g0 * n1 + g1) * n2 + s.z - 7;
                const real16 wr = (wi[j0] * wi[p + j1]) * wz;
                real16 c = (real16)(0);
                for (int j = 0; j < NP; j++) {
                    const real16 fq = vload16(0, phiQ + ((size_t)j * M + row) * 2);
                    const real16 fv = vload16(0, phiV + ((size_t)j * M + row) * 2);
                    c += vpat[j] * fq + qpat[j] * fv;
                    if (gatherV) acc16[j] += wr * fv;
                }
                dx += c * ((di[j0] * wi[p + j1]) * wz);
                dy += c * ((wi[j0] * di[p + j1]) * wz);
                dzs += c * ((wi[j0] * wi[p + j1]) * dz);
            }
        }
        du = (real3)(lane_sum16(dx), lane_sum16(dy), lane_sum16(dzs));
        for (int ch = 0; ch < NC; ch++) acc[ch] = pair_lane_sum(acc16[ch >> 1], ch & 1);
    } else {
        for (int j0 = 0; j0 < p; j0++) {
            const int g0 = stencil_offset(s.x, j0, n0);
            for (int j1 = 0; j1 < p; j1++) {
                const int g1 = stencil_offset(s.y, j1, n1);
                const real w01 = wi[j0] * wi[p + j1];
                for (int j2 = 0; j2 < p; j2++) {
                    const int g2 = stencil_offset(s.z, j2, n2);
                    const size_t g = ((size_t)g0 * n1 + g1) * n2 + g2;
                    real c = 0;
                    for (int ch = 0; ch < NC; ch++) c += vi[ch] * phiQ[mesh_index(ch, g, M)] + qi[ch] * phiV[mesh_index(ch, g, M)];
                    if (gatherV) {
                        const real weight = w01 * wi[2 * p + j2];
                        for (int ch = 0; ch < NC; ch++) acc[ch] += weight * phiV[mesh_index(ch, g, M)];
                    }
                    du += c * (real3)(di[j0] * wi[p + j1] * wi[2 * p + j2], wi[j0] * di[p + j1] * wi[2 * p + j2],
                                      wi[j0] * wi[p + j1] * di[2 * p + j2]);
                }
            }
        }
    }
    const real3 gr = (real)0.5 * (du.x * (real3)(meshGradient[0], meshGradient[1], meshGradient[2])
                                + du.y * (real3)(meshGradient[3], meshGradient[4], meshGradient[5])
                                + du.z * (real3)(meshGradient[6], meshGradient[7], meshGradient[8]));
    grad[3 * i] += gr.x;
    grad[3 * i + 1] += gr.y;
    grad[3 * i + 2] += gr.z;
    if (gatherV)
        for (int ch = 0; ch < NC; ch++) v[(size_t)i * NS + first + ch] += (real)0.5 * acc[ch];
}

// Strain derivative of B = ½ Σ_g Q^V̄ φ^q over the full spectrum, from the pairs' spectra of q
// and V̄ (§10.2 G6; fractional mesh coordinates are strain invariant), as the reference sums it:
//   P_m = ½ G B/V (m) Re(F^V̄ F^q*),  W += P_m 2(σ²/2 + 1/k²) k⊗k,  B += P_m,
// with G at k_m itself (not evened). A pair Z = F_a + i F_b gives the sum over its channels of
// Re(F^q F^V̄*) at m as the mean of Re(Z^q Z^V̄*) at m and at −m (F(−m) = F(m)* for a real mesh;
// the cross terms are odd in m). One work-item per (g0, g1) row; out: [n0·n1, 10] (W row-major,
// B), summed by the host in a fixed order, which then subtracts B from the diagonal.
__kernel void pme_virial(__global const real *influence, __global const real *moduli, __global const real2 *fq, __global const real2 *fv,
                         __global const real *basis, const int n0, const int n1, const int n2, const real sigma,
                         const real volume, __global real *out) {
    const int r = get_global_id(0);
    if (r >= n0 * n1) return;
    const int g0 = r / n1, g1 = r % n1;
    const size_t M = (size_t)n0 * n1 * n2;
    const size_t mirror = ((size_t)((n0 - g0) % n0) * n1 + (n1 - g1) % n1) * n2;
    real acc[10];
    for (int e = 0; e < 10; e++) acc[e] = 0;
    for (int g2 = 0; g2 < n2; g2++) {
        // G at k_m: the stored even part except on a Nyquist plane, where they differ.
        const bool nyquist = 2 * g0 == n0 || 2 * g1 == n1 || 2 * g2 == n2;
        const real f = nyquist ? influence_value(moduli, basis, n0, n1, n2, sigma, volume, g0, g1, g2)
                               : influence_at(influence, g0, g1, g2, n0, n1, n2);
        if (f == 0) continue;
        const size_t m = (size_t)r * n2 + g2, minus = mirror + (n2 - g2) % n2;
        real overlap = 0;
        for (int j = 0; j < NP; j++) {
            const real2 a = fq[j * M + m], b = fv[j * M + m], c = fq[j * M + minus], d = fv[j * M + minus];
            overlap += a.x * b.x + a.y * b.y + c.x * d.x + c.y * d.y;
        }
        const real pm = (real)0.25 * f * overlap;
        const real3 k = k_vector(g0, g1, g2, n0, n1, n2, basis);
        const real strain = pm * 2 * ((real)0.5 * sigma * sigma + 1 / dot(k, k));
        const real kk[3] = {k.x, k.y, k.z};
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) acc[3 * a + b] += strain * kk[a] * kk[b];
        acc[9] += pm;
    }
    for (int e = 0; e < 10; e++) out[(size_t)r * 10 + e] = acc[e];
}
