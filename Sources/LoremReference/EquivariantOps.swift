import LoremEngineCore
import LoremModel

/// Forward and backward of e3x's equivariant layers on `SphericalArray`s: Dense (§3), Tensor
/// (§4.2), TensorDense (§4.3) and LOREM's degree-norm features (§7.1).
enum EquivariantOps {
    /// e3x Dense: y[a,g] = Σ_f x[a,f]·W^{(deg a)}[f,g] (+ b[g] on slot 0 where the weights have
    /// e3x's degree-0 bias: LoremBEC's tensor heads; the energy model's Dense layers have none).
    static func dense(_ x: SphericalArray, _ w: EquivariantDenseWeights) -> SphericalArray {
        precondition(x.features == w.inputs && x.maxDegree == w.maxDegree)
        var y = SphericalArray(rows: x.rows, maxDegree: x.maxDegree, features: w.outputs)
        let degrees = SphericalLayout.degrees(maxDegree: x.maxDegree)
        for i in 0..<x.rows {
            for a in 0..<x.slots {
                let k = w.perDegree[degrees[a]]
                let (xo, yo) = (x.offset(i, a), y.offset(i, a))
                for f in 0..<k.inputs {
                    let xv = x.data[xo + f]
                    for g in 0..<k.outputs { y.data[yo + g] += xv * k.kernel[f * k.outputs + g] }
                }
            }
            if let b = w.perDegree[0].bias {
                let yo = y.offset(i, 0)
                for g in 0..<b.count { y.data[yo + g] += b[g] }
            }
        }
        return y
    }

    static func denseBackward(_ yBar: SphericalArray, _ w: EquivariantDenseWeights) -> SphericalArray {
        var x = SphericalArray(rows: yBar.rows, maxDegree: yBar.maxDegree, features: w.inputs)
        let degrees = SphericalLayout.degrees(maxDegree: yBar.maxDegree)
        for i in 0..<yBar.rows {
            for a in 0..<yBar.slots {
                let k = w.perDegree[degrees[a]]
                let (xo, yo) = (x.offset(i, a), yBar.offset(i, a))
                for f in 0..<k.inputs {
                    var acc = 0.0
                    for g in 0..<k.outputs { acc += yBar.data[yo + g] * k.kernel[f * k.outputs + g] }
                    x.data[xo + f] = acc
                }
            }
        }
        return x
    }

    /// e3x Tensor (no pseudotensors): z[c,f] = Σ W[l1,l2,l3,f]·C[a,b,c]·x[a,f]·y[b,f].
    /// Row i of x is paired with row `yRows[i]` of y (identity when nil): MessagePass uses this
    /// to read the source atom's features without materialising a gathered copy.
    static func tensor(_ x: SphericalArray, _ y: SphericalArray, _ w: TensorWeights, yRows: [Int]? = nil) -> SphericalArray {
        precondition(x.maxDegree == w.maxDegree1 && y.maxDegree == w.maxDegree2)
        precondition(x.features == w.features && y.features == w.features)
        var z = SphericalArray(rows: x.rows, maxDegree: w.maxDegree3, features: w.features)
        let F = w.features
        for i in 0..<x.rows {
            let iy = yRows?[i] ?? i
            for e in w.coupling.entries {
                let wo = w.weightIndex(e.l1, e.l2, e.l3)
                let (xo, yo, zo) = (x.offset(i, e.a), y.offset(iy, e.b), z.offset(i, e.c))
                for f in 0..<F { z.data[zo + f] += w.kernel[wo + f] * e.value * x.data[xo + f] * y.data[yo + f] }
            }
        }
        return z
    }

    /// Returns (x̄, ȳ); ȳ has y's row count (rows gathered through `yRows` are scattered back).
    static func tensorBackward(
        _ zBar: SphericalArray, _ x: SphericalArray, _ y: SphericalArray, _ w: TensorWeights, yRows: [Int]? = nil
    ) -> (SphericalArray, SphericalArray) {
        var xBar = x.zerosLike(), yBar = y.zerosLike()
        let F = w.features
        for i in 0..<x.rows {
            let iy = yRows?[i] ?? i
            for e in w.coupling.entries {
                let wo = w.weightIndex(e.l1, e.l2, e.l3)
                let (xo, yo, zo) = (x.offset(i, e.a), y.offset(iy, e.b), zBar.offset(i, e.c))
                for f in 0..<F {
                    let g = w.kernel[wo + f] * e.value * zBar.data[zo + f]
                    xBar.data[xo + f] += g * y.data[yo + f]
                    yBar.data[yo + f] += g * x.data[xo + f]
                }
            }
        }
        return (xBar, yBar)
    }

