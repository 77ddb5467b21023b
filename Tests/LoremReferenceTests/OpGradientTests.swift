import XCTest
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference

/// Every hand-written backward against central finite differences of its forward, on random
/// inputs and weights: the pullback of a random cotangent ȳ must equal ∂(ȳ·f(x))/∂x.
final class OpGradientTests: XCTestCase {
    var rng = SplitMix64(seed: 11)

    func randomDense(_ i: Int, _ o: Int, bias: Bool) -> DenseWeights {
        DenseWeights(inputs: i, outputs: o, kernel: rng.normals(i * o, scale: 0.5), bias: bias ? rng.normals(o, scale: 0.3) : nil)
    }

    func randomMLP(_ i: Int, _ features: [Int]) -> MLPWeights {
        var fin = i
        return MLPWeights(layers: features.map { f in defer { fin = f }; return randomDense(fin, f, bias: true) })
    }

    func randomUpdate(_ i: Int, _ d: Int) -> UpdateWeights {
        UpdateWeights(
            mlp0: randomMLP(i, [2 * d, d]),
            norm0: LayerNormWeights(scale: rng.normals(d, scale: 0.2).map { 1 + $0 }, bias: rng.normals(d, scale: 0.2)),
            mlp1: randomMLP(d, [2 * d, d]),
            norm1: LayerNormWeights(scale: rng.normals(d, scale: 0.2).map { 1 + $0 }, bias: rng.normals(d, scale: 0.2)))
    }

    func randomTensor(_ L1: Int, _ L2: Int, _ L3: Int, _ F: Int) -> TensorWeights {
        TensorWeights(maxDegree1: L1, maxDegree2: L2, maxDegree3: L3, features: F,
                      kernel: rng.normals((L1 + 1) * (L2 + 1) * (L3 + 1) * F, scale: 1),
                      coupling: CouplingTable(maxDegree1: L1, maxDegree2: L2, maxDegree3: L3))
    }

    /// Checks x̄ = backward(ȳ) against (ȳ·f(x + h e_k) − ȳ·f(x − h e_k)) / 2h for every k.
    func checkGradient(_ x: [Double], cotangent yBar: [Double], _ f: ([Double]) -> [Double],
                       _ backward: [Double], tolerance: Double = 1e-7, file: StaticString = #filePath, line: UInt = #line) {
        let h = 1e-5
        for k in x.indices {
            var xp = x, xm = x
            xp[k] += h
            xm[k] -= h
            let fp = zip(f(xp), yBar).reduce(0) { $0 + $1.0 * $1.1 }
            let fm = zip(f(xm), yBar).reduce(0) { $0 + $1.0 * $1.1 }
            let fd = (fp - fm) / (2 * h)
            XCTAssertEqual(backward[k], fd, accuracy: tolerance * max(1, abs(fd)), "component \(k)", file: file, line: line)
        }
    }

    func testMLP() {
        let w = randomMLP(5, [7, 3])
        let x = Matrix(rows: 2, cols: 5, data: rng.normals(10, scale: 1))
        let yBar = Matrix(rows: 2, cols: 3, data: rng.normals(6, scale: 1))
        var cache = DenseOps.MLPCache()
        _ = DenseOps.mlp(x, w, cache: &cache)
        let xBar = DenseOps.mlpBackward(yBar, w, cache: cache)
        checkGradient(x.data, cotangent: yBar.data, { DenseOps.mlp(Matrix(rows: 2, cols: 5, data: $0), w).data }, xBar.data)
    }

    func testLayerNorm() {
        let w = LayerNormWeights(scale: rng.normals(6, scale: 0.3).map { 1 + $0 }, bias: rng.normals(6, scale: 0.3))
        let x = Matrix(rows: 3, cols: 6, data: rng.normals(18, scale: 2))
        let yBar = Matrix(rows: 3, cols: 6, data: rng.normals(18, scale: 1))
        var cache = DenseOps.LayerNormCache()
        _ = DenseOps.layerNorm(x, w, cache: &cache)
        let xBar = DenseOps.layerNormBackward(yBar, w, cache: cache)
        checkGradient(x.data, cotangent: yBar.data, { v in
            var c = DenseOps.LayerNormCache()
            return DenseOps.layerNorm(Matrix(rows: 3, cols: 6, data: v), w, cache: &c).data
        }, xBar.data)
    }

