import LoremEngineCore

/// One structure's PME mesh on the device (docs/MATH.md §9): the per-atom B-spline stencils,
/// the atoms binned by stencil base for the gathering spread, the deconvolution moduli and the
/// reciprocal basis, uploaded once per geometry and reused for every channel set and cotangent.
///
/// Why built from `EwaldSummation`'s `PMEMeshView`: the mesh size (products of 2, 3, 5, 7), the
/// spline weights and the moduli are computed once in float64 by the reference, so the device
/// spreads with exactly the reference's stencils. Everything uploaded is linear in atoms plus
/// the mesh axes; the influence function G·B/V over the half spectrum is made on the device
/// (`PMEKernels.geometry`), the only mesh-sized buffer of a geometry.
public final class PMEGeometry<T: CLReal> {
    public let atomCount: Int
    public let size: SIMD3<Int>
    public let order: Int
    public let smearing: Double
    public let volume: Double
    /// [N] int4: (base_0, base_1, base_2, 0), wrapped into the mesh.
    let bases: CLBuffer<SIMD4<Int32>>
    /// [N, 3, p] weights and derivatives.
    let weights: CLBuffer<T>
    let derivatives: CLBuffer<T>
    /// CSR of atoms by block (base_A / p per axis), atoms in index order within a block.
    let blockStart: CLBuffer<Int32>
    let blockAtoms: CLBuffer<Int32>
    /// n0 + n1 + n2 moduli, then b_A and ∂u_A/∂R as [3, 3] row-major.
    let moduli: CLBuffer<T>
    let basis: CLBuffer<T>
    let meshGradient: CLBuffer<T>
    /// G·B/V on the half spectrum [n0][n1][n2/2+1], filled by `PMEKernels.geometry`.
    let influence: CLBuffer<T>
    /// Channels per group (`PMEKernels.groupWidth`), set by `PMEKernels.geometry`.
    var group = 1
    /// The spreading candidates of each segment of mesh points (rows-shaped spreading,
    /// Kernels/pme.cl `pme_spread_segments`), made by `PMEKernels.geometry`: a CSR over
    /// segments of (atom << 5 | z offset) and x·y weight, about 2p² entries per atom.
    var segments: (start: CLBuffer<Int32>, entries: CLBuffer<Int32>, weights: CLBuffer<T>)? = nil

    public var realCount: Int { size.x * size.y * size.z }
    /// Complex meshes per channel group: two channels to one (`PMEKernels`).
    var pairs: Int { (group + 1) / 2 }
    /// The first column of each channel group of `channels`.
    func groups(of channels: Int) -> StrideTo<Int> { stride(from: 0, to: channels, by: group) }

    init(context: CLContext, summation: EwaldSummation) throws {
        guard let mesh = summation.pmeMesh else {
            throw CLError.unsupported("PMEGeometry needs an EwaldSummation built with reciprocal: .pme")
        }
        let n = mesh.size, p = mesh.order
        atomCount = mesh.bases.count
        size = n
        order = p
        smearing = summation.smearing
        volume = summation.volume
        bases = try CLBuffer(context, mesh.bases.map { SIMD4(Int32($0.x), Int32($0.y), Int32($0.z), 0) })
        weights = try CLBuffer(context, T.converting(mesh.weights))
        derivatives = try CLBuffer(context, T.converting(mesh.derivatives))
        let (start, atoms) = Self.bins(mesh.bases, size: n, order: p)
        blockStart = try CLBuffer(context, start)
        blockAtoms = try CLBuffer(context, atoms)
        moduli = try CLBuffer(context, T.converting(mesh.moduli.flatMap { $0 }))
        basis = try CLBuffer(context, mesh.reciprocalBasis.flatMap { [T($0.x), T($0.y), T($0.z)] })
        meshGradient = try CLBuffer(context, mesh.meshGradient.flatMap { [T($0.x), T($0.y), T($0.z)] })
        influence = try CLBuffer(context, count: n.x * n.y * (n.z / 2 + 1))
    }

    /// Counting sort of atoms into blocks of p×p×p mesh indices by stencil base (stable, so each
    /// block lists its atoms in index order): the CSR `pme_spread` walks.
    static func bins(_ bases: [SIMD3<Int>], size n: SIMD3<Int>, order p: Int) -> (start: [Int32], atoms: [Int32]) {
        let nb = (n &+ (p - 1)) / p
        let block = bases.map { b in ((b.x / p) * nb.y + b.y / p) * nb.z + b.z / p }
        var start = [Int32](repeating: 0, count: nb.x * nb.y * nb.z + 1)
        for b in block { start[b + 1] += 1 }
        for b in 0..<(start.count - 1) { start[b + 1] += start[b] }
        var next = start, atoms = [Int32](repeating: 0, count: bases.count)
        for (i, b) in block.enumerated() {
            atoms[Int(next[b])] = Int32(i)
            next[b] += 1
        }
        return (start, atoms)
    }
}

