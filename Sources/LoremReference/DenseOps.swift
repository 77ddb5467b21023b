import LoremEngineCore
import Foundation
import LoremModel

/// Forward and backward of the plain (non-equivariant) layers: flax Dense, silu, LOREM MLP,
/// LayerNorm and Update (docs/MATH.md §6, §7.1). Weights are constants: the backward passes
/// return only input cotangents, which is all forces and stress need.
enum DenseOps {
    /// y = x·W (+ b).
    static func dense(_ x: Matrix, _ w: DenseWeights) -> Matrix {
        precondition(x.cols == w.inputs)
        var y = Matrix(zeros: x.rows, w.outputs)
        let (fin, fout) = (w.inputs, w.outputs)
        x.data.withUnsafeBufferPointer { xp in
            w.kernel.withUnsafeBufferPointer { kp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    for i in 0..<x.rows {
                        let yr = yp.baseAddress! + i * fout
                        if let b = w.bias { for g in 0..<fout { yr[g] = b[g] } }
                        for f in 0..<fin {
                            let xv = xp[i * fin + f]
                            if xv == 0 { continue }
                            let kr = kp.baseAddress! + f * fout
                            for g in 0..<fout { yr[g] += xv * kr[g] }
                        }
                    }
                }
            }
        }
        return y
    }

    /// x̄ = ȳ·Wᵀ.
    static func denseBackward(_ yBar: Matrix, _ w: DenseWeights) -> Matrix {
        precondition(yBar.cols == w.outputs)
        var x = Matrix(zeros: yBar.rows, w.inputs)
        let (fin, fout) = (w.inputs, w.outputs)
        yBar.data.withUnsafeBufferPointer { yp in
            w.kernel.withUnsafeBufferPointer { kp in
                x.data.withUnsafeMutableBufferPointer { xp in
                    for i in 0..<yBar.rows {
                        let yr = yp.baseAddress! + i * fout
                        for f in 0..<fin {
                            let kr = kp.baseAddress! + f * fout
                            var acc = 0.0
                            for g in 0..<fout { acc += yr[g] * kr[g] }
                            xp[i * fin + f] = acc
                        }
                    }
                }
            }
        }
        return x
    }

    @inline(__always) static func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

    /// Activations kept by `mlp` for its backward: the pre-activation of every hidden layer.
    struct MLPCache {
        var preActivations: [Matrix] = []
    }

    /// Dense → silu → … → Dense (no activation after the last layer).
    static func mlp(_ x: Matrix, _ w: MLPWeights, cache: inout MLPCache) -> Matrix {
        var h = x
        cache.preActivations = []
        for (k, layer) in w.layers.enumerated() {
            h = dense(h, layer)
            if k != w.layers.count - 1 {
                cache.preActivations.append(h)
                h.data = h.data.map { $0 * sigmoid($0) }
            }
        }
        return h
    }

    static func mlp(_ x: Matrix, _ w: MLPWeights) -> Matrix {
        var c = MLPCache()
        return mlp(x, w, cache: &c)
    }

    static func mlpBackward(_ yBar: Matrix, _ w: MLPWeights, cache: MLPCache) -> Matrix {
        var g = yBar
        for k in stride(from: w.layers.count - 1, through: 0, by: -1) {
            g = denseBackward(g, w.layers[k])
            if k > 0 {
                // silu'(z) = σ(z)·(1 + z·(1 − σ(z)))
                let z = cache.preActivations[k - 1]
                for e in g.data.indices {
                    let s = sigmoid(z.data[e])
                    g.data[e] *= s * (1 + z.data[e] * (1 - s))
                }
            }
        }
        return g
    }

    struct LayerNormCache {
        var centered = Matrix(zeros: 0, 0)  // x − μ
        var inverse: [Double] = []          // rsqrt(ν + ε) per row
    }

    /// flax LayerNorm with the "fast variance" ν = max(0, mean x² − μ²) (docs/MATH.md §6).
    static func layerNorm(_ x: Matrix, _ w: LayerNormWeights, cache: inout LayerNormCache) -> Matrix {
        let F = x.cols
        var y = Matrix(zeros: x.rows, F)
        cache.centered = Matrix(zeros: x.rows, F)
        cache.inverse = [Double](repeating: 0, count: x.rows)
        for i in 0..<x.rows {
            var mean = 0.0, meanSq = 0.0
            for f in 0..<F { mean += x[i, f]; meanSq += x[i, f] * x[i, f] }
            mean /= Double(F)
            meanSq /= Double(F)
            let variance = max(0, meanSq - mean * mean)
            let inv = 1 / (variance + LayerNormWeights.epsilon).squareRoot()
            cache.inverse[i] = inv
            for f in 0..<F {
                let c = x[i, f] - mean
                cache.centered[i, f] = c
                y[i, f] = c * (inv * w.scale[f]) + w.bias[f]
            }
        }
        return y
    }

    /// x̄_g = inv·(γȳ)_g − inv·mean(γȳ) − inv³·(x_g−μ)/F · Σ_f (γȳ)_f (x_f−μ).
    static func layerNormBackward(_ yBar: Matrix, _ w: LayerNormWeights, cache: LayerNormCache) -> Matrix {
        let F = yBar.cols
        var x = Matrix(zeros: yBar.rows, F)
        for i in 0..<yBar.rows {
            let inv = cache.inverse[i]
            var sum = 0.0, dot = 0.0
            for f in 0..<F {
                let gy = w.scale[f] * yBar[i, f]
                sum += gy
                dot += gy * cache.centered[i, f]
            }
            for g in 0..<F {
                let gy = w.scale[g] * yBar[i, g]
                x[i, g] = inv * gy - inv * sum / Double(F) - inv * inv * inv * cache.centered[i, g] * dot / Double(F)
            }
        }
        return x
    }

    struct UpdateCache {
        var mlp0 = MLPCache(), mlp1 = MLPCache()
        var norm0 = LayerNormCache(), norm1 = LayerNormCache()
    }

    /// LOREM Update: x ← LN0(x + MLP0(y)); x ← LN1(x + MLP1(x)) (docs/MATH.md §7.1).
    static func update(_ x: Matrix, _ y: Matrix, _ w: UpdateWeights, cache: inout UpdateCache) -> Matrix {
        let x1 = x + mlp(y, w.mlp0, cache: &cache.mlp0)
        let x2 = layerNorm(x1, w.norm0, cache: &cache.norm0)
        let x3 = x2 + mlp(x2, w.mlp1, cache: &cache.mlp1)
        return layerNorm(x3, w.norm1, cache: &cache.norm1)
    }

    /// Returns (x̄, ȳ).
    static func updateBackward(_ outBar: Matrix, _ w: UpdateWeights, cache: UpdateCache) -> (Matrix, Matrix) {
        let x3 = layerNormBackward(outBar, w.norm1, cache: cache.norm1)
        let x2 = x3 + mlpBackward(x3, w.mlp1, cache: cache.mlp1)
        let x1 = layerNormBackward(x2, w.norm0, cache: cache.norm0)
        return (x1, mlpBackward(x1, w.mlp0, cache: cache.mlp0))
    }
}
