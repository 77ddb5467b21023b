import LoremCL
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// Random operands of the equivariant layers, and the run-in-each-precision helper of the
/// equivariant and pair kernel tests.
extension SeededGenerator {
    mutating func spherical(_ rows: Int, _ maxDegree: Int, _ features: Int) -> SphericalArray {
        SphericalArray(rows: rows, maxDegree: maxDegree, features: features,
                       data: values(rows * (maxDegree + 1) * (maxDegree + 1) * features))
    }

    /// One bias-free [inputs, outputs] kernel per degree, as every e3x Dense in LOREM.
    mutating func equivariantDense(_ maxDegree: Int, _ inputs: Int, _ outputs: Int) -> EquivariantDenseWeights {
        EquivariantDenseWeights(perDegree: (0...maxDegree).map { _ in dense(inputs, outputs, bias: false) })
    }

    mutating func tensor(_ l1: Int, _ l2: Int, _ l3: Int, features: Int) -> TensorWeights {
        TensorWeights(maxDegree1: l1, maxDegree2: l2, maxDegree3: l3, features: features,
                      kernel: values((l1 + 1) * (l2 + 1) * (l3 + 1) * features),
                      coupling: CouplingTable(maxDegree1: l1, maxDegree2: l2, maxDegree3: l3))
    }

    /// A jittered 2×2×2 lattice in a periodic, slightly sheared cell and its full neighbour
    /// list: real pairs sorted by center, each atom the source o(p) of many pairs.
    mutating func neighbourList(cutoff: Double = 4.2) throws -> (atoms: Int, pairs: PairList) {
        let a = 3.6
        var positions: [SIMD3<Double>] = []
        for i in 0..<2 { for j in 0..<2 { for k in 0..<2 {
            positions.append(SIMD3(Double(i), Double(j), Double(k)) * a + SIMD3(values(3, -0.4...0.4)))
        } } }
        let cell = [SIMD3(2 * a, 0, 0), SIMD3(0.3, 2 * a, 0), SIMD3(0, 0, 2 * a)]
        let pairs = try NeighborList.build(positions: positions, cell: cell, pbc: [true, true, true], cutoff: cutoff)
        return (positions.count, pairs)
    }
}

func upload<T: CLReal>(_ context: CLContext, _ x: SphericalArray, as type: T.Type) throws -> CLBuffer<T> {
    try CLBuffer<T>(context, x.data.map { T($0) })
}

/// Runs `body` with equivariant kernels of precision `T`; float64 is skipped (with a note) only
/// on a device without cl_khr_fp64.
func forEachPrecision<T: CLReal>(_ type: T.Type, _ body: (EquivariantKernels<T>, String) throws -> Void) throws {
    let context = try TestDevice.context()
    if T.requiresFP64 && !context.device.supportsFP64 {
        print("note: \(context.device) has no float64; f64 checks skipped")
        return
    }
    try body(try EquivariantKernels<T>(context: context), precisionName(T.self))
}
