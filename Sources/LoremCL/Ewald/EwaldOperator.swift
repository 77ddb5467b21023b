import LoremEngineCore

/// The long-range operator V = A(R, h)·q of one structure on the device, whichever reciprocal
/// method its `EwaldSummation` was built with (docs/MATH.md §8, §9): exact Ewald is one
/// `EwaldGeometry` with its k-vectors; PME is an `EwaldGeometry` without k-vectors (real space,
/// self, background, slab) plus a `PMEGeometry` whose mesh potentials are added on top.
/// Molecules (§8.3) take the direct sum either way.
public final class EwaldOperator<T: CLReal> {
    public let geometry: EwaldGeometry<T>
    public let mesh: PMEGeometry<T>?
    let ewald: EwaldKernels<T>
    let pme: PMEKernels<T>?

    /// `pme` is required when `summation.usesPME`; `pairs` is the list the summation was built with.
    public convenience init(ewald: EwaldKernels<T>, pme: PMEKernels<T>?, summation: EwaldSummation, pairs: PairList) throws {
        try self.init(ewald: ewald, pme: pme, summation: summation,
                      geometry: EwaldGeometry<T>(context: ewald.context, summation: summation, pairs: pairs))
    }

    /// With a geometry already made from `summation` (e.g. from the device's own pair list,
    /// `EwaldGeometry.init(context:summation:positions:pairs:pairVectors:)`).
    public init(ewald: EwaldKernels<T>, pme: PMEKernels<T>?, summation: EwaldSummation, geometry: EwaldGeometry<T>) throws {
        guard geometry.periodicity == summation.periodicity, geometry.atomCount == summation.atomPositions.count,
              geometry.volume == summation.volume else {
            throw CLError.sizeMismatch("EwaldOperator: the geometry was not made from this summation")
        }
        self.ewald = ewald
        self.pme = pme
        self.geometry = geometry
        if summation.usesPME {
            guard let pme else { throw CLError.unsupported("EwaldOperator: a PME summation needs PMEKernels") }
            guard pme.channels == ewald.channels else {
                throw CLError.sizeMismatch("EwaldOperator: \(ewald.channels) Ewald channels, \(pme.channels) PME channels")
            }
            mesh = try pme.geometry(summation)
        } else {
            mesh = nil
        }
    }

    public var atomCount: Int { geometry.atomCount }

    /// The charges of the forward and, with PME, their spectrum and mesh potentials, kept by
    /// `potentials(_:keepingForBackward:)` for `backward(cotangent:)`.
    private var forward: (charges: CLBuffer<T>, mesh: PMEKernels<T>.ChargeMesh?)? = nil

    /// V [N, C] for charges q [N, C]. With `keepingForBackward`, q (and with PME its mesh) is
    /// kept for `backward(cotangent:)`: the long range's backward follows its forward closely (it
    /// is the first stage the reverse pass reaches), so the mesh lives only a little longer.
    public func potentials(_ q: CLBuffer<T>, keepingForBackward keep: Bool = false) throws -> CLBuffer<T> {
        let v = try ewald.potentials(q, geometry)
        var chargeMesh: PMEKernels<T>.ChargeMesh? = nil
        if let mesh, let pme { chargeMesh = try pme.addPotentials(q, mesh, to: v) }
        if keep { forward = (q, chargeMesh) }
        return v
    }

    /// The backward of the kept forward V = A·q (`potentials(_:keepingForBackward: true)`). It
    /// consumes what the forward kept: the mesh (two [C, mesh] buffers, 110 MiB for 13,824 atoms)
    /// would otherwise stay live through the rest of the engine's backward, where its peak is.
    public func backward(cotangent vbar: CLBuffer<T>) throws
        -> (gradient: EwaldGeometryGradient<T>, chargeCotangent: CLBuffer<T>)
    {
        guard let kept = forward else {
            throw CLError.unsupported("EwaldOperator.backward(cotangent:) needs a forward that kept its charges")
        }
        forward = nil
        let (gradient, qBar) = try backward(charges: kept.charges, cotangent: vbar, chargeCotangent: true,
                                            chargeMesh: kept.mesh)
        return (gradient, qBar!)
    }

    /// q̄ = A·V̄ (A is symmetric, §10.2 G5).
    public func chargeCotangent(_ vbar: CLBuffer<T>) throws -> CLBuffer<T> { try potentials(vbar) }

    /// ∂B/∂R and the virial of B = Σ V̄·V(q) at fixed charges (§10.2 G2, G3, G6).
    public func geometryGradient(charges q: CLBuffer<T>, cotangent vbar: CLBuffer<T>) throws -> EwaldGeometryGradient<T> {
        try backward(charges: q, cotangent: vbar, chargeCotangent: false, chargeMesh: nil).gradient
    }

    /// The whole backward of V = A·q for cotangent V̄: the geometry gradient and q̄ = A·V̄ together.
    /// With PME the mesh potentials of V̄ that the gradient needs are also q̄'s reciprocal part,
    /// so q̄ costs one gather instead of another spread and pair of FFTs.
    public func backward(charges q: CLBuffer<T>, cotangent vbar: CLBuffer<T>) throws
        -> (gradient: EwaldGeometryGradient<T>, chargeCotangent: CLBuffer<T>)
    {
        let (gradient, qBar) = try backward(charges: q, cotangent: vbar, chargeCotangent: true, chargeMesh: nil)
        return (gradient, qBar!)
    }

    private func backward(charges q: CLBuffer<T>, cotangent vbar: CLBuffer<T>, chargeCotangent: Bool,
                          chargeMesh: PMEKernels<T>.ChargeMesh?) throws
        -> (gradient: EwaldGeometryGradient<T>, chargeCotangent: CLBuffer<T>?)
    {
        let (explicit, factors) = try ewald.geometryGradientSharing(charges: q, cotangent: vbar, geometry)
        var qBar: CLBuffer<T>? = nil
        if chargeCotangent {  // V̄'s structure factors and moments: the gradient's own
            qBar = try CLBuffer<T>(ewald.context, count: geometry.atomCount * ewald.channels)
            try ewald.potentials(vbar, geometry, into: qBar!, sharing: factors)
        }
        guard let mesh, let pme else { return (explicit, qBar) }
        let w = try pme.addGradient(charges: q, cotangent: vbar, mesh, to: explicit.positions, cotangentPotentials: qBar,
                                    chargeMesh: chargeMesh, columnSums: { try ewald.columnSums($0, rows: $1, cols: $2) })
        let virial = (0..<3).map { a in (0..<3).map { b in explicit.virial[a][b] + w[3 * a + b] } }
        return (EwaldGeometryGradient(positions: explicit.positions, virial: virial), qBar)
    }
}
