// The full neighbour list of docs/MATH.md §0 (vesin `ase_neighbor_list("ijDS")`): every
// directed pair (i, j, S) with |R_j − R_i + S·h| < cutoff (strict), both directions, periodic
// self-images (i, i, S ≠ 0) included, in the canonical order of LoremReference.NeighborList
// (by center, then by (other, S_x, S_y, S_z)).
//
// The host bins the atoms (LoremReference BinGrid: bins at least one cutoff thick, so a neighbour
// lies at most `reach` bins or periodic images away) and the device searches per atom in three
// passes with integer results only, hence deterministic:
//   neighbor_count   pairs per center (and the first atom closer than the minimum distance),
//   (host)           exclusive prefix sum → CSR `start`,
//   neighbor_fill    the center's pairs into its segment, then an insertion sort of the segment,
//   neighbor_reverse the index of (o, c, −S) by binary search in o's sorted segment.
//
// `grid` holds nine ints: bins per axis (3), reach per axis (3), periodic flags (3).
// Shifts are corrected for the host's wrapping (S = wrap_bin − k_j + k_i), so R_p is always
// computed from the original positions; (i,j,S) and (j,i,−S) then get exactly negated vectors,
// so the list is symmetric in any precision.

static int floor_div(const int a, const int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Visits the candidate neighbours of atom i. With `fill`, writes (other, shift) of each pair
// at out + n; always returns the pair count n, and sets *close to j + 1 for the first j closer
// than sqrt(minimum2) (0 if none).
static int search(const int i, __global const real *positions, __global const real *cell,
                  __global const int *bins, __global const int *wraps, __global const int *binStart,
                  __global const int *binAtoms, __global const int *grid, const real cutoff,
                  const real minimum2, const int fill, __global int *outOthers, __global int *outShifts,
                  int *close) {
    const int3 counts = vload3(0, grid), reach = vload3(1, grid), periodic = vload3(2, grid);
    const int3 home = vload3(i, bins), ki = vload3(i, wraps);
    const real3 ri = vload3(i, positions);
    const real3 h0 = vload3(0, cell), h1 = vload3(1, cell), h2 = vload3(2, cell);
    const real cutoff2 = cutoff * cutoff;
    int n = 0;
    *close = 0;
    for (int dz = -reach.z; dz <= reach.z; dz++) {
        for (int dy = -reach.y; dy <= reach.y; dy++) {
            for (int dx = -reach.x; dx <= reach.x; dx++) {
                const int3 b = home + (int3)(dx, dy, dz);
                int3 bin, wrap = (int3)(0);
                if (periodic.x) { wrap.x = floor_div(b.x, counts.x); bin.x = b.x - wrap.x * counts.x; }
                else if (b.x < 0 || b.x >= counts.x) continue; else bin.x = b.x;
                if (periodic.y) { wrap.y = floor_div(b.y, counts.y); bin.y = b.y - wrap.y * counts.y; }
                else if (b.y < 0 || b.y >= counts.y) continue; else bin.y = b.y;
                if (periodic.z) { wrap.z = floor_div(b.z, counts.z); bin.z = b.z - wrap.z * counts.z; }
                else if (b.z < 0 || b.z >= counts.z) continue; else bin.z = b.z;
                const int l = bin.x + counts.x * (bin.y + counts.y * bin.z);
                for (int t = binStart[l]; t < binStart[l + 1]; t++) {
                    const int j = binAtoms[t];
                    const int3 s = wrap - vload3(j, wraps) + ki;
                    if (j == i && s.x == 0 && s.y == 0 && s.z == 0) continue;
                    const real3 d = vload3(j, positions) - ri +
                                    ((real)s.x * h0 + (real)s.y * h1 + (real)s.z * h2);
                    const real r2 = dot(d, d);
                    if (!(r2 < cutoff2)) continue;
                    if (r2 < minimum2 && *close == 0) *close = j + 1;
                    if (fill) {
                        outOthers[n] = j;
                        vstore3(s, n, outShifts);
                    }
                    n++;
                }
            }
        }
    }
    return n;
}

// Pass 1, one work-item per atom: counts[i] = number of pairs centered on i; close[i] = j + 1
// for a neighbour closer than the minimum distance (an error for the host to report).
__kernel void neighbor_count(__global const real *positions, __global const real *cell,
                             __global const int *bins, __global const int *wraps,
                             __global const int *binStart, __global const int *binAtoms,
                             __global const int *grid, const real cutoff, const real minimum2,
                             const int N, __global int *counts, __global int *close) {
    const int i = get_global_id(0);
    if (i >= N) return;
    int c;
    counts[i] = search(i, positions, cell, bins, wraps, binStart, binAtoms, grid, cutoff, minimum2, 0,
                       0, 0, &c);
    close[i] = c;
}

// (other, S) lexicographic order of two pairs of one center.
static bool pair_less(const int oa, const int3 sa, const int ob, const int3 sb) {
    if (oa != ob) return oa < ob;
    if (sa.x != sb.x) return sa.x < sb.x;
    if (sa.y != sb.y) return sa.y < sb.y;
    return sa.z < sb.z;
}

// Pass 2, one work-item per atom: writes its pairs into start[i] ..< start[i+1] and sorts them
// into canonical order (insertion sort: segments are short, tens to a few hundred pairs).
__kernel void neighbor_fill(__global const real *positions, __global const real *cell,
                            __global const int *bins, __global const int *wraps,
                            __global const int *binStart, __global const int *binAtoms,
                            __global const int *grid, const real cutoff, const real minimum2,
                            const int N, __global const int *start, __global int *centers,
                            __global int *others, __global int *shifts) {
    const int i = get_global_id(0);
    if (i >= N) return;
    const int base = start[i];
    __global int *o = others + base;
    __global int *s = shifts + (size_t)3 * base;
    int c;
    const int n = search(i, positions, cell, bins, wraps, binStart, binAtoms, grid, cutoff, minimum2, 1,
                         o, s, &c);
    for (int a = 1; a < n; a++) {
        const int key = o[a];
        const int3 keyShift = vload3(a, s);
        int b = a - 1;
        while (b >= 0 && pair_less(key, keyShift, o[b], vload3(b, s))) {
            o[b + 1] = o[b];
            vstore3(vload3(b, s), b + 1, s);
            b--;
        }
        o[b + 1] = key;
        vstore3(keyShift, b + 1, s);
    }
    for (int a = 0; a < n; a++) centers[base + a] = i;
}

// Pass 3, one work-item per pair: reverse[p] = index of (o(p), c(p), −S_p), found by binary
// search in the sorted segment of o(p); −1 if absent (impossible for a symmetric search).
__kernel void neighbor_reverse(__global const int *centers, __global const int *others,
                               __global const int *shifts, __global const int *start, const int P,
                               __global int *reverse) {
    const int p = get_global_id(0);
    if (p >= P) return;
    const int c = centers[p], o = others[p];
    const int3 s = -vload3(p, shifts);
    int lo = start[o], hi = start[o + 1];  // search [lo, hi)
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        if (pair_less(others[mid], vload3(mid, shifts), c, s)) lo = mid + 1; else hi = mid;
    }
    const bool found = lo < start[o + 1] && others[lo] == c && all(vload3(lo, shifts) == s);
    reverse[p] = found ? lo : -1;
}
