// Plain (non-equivariant) layers of LOREM: flax Dense, silu, and LayerNorm with their
// backward passes (docs/MATH.md §6). Matrices are row-major; a dense kernel W is [K, N]
// as flax stores it, so y = x·W + b with x [M, K] and y [M, N].
//
// Two shapes of the matrix products, chosen by the host from the device type:
//   default      one work-item per (6 rows, 16 outputs) with vload16 of W's rows: what a CPU
//                OpenCL (PoCL) turns into wide SIMD loops (~15x the tiled form there);
//   DENSE_TILED  16x16 local-memory tiles, one output per work-item: the GPU SGEMM shape.
// Both accumulate over the inner index in increasing order (the default shape's backward is
// its forward on Wᵀ), so the products follow the reference's order and every result is
// deterministic (no atomics anywhere).

#define TILE 16

#ifndef DENSE_TILED

// Rows per work-item of the default shape: DENSE_ROWS rows share every 16-wide load of W and
// give the CPU that many independent accumulator chains (one chain waits on FMA latency). Each
// output still sums over k in the same order as with one row. 6 rows: their float16
// accumulators take 12 of AVX2's 16 vector registers, W's row 2 and the broadcast x 1 (BLIS's
// Haswell SGEMM kernel is 6×16 for the same reason); 8 rows needed 19 and spilled. NaCl 12³ on
// PoCL, three alternating rounds: dense_forward 250–266 ms with 6 rows against 367–385 with 8
// (evaluation medians 2000–2035 against 2130–2155 ms); 8 had beaten 4 (64–73 against
// 105–109 ms for the forward alone). (The rows as an unrolled array instead of named
// accumulators were not kept in registers: 3× slower.)
//
// This shape has no backward kernel: the host runs x̄ = ȳ·Wᵀ as dense_forward on a stored
// copy of Wᵀ (CLDenseLayer.transposed), each x̄ summed over n in increasing order like the
// tiled backward. Against the earlier dot-product backward (16 lane sums per output, then a
// scalar epilogue), NaCl 12³ on PoCL, three alternating rounds: dense forward + backward
// 226–265 → 166–206 ms.
#define DENSE_ROWS 6

// y[i, c·16 .. c·16+15] = b + Σ_k x[i,k]·W[k, ...] for rows i = r·6 … r·6+5;
// global = (ceil(N/16), ceil(M/6)).
__kernel void dense_forward(__global const real *x, __global const real *w,
                            __global const real *b, const int hasBias,
                            __global real *y, const int M, const int K, const int N) {
    const int c = get_global_id(0), i0 = get_global_id(1) * DENSE_ROWS;
    if (i0 >= M) return;
    const int n0 = c * 16, rows = min(DENSE_ROWS, M - i0);
    __global const real *x0 = x + (size_t)i0 * K;
    if (n0 + 16 <= N && rows == DENSE_ROWS) {
        const real16 init = hasBias ? vload16(0, b + n0) : (real16)(0);
        real16 a0 = init, a1 = init, a2 = init, a3 = init, a4 = init, a5 = init;
        for (int k = 0; k < K; k++) {
            const real16 wk = vload16(0, w + (size_t)k * N + n0);
            a0 += x0[k] * wk;
            a1 += x0[K + k] * wk;
            a2 += x0[2 * K + k] * wk;
            a3 += x0[3 * K + k] * wk;
            a4 += x0[4 * K + k] * wk;
            a5 += x0[5 * K + k] * wk;
        }
        __global real *y0 = y + (size_t)i0 * N + n0;
        vstore16(a0, 0, y0);
        vstore16(a1, 0, y0 + N);
        vstore16(a2, 0, y0 + 2 * N);
        vstore16(a3, 0, y0 + 3 * N);
        vstore16(a4, 0, y0 + 4 * N);
        vstore16(a5, 0, y0 + 5 * N);
        return;
    }
    for (int r = 0; r < rows; r++) {
        __global const real *xr = x0 + (size_t)r * K;
        __global real *yr = y + (size_t)(i0 + r) * N;
        if (n0 + 16 <= N) {
            real16 acc = hasBias ? vload16(0, b + n0) : (real16)(0);
            for (int k = 0; k < K; k++) acc += xr[k] * vload16(0, w + (size_t)k * N + n0);
            vstore16(acc, 0, yr + n0);
        } else {
            for (int n = n0; n < N; n++) {
                real acc = hasBias ? b[n] : 0;
                for (int k = 0; k < K; k++) acc += xr[k] * w[(size_t)k * N + n];
                yr[n] = acc;
            }
        }
    }
}

#else

