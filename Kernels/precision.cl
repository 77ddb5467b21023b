// Prelude compiled in front of every kernel family. The host passes -DREAL=float or
// -DREAL=double (the latter with -DREAL_IS_DOUBLE, since the preprocessor cannot compare
// type names), so one source serves the float32 and float64 engines.

#ifndef REAL
#error "build with -DREAL=float or -DREAL=double"
#endif

#ifdef REAL_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real;
typedef double2 real2;
typedef double3 real3;
typedef double4 real4;
typedef double8 real8;
typedef double16 real16;
#else
typedef float real;
typedef float2 real2;
typedef float3 real3;
typedef float4 real4;
typedef float8 real8;
typedef float16 real16;
#endif

// The 16 lanes of a partial-sum vector added in a fixed order (lane 0 first), so the kernels
// that sum in 16-wide blocks (dot_rows, contract_radial_backward_radial, pme_gradient) round
// the same way on every device.
inline real lane_sum16(const real16 v) {
    return v.s0 + v.s1 + v.s2 + v.s3 + v.s4 + v.s5 + v.s6 + v.s7 + v.s8 + v.s9 + v.sa + v.sb + v.sc + v.sd +
           v.se + v.sf;
}

// Σ_j x[j]·y[j] over n values: 16-wide partial sums, then the lanes in a fixed order.
inline real dot_rows(__global const real *x, __global const real *y, const int n) {
    real16 acc16 = (real16)(0);
    int j = 0;
    for (; j + 16 <= n; j += 16) acc16 += vload16(0, x + j) * vload16(0, y + j);
    real acc = lane_sum16(acc16);
    for (; j < n; j++) acc += x[j] * y[j];
    return acc;
}

// Elementwise kernels (add, silu) take 8 consecutive elements per work-item as one real8, so
// the arithmetic, exp included, runs as vector code on a CPU OpenCL: PoCL did not vectorise
// the one-element silu across work-items (85k-atom NaCl: ~48 ms per 10.9M-element launch).
// The last, partial block is padded with zeros and takes the same vector path, so an
// element's bits do not depend on where it falls in the buffer.
inline real8 load8_padded(__global const real *x, const int first, const int count) {
    if (first + 8 <= count) return vload8(0, x + first);
    real v[8];
    for (int i = 0; i < 8; i++) v[i] = first + i < count ? x[first + i] : 0;
    return vload8(0, v);
}

inline void store8_partial(const real8 v, __global real *x, const int first, const int count) {
    if (first + 8 <= count) {
        vstore8(v, 0, x + first);
        return;
    }
    real t[8];
    vstore8(v, 0, t);
    for (int i = 0; first + i < count; i++) x[first + i] = t[i];
}
