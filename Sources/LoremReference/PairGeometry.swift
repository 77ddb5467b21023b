import LoremEngineCore
import LoremModel

/// Step 1 of `Lorem.__call__` (docs/MATH.md §2, §7.1 `Initial`): per-pair distance, direction,
/// cutoff-weighted Bernstein basis and spherical harmonics, with what the backward pass needs.
struct PairGeometry {
    let vectors: [SIMD3<Double>]      // R_p = R_o − R_c + S_p·h
    let distances: [Double]
    let directions: [SIMD3<Double>]
    let radial: Matrix                // B_k(r_p)·fc(r_p), [P, K]
    let radialDerivative: Matrix      // d(B_k·fc)/dr with the custom Bernstein rule
    let harmonics: Matrix             // Y(u_p), [P, (L+1)²]
    let harmonicGradients: [SIMD3<Double>]  // ∂Y_a/∂u at p·slots + a

    init(positions: [SIMD3<Double>], cell: [SIMD3<Double>], pairs: PairList,
         basis: BernsteinBasis, sh: SphericalHarmonics) {
        let P = pairs.count, K = basis.count, S = sh.count
        let vectors = pairs.vectors(positions: positions, cell: cell)
        var distances = [Double](), directions = [SIMD3<Double>]()
        var radial = Matrix(zeros: P, K), dRadial = Matrix(zeros: P, K), Y = Matrix(zeros: P, S)
        var dY = [SIMD3<Double>](repeating: .zero, count: P * S)
        for p in 0..<P {
            let v = vectors[p]
            let r = (v * v).sum().squareRoot()
            let u = v / r
            distances.append(r)
            directions.append(u)
            let fc = CosineCutoff.value(r, cutoff: basis.cutoff)
            let dfc = CosineCutoff.derivative(r, cutoff: basis.cutoff)
            let b = basis.values(r), db = basis.derivatives(r)
            for k in 0..<K {
                radial[p, k] = b[k] * fc
                dRadial[p, k] = db[k] * fc + b[k] * dfc
            }
            let (y, g) = sh.valuesAndGradients(u)
            for a in 0..<S {
                Y[p, a] = y[a]
                dY[p * S + a] = g[a]
            }
        }
        self.vectors = vectors
        self.distances = distances
        self.directions = directions
        self.radial = radial
        self.radialDerivative = dRadial
        self.harmonics = Y
        self.harmonicGradients = dY
    }

    /// ḡ_p = ∂E/∂R_p from the cotangents of radial and Y:
    /// ḡ = r̄u + (ū − (ū·u)u)/r (docs/MATH.md §10.2 G1).
    func pairVectorGradients(radialBar: Matrix, harmonicsBar: Matrix) -> [SIMD3<Double>] {
        let S = harmonics.cols
        return (0..<vectors.count).map { p in
            var rBar = 0.0
            for k in 0..<radial.cols { rBar += radialBar[p, k] * radialDerivative[p, k] }
            var uBar = SIMD3<Double>.zero
            for a in 0..<S { uBar += harmonicsBar[p, a] * harmonicGradients[p * S + a] }
            let u = directions[p]
            return rBar * u + (uBar - (uBar * u).sum() * u) / distances[p]
        }
    }
}

/// Scatters pair-vector gradients onto atoms (∂E/∂R_o += ḡ, ∂E/∂R_c −= ḡ) and accumulates the
/// virial W = Σ_p R_p ⊗ ḡ_p, which already contains the cell path Σ_A S_pA ḡ_p (§10.2 G1).
func scatterPairGradients(
    _ g: [SIMD3<Double>], pairs: PairList, vectors: [SIMD3<Double>],
    into positions: inout [SIMD3<Double>], virial: inout [[Double]]
) {
    for p in 0..<g.count {
        positions[pairs.others[p]] += g[p]
        positions[pairs.centers[p]] -= g[p]
        for a in 0..<3 { for b in 0..<3 { virial[a][b] += vectors[p][a] * g[p][b] } }
    }
}
