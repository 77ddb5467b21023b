import LoremEngineCore
import LoremModel

/// Pair↔atom plumbing shared by every stage: segment sums over centers (Σ_{p→i}), gathers,
/// the radial contraction of `RadialCoefficients` and the spherical edge basis (docs/MATH.md §7).
enum PairOps {
    /// out[i] = Σ_{p: c(p)=i} x[p].
    static func segmentSum(_ x: Matrix, centers: [Int], atoms: Int) -> Matrix {
        var out = Matrix(zeros: atoms, x.cols)
        for p in 0..<x.rows { for f in 0..<x.cols { out[centers[p], f] += x[p, f] } }
        return out
    }

    static func segmentSum(_ x: SphericalArray, centers: [Int], atoms: Int) -> SphericalArray {
        var out = SphericalArray(rows: atoms, maxDegree: x.maxDegree, features: x.features)
        let width = x.slots * x.features
        for p in 0..<x.rows {
            let (o, i) = (p * width, centers[p] * width)
            for k in 0..<width { out.data[i + k] += x.data[o + k] }
        }
        return out
    }

    /// out[p] = x[index[p]] (the backward of a segment sum, and the node→pair gather).
    static func gather(_ x: Matrix, _ index: [Int]) -> Matrix {
        var out = Matrix(zeros: index.count, x.cols)
        for p in index.indices { for f in 0..<x.cols { out[p, f] = x[index[p], f] } }
        return out
    }

    static func gather(_ x: SphericalArray, _ index: [Int]) -> SphericalArray {
        var out = SphericalArray(rows: index.count, maxDegree: x.maxDegree, features: x.features)
        let width = x.slots * x.features
        for p in index.indices {
            for k in 0..<width { out.data[p * width + k] = x.data[index[p] * width + k] }
        }
        return out
    }

    /// RadialCoefficients' contraction e[p,f] = Σ_k coef[p, k·d + f]·radial[p,k] (§7.1), where
    /// `coefRow[p]` selects the coefficient row (a species-pair table row, or p itself).
    static func contractRadial(_ coef: Matrix, coefRow: [Int]?, radial: Matrix, features d: Int) -> Matrix {
        var e = Matrix(zeros: radial.rows, d)
        for p in 0..<radial.rows {
            let row = coefRow?[p] ?? p
            for k in 0..<radial.cols {
                let rk = radial[p, k]
                for f in 0..<d { e[p, f] += coef[row, k * d + f] * rk }
            }
        }
        return e
    }

    /// radial̄[p,k] = Σ_f ē[p,f]·coef[p, k·d+f].
    static func contractRadialBackwardRadial(_ eBar: Matrix, _ coef: Matrix, coefRow: [Int]?, kCount: Int) -> Matrix {
        let d = eBar.cols
        var rBar = Matrix(zeros: eBar.rows, kCount)
        for p in 0..<eBar.rows {
            let row = coefRow?[p] ?? p
            for k in 0..<kCount {
                var acc = 0.0
                for f in 0..<d { acc += eBar[p, f] * coef[row, k * d + f] }
                rBar[p, k] = acc
            }
        }
        return rBar
    }

    /// coef̄[p, k·d+f] = ē[p,f]·radial[p,k] (per-pair coefficients only).
    static func contractRadialBackwardCoefficients(_ eBar: Matrix, radial: Matrix) -> Matrix {
        let d = eBar.cols
        var out = Matrix(zeros: eBar.rows, radial.cols * d)
        for p in 0..<eBar.rows {
            for k in 0..<radial.cols { for f in 0..<d { out[p, k * d + f] = eBar[p, f] * radial[p, k] } }
        }
        return out
    }

    /// Spherical edge basis G[p,a,f] = w[p, deg a·s + f]·Y[p,a] (§7.2 steps 5 and 9).
    static func edgeBasis(_ w: Matrix, harmonics Y: Matrix, maxDegree L: Int, features s: Int) -> SphericalArray {
        var G = SphericalArray(rows: w.rows, maxDegree: L, features: s)
        let deg = SphericalLayout.degrees(maxDegree: L)
        for p in 0..<w.rows {
            for a in 0..<G.slots {
                let o = G.offset(p, a)
                for f in 0..<s { G.data[o + f] = w[p, deg[a] * s + f] * Y[p, a] }
            }
        }
        return G
    }

    /// Returns (w̄, Ȳ) for `edgeBasis`.
    static func edgeBasisBackward(_ gBar: SphericalArray, _ w: Matrix, harmonics Y: Matrix) -> (Matrix, Matrix) {
        let (L, s) = (gBar.maxDegree, gBar.features)
        let deg = SphericalLayout.degrees(maxDegree: L)
        var wBar = Matrix(zeros: w.rows, w.cols), yBar = Matrix(zeros: Y.rows, Y.cols)
        for p in 0..<w.rows {
            for a in 0..<gBar.slots {
                let o = gBar.offset(p, a)
                var acc = 0.0
                for f in 0..<s {
                    let g = gBar.data[o + f]
                    wBar[p, deg[a] * s + f] += g * Y[p, a]
                    acc += g * w[p, deg[a] * s + f]
                }
                yBar[p, a] = acc
            }
        }
        return (wBar, yBar)
    }
}
