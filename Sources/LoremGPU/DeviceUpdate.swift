import LoremCL
import LoremModel

/// LOREM `Update` on the device (docs/MATH.md §7.1): x ← LN0(x + MLP0(y)); x ← LN1(x + MLP1(x)),
/// with the backward mirroring `DenseOps.update`/`updateBackward` of the reference.
struct DeviceUpdate<T: CLReal> {
    let mlp0: CLMLP<T>, norm0: CLLayerNorm<T>, mlp1: CLMLP<T>, norm1: CLLayerNorm<T>

    init(_ context: CLContext, _ w: UpdateWeights) throws {
        mlp0 = try CLMLP(context, w.mlp0)
        norm0 = try CLLayerNorm(context, w.norm0)
        mlp1 = try CLMLP(context, w.mlp1)
        norm1 = try CLLayerNorm(context, w.norm1)
    }

    var features: Int { norm0.features }

    struct Cache {
        var mlp0 = CLMLPCache<T>(keeping: .input), mlp1 = CLMLPCache<T>(keeping: .input)
        var norm0 = CLLayerNormCache<T>(), norm1 = CLLayerNormCache<T>()
    }

    func forward(_ x: CLBuffer<T>, _ y: CLBuffer<T>, rows: Int, _ k: DeviceKernels<T>, cache: inout Cache) throws -> CLBuffer<T> {
        let d = features
        let x1 = try k.sum(x, k.dense.mlp(y, rows: rows, mlp0, cache: &cache.mlp0), count: rows * d)
        let x2 = try k.dense.layerNorm(x1, rows: rows, norm0, cache: &cache.norm0)
        let x3 = try k.sum(x2, k.dense.mlp(x2, rows: rows, mlp1, cache: &cache.mlp1), count: rows * d)
        return try k.dense.layerNorm(x3, rows: rows, norm1, cache: &cache.norm1)
    }

    /// Returns (x̄, ȳ).
    func backward(_ outBar: CLBuffer<T>, rows: Int, _ k: DeviceKernels<T>, cache: Cache) throws -> (CLBuffer<T>, CLBuffer<T>) {
        let d = features
        let x3 = try k.dense.layerNormBackward(outBar, rows: rows, norm1, cache: cache.norm1)
        let x2 = try k.sum(x3, k.dense.mlpBackward(x3, rows: rows, mlp1, cache: cache.mlp1), count: rows * d)
        let x1 = try k.dense.layerNormBackward(x2, rows: rows, norm0, cache: cache.norm0)
        return (x1, try k.dense.mlpBackward(x1, rows: rows, mlp0, cache: cache.mlp0))
    }
}