// Tiled y = x·W + b; global = (roundup(N,16), roundup(M,16)), local = (16,16).
__kernel void dense_forward(__global const real *x, __global const real *w,
                            __global const real *b, const int hasBias,
                            __global real *y, const int M, const int K, const int N) {
    __local real xs[TILE][TILE];
    __local real ws[TILE][TILE + 1];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int n = get_global_id(0), i = get_global_id(1);
    real acc = (hasBias && n < N) ? b[n] : 0;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        xs[ty][tx] = (i < M && k0 + tx < K) ? x[(size_t)i * K + k0 + tx] : 0;
        ws[ty][tx] = (k0 + ty < K && n < N) ? w[(size_t)(k0 + ty) * N + n] : 0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int t = 0; t < TILE; t++) acc += xs[ty][t] * ws[t][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < M && n < N) y[(size_t)i * N + n] = acc;
}

// Tiled x̄ = ȳ·Wᵀ; global = (roundup(K,16), roundup(M,16)), local = (16,16). The W tile is
// read along its rows (coalesced) and used transposed from local memory.
__kernel void dense_backward(__global const real *yBar, __global const real *w,
                             __global real *xBar, const int M, const int K, const int N) {
    __local real gs[TILE][TILE];
    __local real ws[TILE][TILE + 1];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int k = get_global_id(0), i = get_global_id(1);
    const int kBase = get_group_id(0) * TILE;
    real acc = 0;
    for (int n0 = 0; n0 < N; n0 += TILE) {
        gs[ty][tx] = (i < M && n0 + tx < N) ? yBar[(size_t)i * N + n0 + tx] : 0;
        // ws[t][kk] = W[kBase + kk, n0 + t]
        ws[tx][ty] = (kBase + ty < K && n0 + tx < N) ? w[(size_t)(kBase + ty) * N + n0 + tx] : 0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int t = 0; t < TILE; t++) acc += gs[ty][t] * ws[t][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < M && k < K) xBar[(size_t)i * K + k] = acc;
}

#endif

// h = silu(z) = z·σ(z), elementwise over `count`, 8 elements per work-item (precision.cl).
__kernel void silu_forward(__global const real *z, __global real *h, const int count) {
    const int first = 8 * get_global_id(0);
    if (first >= count) return;
    const real8 v = load8_padded(z, first, count);
    store8_partial(v / (1 + exp(-v)), h, first, count);
}

// g ← g · silu′(z) with silu′(z) = σ(z)·(1 + z·(1 − σ(z))), 8 elements per work-item.
__kernel void silu_backward(__global real *g, __global const real *z, const int count) {
    const int first = 8 * get_global_id(0);
    if (first >= count) return;
    const real8 v = load8_padded(z, first, count);
    const real8 s = 1 / (1 + exp(-v));
    store8_partial(load8_padded(g, first, count) * (s * (1 + v * (1 - s))), g, first, count);
}

// flax LayerNorm, "fast variance" ν = max(0, mean x² − μ²); one work-item per row (rows are
// short, ~F = 128). Keeps x − μ and rsqrt(ν + ε) for the backward.
__kernel void layer_norm_forward(__global const real *x, __global const real *scale,
                                 __global const real *bias, __global real *y,
                                 __global real *centered, __global real *inverse,
                                 const int M, const int F, const real epsilon) {
    const int i = get_global_id(0);
    if (i >= M) return;
    __global const real *xr = x + (size_t)i * F;
    real mean = 0, meanSq = 0;
    for (int f = 0; f < F; f++) { mean += xr[f]; meanSq += xr[f] * xr[f]; }
    mean /= F;
    meanSq /= F;
    const real variance = max((real)0, meanSq - mean * mean);
    const real inv = 1 / sqrt(variance + epsilon);
    inverse[i] = inv;
    for (int f = 0; f < F; f++) {
        const real c = xr[f] - mean;
        centered[(size_t)i * F + f] = c;
        y[(size_t)i * F + f] = c * (inv * scale[f]) + bias[f];
    }
}

// x̄_g = inv·(γȳ)_g − inv·mean(γȳ) − inv³·(x_g−μ)/F · Σ_f (γȳ)_f (x_f−μ).
__kernel void layer_norm_backward(__global const real *yBar, __global const real *scale,
                                  __global const real *centered, __global const real *inverse,
                                  __global real *xBar, const int M, const int F) {
    const int i = get_global_id(0);
    if (i >= M) return;
    __global const real *gr = yBar + (size_t)i * F;
    __global const real *cr = centered + (size_t)i * F;
    const real inv = inverse[i];
    real sum = 0, dot = 0;
    for (int f = 0; f < F; f++) {
        const real gy = scale[f] * gr[f];
        sum += gy;
        dot += gy * cr[f];
    }
    for (int g = 0; g < F; g++) {
        const real gy = scale[g] * gr[g];
        xBar[(size_t)i * F + g] = inv * gy - inv * sum / F - inv * inv * inv * cr[g] * dot / F;
    }
}
