import LoremCL

/// Every kernel family the engine schedules, built once per context and precision.
final class DeviceKernels<T: CLReal> {
    let context: CLContext
    let dense: DenseKernels<T>
    let equivariant: EquivariantKernels<T>
    var pairs: PairKernels<T> { equivariant.pairs }
    let features: FeatureKernels<T>
    let neighbors: NeighborKernels<T>
    /// LoremBEC's heads; built only for models that have them (one more program to compile).
    let bornCharges: BornChargeKernels<T>?

    init(context: CLContext, cutoff: Double, radialCount: Int, maxDegree: Int, bornCharges: Bool = false) throws {
        self.context = context
        dense = try DenseKernels(context: context)
        equivariant = try EquivariantKernels(context: context)
        features = try FeatureKernels(context: context, cutoff: cutoff, radialCount: radialCount, maxDegree: maxDegree)
        neighbors = try NeighborKernels(context: context)
        self.bornCharges = bornCharges ? try BornChargeKernels(context: context, equivariant: equivariant) : nil
    }

    /// a + b into a new buffer.
    func sum(_ a: CLBuffer<T>, _ b: CLBuffer<T>, count: Int) throws -> CLBuffer<T> {
        let out = try CLBuffer<T>(context, count: count)
        try pairs.add(a, b, count: count, into: out)
        return out
    }

    /// a += b.
    func accumulate(_ a: CLBuffer<T>, _ b: CLBuffer<T>, count: Int) throws {
        try pairs.add(a, b, count: count, into: a)
    }

    func zeros(_ count: Int) throws -> CLBuffer<T> {
        try CLBuffer<T>(context, count: count, filledWith: 0)
    }

    func ones(_ count: Int) throws -> CLBuffer<T> {
        try CLBuffer<T>(context, count: count, filledWith: 1)
    }
}