    /// Splits features [0, F) and [F, 2F) of an array (TensorDense's x1, x2).
    static func split(_ h: SphericalArray) -> (SphericalArray, SphericalArray) {
        let F = h.features / 2
        var a = SphericalArray(rows: h.rows, maxDegree: h.maxDegree, features: F), b = a
        for i in 0..<h.rows {
            for s in 0..<h.slots {
                for f in 0..<F {
                    a.data[a.offset(i, s) + f] = h.data[h.offset(i, s) + f]
                    b.data[b.offset(i, s) + f] = h.data[h.offset(i, s) + F + f]
                }
            }
        }
        return (a, b)
    }

    static func join(_ a: SphericalArray, _ b: SphericalArray) -> SphericalArray {
        var h = SphericalArray(rows: a.rows, maxDegree: a.maxDegree, features: 2 * a.features)
        let F = a.features
        for i in 0..<a.rows {
            for s in 0..<a.slots {
                for f in 0..<F {
                    h.data[h.offset(i, s) + f] = a.data[a.offset(i, s) + f]
                    h.data[h.offset(i, s) + F + f] = b.data[b.offset(i, s) + f]
                }
            }
        }
        return h
    }

    /// e3x TensorDense: Dense to 2F, Tensor(first half, second half).
    static func tensorDense(_ x: SphericalArray, _ w: TensorDenseWeights) -> (out: SphericalArray, halves: (SphericalArray, SphericalArray)) {
        let halves = split(dense(x, w.dense))
        return (tensor(halves.0, halves.1, w.tensor), halves)
    }

    static func tensorDenseBackward(
        _ zBar: SphericalArray, _ w: TensorDenseWeights, halves: (SphericalArray, SphericalArray)
    ) -> SphericalArray {
        let (aBar, bBar) = tensorBackward(zBar, halves.0, halves.1, w.tensor)
        return denseBackward(join(aBar, bBar), w.dense)
    }

    /// flat(‖X‖)[i, l·F + f] = λ_l · sqrt(Σ_{deg a = l} X[i,a,f]²) (docs/MATH.md §7.1).
    static func normFeatures(_ x: SphericalArray) -> Matrix {
        let (L, F) = (x.maxDegree, x.features)
        let lambda = SphericalLayout.normFactors(maxDegree: L)
        var out = Matrix(zeros: x.rows, (L + 1) * F)
        for i in 0..<x.rows {
            for l in 0...L {
                for f in 0..<F {
                    var s = 0.0
                    for a in (l * l)..<((l + 1) * (l + 1)) { let v = x.data[x.offset(i, a) + f]; s += v * v }
                    out[i, l * F + f] = lambda[l] * s.squareRoot()
                }
            }
        }
        return out
    }

    /// The custom JVP of `spherical_norm`: X̄ = n̄·X/n, and 0 for a vanishing block (not NaN).
    static func normFeaturesBackward(_ outBar: Matrix, _ x: SphericalArray) -> SphericalArray {
        let (L, F) = (x.maxDegree, x.features)
        let lambda = SphericalLayout.normFactors(maxDegree: L)
        var xBar = x.zerosLike()
        for i in 0..<x.rows {
            for l in 0...L {
                let slots = (l * l)..<((l + 1) * (l + 1))
                for f in 0..<F {
                    var s = 0.0
                    for a in slots { let v = x.data[x.offset(i, a) + f]; s += v * v }
                    let n = s.squareRoot()
                    guard n > 0 else { continue }
                    let g = outBar[i, l * F + f] * lambda[l] / n
                    for a in slots { xBar.data[x.offset(i, a) + f] = g * x.data[x.offset(i, a) + f] }
                }
            }
        }
        return xBar
    }
}