    func testUpdate() {
        let (d, fin) = (4, 3)
        let w = randomUpdate(fin, d)
        let x = rng.normals(2 * d, scale: 1), y = rng.normals(2 * fin, scale: 1)
        let oBar = Matrix(rows: 2, cols: d, data: rng.normals(2 * d, scale: 1))
        var cache = DenseOps.UpdateCache()
        _ = DenseOps.update(Matrix(rows: 2, cols: d, data: x), Matrix(rows: 2, cols: fin, data: y), w, cache: &cache)
        let (xBar, yBar) = DenseOps.updateBackward(oBar, w, cache: cache)
        func f(_ xv: [Double], _ yv: [Double]) -> [Double] {
            var c = DenseOps.UpdateCache()
            return DenseOps.update(Matrix(rows: 2, cols: d, data: xv), Matrix(rows: 2, cols: fin, data: yv), w, cache: &c).data
        }
        checkGradient(x, cotangent: oBar.data, { f($0, y) }, xBar.data)
        checkGradient(y, cotangent: oBar.data, { f(x, $0) }, yBar.data)
    }

    func testTensorProductBothArguments() {
        let (L1, L2, L3, F) = (2, 3, 3, 2)
        let w = randomTensor(L1, L2, L3, F)
        let x = SphericalArray(rows: 2, maxDegree: L1, features: F, data: rng.normals(2 * 9 * F, scale: 1))
        let y = SphericalArray(rows: 2, maxDegree: L2, features: F, data: rng.normals(2 * 16 * F, scale: 1))
        let zBar = rng.normals(2 * 16 * F, scale: 1)
        let (xBar, yBar) = EquivariantOps.tensorBackward(
            SphericalArray(rows: 2, maxDegree: L3, features: F, data: zBar), x, y, w)
        checkGradient(x.data, cotangent: zBar, { v in
            var xx = x; xx.data = v; return EquivariantOps.tensor(xx, y, w).data }, xBar.data)
        checkGradient(y.data, cotangent: zBar, { v in
            var yy = y; yy.data = v; return EquivariantOps.tensor(x, yy, w).data }, yBar.data)
    }

    func testTensorDenseAndEquivariantDense() {
        let (L, F) = (2, 3)
        let dense = EquivariantDenseWeights(perDegree: (0...L).map { _ in randomDense(F, 2 * F, bias: false) })
        let w = TensorDenseWeights(dense: dense, tensor: randomTensor(L, L, L, F))
        let x = SphericalArray(rows: 2, maxDegree: L, features: F, data: rng.normals(2 * 9 * F, scale: 1))
        let zBar = rng.normals(2 * 9 * F, scale: 1)
        let halves = EquivariantOps.tensorDense(x, w).halves
        let xBar = EquivariantOps.tensorDenseBackward(
            SphericalArray(rows: 2, maxDegree: L, features: F, data: zBar), w, halves: halves)
        checkGradient(x.data, cotangent: zBar, { v in
            var xx = x; xx.data = v; return EquivariantOps.tensorDense(xx, w).out.data }, xBar.data)
    }

    func testNormFeaturesIncludingVanishingBlock() {
        let (L, F) = (3, 2)
        var x = SphericalArray(rows: 1, maxDegree: L, features: F, data: rng.normals(16 * F, scale: 1))
        for a in 1...3 { x.data[x.offset(0, a) + 1] = 0 }  // the l = 1 block of feature 1 vanishes
        let oBar = Matrix(rows: 1, cols: (L + 1) * F, data: rng.normals((L + 1) * F, scale: 1))
        let xBar = EquivariantOps.normFeaturesBackward(oBar, x)
        for a in 1...3 { XCTAssertEqual(xBar.data[x.offset(0, a) + 1], 0, "zero block has zero gradient, not NaN") }
        var y = x
        y.data[y.offset(0, 1) + 1] = 0.3  // away from the kink, the gradient is the plain one
        let yBar = EquivariantOps.normFeaturesBackward(oBar, y)
        checkGradient(y.data, cotangent: oBar.data, { v in
            var yy = y; yy.data = v; return EquivariantOps.normFeatures(yy).data }, yBar.data)
    }

    func testMessagePassTensorWithGatheredRows() {
        let (L, F) = (2, 2)
        let w = randomTensor(L, L, L, F)
        let filt = SphericalArray(rows: 3, maxDegree: L, features: F, data: rng.normals(3 * 9 * F, scale: 1))
        let nodes = SphericalArray(rows: 2, maxDegree: L, features: F, data: rng.normals(2 * 9 * F, scale: 1))
        let src = [1, 0, 1]
        let zBar = rng.normals(3 * 9 * F, scale: 1)
        let (_, nBar) = EquivariantOps.tensorBackward(
            SphericalArray(rows: 3, maxDegree: L, features: F, data: zBar), filt, nodes, w, yRows: src)
        checkGradient(nodes.data, cotangent: zBar, { v in
            var nn = nodes; nn.data = v; return EquivariantOps.tensor(filt, nn, w, yRows: src).data }, nBar.data)
    }
}
