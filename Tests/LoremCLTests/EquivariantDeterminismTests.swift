import LoremCL
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// No atomics and fixed summation orders: MessagePass (gathered Tensor, CSR scatter of ȳ,
/// segment sums), TensorDense and the norm features, forward and backward, agree bit for bit
/// across two runs, in both precisions.
final class EquivariantDeterminismTests: XCTestCase {
    func testTwoRunsAreBitIdentical() throws {
        try forEachPrecision(Float.self, checkDeterminism)
        try forEachPrecision(Double.self, checkDeterminism)
    }

    func checkDeterminism<T: CLReal>(_ kernels: EquivariantKernels<T>, _ label: String) throws {
        var rng = SeededGenerator(seed: 31)
        let (atoms, list) = try rng.neighbourList()
        let context = kernels.context
        let (L, F) = (4, 6)
        let centers = try CLRowMap(context, index: list.centers, sources: atoms)
        let others = try CLRowMap(context, index: list.others, sources: atoms)
        let pass = try CLMessagePass<T>(context, MessagePassWeights(filter: rng.equivariantDense(L, F, F),
                                                                    tensor: rng.tensor(L, L, L, features: F)))
        let tensorDense = try CLTensorDense<T>(context, TensorDenseWeights(dense: rng.equivariantDense(L, F, 2 * F),
                                                                           tensor: rng.tensor(L, L, L, features: F)))
        let nodes = try upload(context, rng.spherical(atoms, L, F), as: T.self)
        let basis = try upload(context, rng.spherical(list.count, L, F), as: T.self)
        let normBar = try upload(context, rng.matrix(atoms, (L + 1) * F), as: T.self)

        func run() throws -> [T] {
            let (m, filtered) = try kernels.messagePass(nodes, edgeBasis: basis, pass, centers: centers, others: others)
            let (a, hidden) = try kernels.tensorDense(m, rows: atoms, tensorDense)
            let n = try kernels.normFeatures(a, rows: atoms, maxDegree: L, features: F)
            let aBar = try kernels.normFeaturesBackward(normBar, a, rows: atoms, maxDegree: L, features: F)
            let mBar = try kernels.tensorDenseBackward(aBar, rows: atoms, tensorDense, hidden: hidden)
            let (nodesBar, basisBar) = try kernels.messagePassBackward(mBar, nodes: nodes, filtered: filtered, pass,
                                                                       centers: centers, others: others)
            return try n.download() + nodesBar.download() + basisBar.download()
        }
        let first = try run(), second = try run()
        XCTAssertTrue(zip(first, second).allSatisfy { Double($0).bitPattern == Double($1).bitPattern },
                      "\(label) not bit-identical")
    }
}
