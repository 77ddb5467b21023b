@testable import LoremCL
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// Device PME (PMEKernels + clFFT, through EwaldOperator) against LoremReference's PME
/// (float64, same mesh and stencils) on the random triclinic bulk and slab cases of the Ewald
/// tests, neutral and charged, 10 channels: potentials, charge cotangent, position gradient and
/// virial. Errors are normwise as in EwaldKernelTests; float32 has its bound,
/// `EwaldKernelTests.float32Tolerance`; float64 has `float64Tolerance`.
final class PMEKernelTests: XCTestCase {
    /// Meshes of 12, 18 and 24 points on the 7 Å bulk cell.
    static let parameters = [PMEParameters(order: 4, spacing: 0.625), PMEParameters(order: 6, spacing: 0.4),
                             PMEParameters(order: 8, spacing: 0.3)]

    /// float64 bound. Measured on PoCL: ≤ 2e-15 (potentials), 2e-15 (gradient), 3e-14 (virial)
    /// on all three meshes. (With R2C/C2R transforms the 12-point mesh of the bulk cell gave
    /// 9.7e-12, 3.9e-11 and 6.5e-11, blamed then on clFFT's length-12 transforms: it was the
    /// influence, not even in m on the Nyquist planes of a triclinic cell, which C2R read as
    /// Hermitian; `pme_influence` now takes its even part, as the reference's real part does.)
    static let float64Tolerance = 1e-12

    struct Kernels<T: CLReal> {
        let ewald: EwaldKernels<T>
        let pme: PMEKernels<T>
        init(_ context: CLContext) throws {
            ewald = try EwaldKernels(context: context, channels: EwaldCases.channels)
            pme = try PMEKernels(context: context, channels: EwaldCases.channels)
        }
    }

    static func cases() -> [EwaldCase] {
        [true, false].flatMap { neutral in
            [EwaldCases.bulk(neutral: neutral), EwaldCases.slab(axis: 2, neutral: neutral), EwaldCases.slab(axis: 0, neutral: neutral)]
        }
    }

    func errors<T: CLReal>(_ base: EwaldCase, _ parameters: PMEParameters, _ kernels: Kernels<T>) throws -> EwaldKernelTests.Errors {
        let context = kernels.ewald.context
        let c = base.rounded(to: T.self)
        let pairs = try c.pairs()
        let reference = try EwaldSummation(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff, pairs: pairs,
                                           reciprocal: .pme(parameters))
        let device = try EwaldOperator<T>(ewald: kernels.ewald, pme: kernels.pme, summation: reference, pairs: pairs)
        XCTAssertNotNil(device.mesh)
        let q = try CLBuffer<T>(context, interleave(c.q).map { T($0) })
        let vbar = try CLBuffer<T>(context, interleave(c.vbar).map { T($0) })
        var e = EwaldKernelTests.Errors()
        e.potentials = relativeError(try device.potentials(q).download(), interleave(reference.potentials(c.q)))
        e.potentials = max(e.potentials, relativeError(try device.chargeCotangent(vbar).download(),
                                                       interleave(reference.potentials(c.vbar))))
        // The combined backward: q̄ from the gradient's own mesh potentials of V̄.
        let (g, qBar) = try device.backward(charges: q, cotangent: vbar)
        e.potentials = max(e.potentials, relativeError(try qBar.download(), interleave(reference.potentials(c.vbar))))
        let r = reference.geometryGradient(charges: c.q, cotangent: c.vbar)
        e.gradient = relativeError(try g.positions.download(), r.positions.flatMap { [$0.x, $0.y, $0.z] })
        e.virial = relativeError(g.virial.flatMap { $0 }, r.virial.flatMap { $0 })
        return e
    }

    func check<T: CLReal>(_ type: T.Type) throws {
        try withEwaldContext(T.self) { context in
            let kernels = try Kernels<T>(context)
            // Every clFFT shape costs PoCL a few seconds of kernel compilation on first use:
            // float32 runs the middle mesh only.
            for c in Self.cases() {
                for p in T.self == Double.self ? Self.parameters : [Self.parameters[1]] {
                    let e = try errors(c, p, kernels)
                    let label = "pme p\(p.order) \(precisionName(T.self)) \(c.name)"
                    print(String(format: "%@: potentials %.2e, position gradient %.2e, virial %.2e", label,
                                 e.potentials, e.gradient, e.virial))
                    let tol = T.self == Double.self ? Self.float64Tolerance : EwaldKernelTests.float32Tolerance
                    XCTAssertLessThanOrEqual(e.potentials, tol, "\(label) potentials")
                    XCTAssertLessThanOrEqual(e.gradient, tol, "\(label) gradient")
                    XCTAssertLessThanOrEqual(e.virial, tol, "\(label) virial")
                }
            }
        }
    }

    func testFloat64AgainstReferencePME() throws { try check(Double.self) }

    func testFloat32AgainstReferencePME() throws { try check(Float.self) }

    /// The charged bulk case in float32 with default PME: a maker of fresh operators on it, and
    /// its charges and cotangents on the device.
    static func chargedBulkFloat32(_ context: CLContext) throws
        -> (makeOperator: () throws -> EwaldOperator<Float>, q: CLBuffer<Float>, vbar: CLBuffer<Float>)
    {
        let c = EwaldCases.bulk(neutral: false).rounded(to: Float.self)
        let pairs = try c.pairs()
        let summation = try EwaldSummation(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff, pairs: pairs,
                                           reciprocal: .pme(PMEParameters()))
        let makeOperator = {
            try EwaldOperator<Float>(ewald: EwaldKernels(context: context, channels: c.q.count),
                                     pme: PMEKernels(context: context, channels: c.q.count), summation: summation, pairs: pairs)
        }
        return (makeOperator, try CLBuffer<Float>(context, interleave(c.q).map { Float($0) }),
                try CLBuffer<Float>(context, interleave(c.vbar).map { Float($0) }))
    }

    /// clFFT's in-place complex transforms: forward then backward is n0·n1·n2 times the input
    /// (clFFT's unnormalised backward, as PME's convolution expects), any scratch a plan asks
    /// for is ours (counted by the context's memory ledger while queued, freed after), and a
    /// second transform gives the same bits (no state kept), also when profiled.
    func testFFTScratchIsCountedAndFreed() throws {
        try withEwaldContext(Float.self) { context in
            let n = SIMD3(24, 20, 18), batch = 3
            let forward = try CLFFTPlan(context: context, size: n, batch: batch, direction: .forward, precision: Float.self)
            let backward = try CLFFTPlan(context: context, size: n, batch: batch, direction: .backward, precision: Float.self)
            var rng = SeededGenerator(seed: 5)
            let input = (0..<(2 * batch * forward.count)).map { _ in Float.random(in: -1...1, using: &rng) }
            let (a, b) = (try CLBuffer<Float>(context, input), try CLBuffer<Float>(context, input))
            let held = context.memory.bytesInUse
            context.memory.resetPeak()
            try forward.execute(a)
            XCTAssertEqual(context.memory.bytesInUse, held, "any scratch is freed once the transform is queued")
            XCTAssertEqual(context.memory.peakBytes, held + forward.scratchBytes, "any scratch is counted")
            try forward.execute(b)
            XCTAssertEqual(try a.download().map(\.bitPattern), try b.download().map(\.bitPattern))
            XCTAssertGreaterThan(relativeError(try a.download().map(Double.init), input.map(Double.init)), 0.5, "a transform")
            try backward.execute(b)
            let scale = Float(forward.count)
            XCTAssertLessThan(relativeError(try b.download().map { Double($0 / scale) }, input.map(Double.init)), 1e-6,
                              "backward(forward(x)) = n0·n1·n2 x")
            XCTAssertThrowsError(try forward.execute(CLBuffer<Float>(context, count: 2 * batch * forward.count - 1)))
            // A profiling run counts each transform under one name (clFFT launches its own
            // kernels, which the context's launches never see), with the same bits.
            let times = CLKernelTimes()
            context.kernelTimes = times
            let c = try CLBuffer<Float>(context, input)
            try forward.execute(c)
            try backward.execute(c)
            try backward.execute(c)
            context.kernelTimes = nil
            XCTAssertEqual(times.totals.map(\.kernel).sorted(), ["clFFT backward", "clFFT forward"])
            XCTAssertEqual(times.totals.map(\.calls).reduce(0, +), 3)
            XCTAssertGreaterThan(times.totals.first?.seconds ?? 0, 0)
            try backward.execute(a)
            try backward.execute(a)
            XCTAssertEqual(try a.download().map(\.bitPattern), try c.download().map(\.bitPattern))
        }
    }

    /// The gathering spread has no atomics: reruns are bit-identical.
    func testRerunsAreBitIdentical() throws {
        try withEwaldContext(Float.self) { context in
            let (makeOperator, q, vbar) = try Self.chargedBulkFloat32(context)
            let device = try makeOperator()
            func run() throws -> [Double] {
                let g = try device.geometryGradient(charges: q, cotangent: vbar)
                return try (device.potentials(q).download() + g.positions.download()).map(Double.init) + g.virial.flatMap { $0 }
            }
            let first = try run(), second = try run()
            XCTAssertEqual(first.map(\.bitPattern), second.map(\.bitPattern))
        }
    }

    /// The backward of a forward that kept its charges' mesh equals the backward recomputing it,
    /// bit for bit (gradient, virial, charge cotangent), and needs such a forward, which it
    /// consumes (the kept mesh is freed, not held through the rest of the engine's backward).
    func testKeptForwardMeshGivesTheSameBackward() throws {
        try withEwaldContext(Float.self) { context in
            let (makeOperator, q, vbar) = try Self.chargedBulkFloat32(context)
            let (kept, recomputed) = (try makeOperator(), try makeOperator())
            XCTAssertThrowsError(try kept.backward(cotangent: vbar), "no forward kept yet")
            let v = try kept.potentials(q, keepingForBackward: true)
            XCTAssertEqual(try v.download(), try recomputed.potentials(q).download())
            let (a, aBar) = try kept.backward(cotangent: vbar)
            let (b, bBar) = try recomputed.backward(charges: q, cotangent: vbar)
            XCTAssertEqual(try a.positions.download(), try b.positions.download())
            XCTAssertEqual(a.virial, b.virial)
            XCTAssertEqual(try aBar.download(), try bBar.download())
            XCTAssertThrowsError(try kept.backward(cotangent: vbar), "the backward consumed the kept forward")
        }
    }

    /// A geometry made from the device's own pair list, positions and feature pair vectors (the
    /// engine's path for a batch of one periodic structure) gives the host-built geometry's
    /// potentials, gradient, virial and charge cotangent, with exact Ewald and with PME, bulk
    /// and slab: float64 to rounding, float32 within its bound (its pair vectors are R_o − R_c
    /// in float32 instead of float64 rounded once).
    func testDevicePairListGeometryMatchesHostGeometry() throws {
        try check(Double.self, tolerance: 1e-12)
        try check(Float.self, tolerance: EwaldKernelTests.float32Tolerance)
        func check<T: CLReal>(_ type: T.Type, tolerance: Double) throws {
            try withEwaldContext(T.self) { context in
                let kernels = try Kernels<T>(context)
                let neighbors = try NeighborKernels<T>(context: context)
                for base in [EwaldCases.bulk(neutral: false), EwaldCases.slab(axis: 2, neutral: true)] {
                    let c = base.rounded(to: T.self)
                    let hostPairs = try c.pairs()
                    let devicePairs = try neighbors.build(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff)
                    let positions = try CLBuffer<T>(context, c.positions.flatMap { [T($0.x), T($0.y), T($0.z)] })
                    let cell = try CLBuffer<T>(context, c.cell.flatMap { [T($0.x), T($0.y), T($0.z)] })
                    let features = try FeatureKernels<T>(context: context, cutoff: c.cutoff, radialCount: 4, maxDegree: 1)
                        .forward(positions: positions, cell: cell, pairs: devicePairs)
                    let q = try CLBuffer<T>(context, interleave(c.q).map { T($0) })
                    let vbar = try CLBuffer<T>(context, interleave(c.vbar).map { T($0) })
                    for reciprocal in [ReciprocalMethod.exact, .pme(PMEParameters(order: 6, spacing: 0.4))] {
                        func summation(_ pairs: PairList) throws -> EwaldSummation {
                            try EwaldSummation(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff, pairs: pairs,
                                               reciprocal: reciprocal)
                        }
                        let host = try EwaldOperator<T>(ewald: kernels.ewald, pme: kernels.pme, summation: summation(hostPairs),
                                                        pairs: hostPairs)
                        let bare = try summation(PairList())
                        let device = try EwaldOperator<T>(
                            ewald: kernels.ewald, pme: kernels.pme, summation: bare,
                            geometry: EwaldGeometry<T>(context: context, summation: bare, positions: positions,
                                                       pairs: devicePairs, pairVectors: features.vectors))
                        XCTAssertEqual(device.geometry.pairCount, host.geometry.pairCount)
                        let label = "\(precisionName(T.self)) \(c.name) \(reciprocal)"
                        XCTAssertLessThanOrEqual(relativeError(try device.potentials(q).download().map { Double($0) },
                                                               try host.potentials(q).download().map { Double($0) }),
                                                 tolerance, "\(label) potentials")
                        let (a, aBar) = try device.backward(charges: q, cotangent: vbar)
                        let (b, bBar) = try host.backward(charges: q, cotangent: vbar)
                        XCTAssertLessThanOrEqual(relativeError(try a.positions.download().map { Double($0) },
                                                               try b.positions.download().map { Double($0) }),
                                                 tolerance, "\(label) gradient")
                        XCTAssertLessThanOrEqual(relativeError(a.virial.flatMap { $0 }, b.virial.flatMap { $0 }), tolerance,
                                                 "\(label) virial")
                        XCTAssertLessThanOrEqual(relativeError(try aBar.download().map { Double($0) },
                                                               try bBar.download().map { Double($0) }),
                                                 tolerance, "\(label) charge cotangent")
                    }
                    // A summation that still carries pairs is refused, and so is a molecule's.
                    XCTAssertThrowsError(try EwaldGeometry<T>(context: context, summation: c.summation(hostPairs),
                                                              positions: positions, pairs: devicePairs,
                                                              pairVectors: features.vectors))
                    let m = EwaldCases.molecule(neutral: true)
                    XCTAssertThrowsError(try EwaldGeometry<T>(context: context, summation: m.summation(PairList()),
                                                              positions: positions, pairs: devicePairs,
                                                              pairVectors: features.vectors))
                }
            }
        }
    }

    /// Atoms outside the cell (unwrapped coordinates) land on the same mesh points as their
    /// images: the device wraps the stencil bases, so potentials are unchanged by a lattice shift.
    func testUnwrappedPositionsGiveSamePotentials() throws {
        try withEwaldContext(Double.self) { context in
            let c = EwaldCases.bulk(neutral: true)
            var shifted = c
            shifted.positions = c.positions.enumerated().map { i, r in i % 3 == 0 ? r + c.cell[0] - 2 * c.cell[2] : r }
            func potentials(_ x: EwaldCase) throws -> [Double] {
                let pairs = try x.pairs()
                let s = try EwaldSummation(positions: x.positions, cell: x.cell, pbc: x.pbc, cutoff: x.cutoff, pairs: pairs,
                                           reciprocal: .pme(PMEParameters(order: 6, spacing: 0.5)))
                let op = try EwaldOperator<Double>(ewald: EwaldKernels(context: context, channels: x.q.count),
                                                   pme: PMEKernels(context: context, channels: x.q.count), summation: s, pairs: pairs)
                return try op.potentials(CLBuffer<Double>(context, interleave(x.q))).download()
            }
            XCTAssertLessThan(relativeError(try potentials(shifted), try potentials(c)), Self.float64Tolerance)
        }
    }

    /// The stages alone against the reference PMEMesh in float64: the gathering spread (Q per
    /// channel) and the clFFT convolution (φ = Q ⊛ G·B/V, through the pairs' forward transform,
    /// influence and backward transform), with all 10 channels in one group, in groups of 2 and
    /// in groups of 5 (an odd group: its last pair has one channel).
    func testSpreadAndConvolutionStagesMatchReference() throws {
        try withEwaldContext(Double.self) { context in
            for width in [EwaldCases.channels, 2, 5] {
                let pme = try PMEKernels<Double>(context: context, channels: EwaldCases.channels, group: width)
                for c in [EwaldCases.bulk(neutral: false), EwaldCases.slab(axis: 0, neutral: true)] {
                    let pairs = try c.pairs()
                    let s = try EwaldSummation(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff, pairs: pairs,
                                               reciprocal: .pme(PMEParameters(order: 6, spacing: 0.4)))
                    let mesh = try XCTUnwrap(s.pme), g = try pme.geometry(s)
                    XCTAssertEqual(g.group, width)
                    let x = try CLBuffer<Double>(context, interleave(c.q))
                    let influence = mesh.influence()
                    for first in stride(from: 0, to: c.q.count, by: width) {
                        let spread = try pme.spreadMesh(x, first: first, g).download()
                        let phi = try pme.meshPotentials(pme.spectrum(x, first: first, g), g).download()
                        let M = mesh.count
                        XCTAssertEqual(spread.count, 2 * ((width + 1) / 2) * M)
                        // Channel first + k: pair k/2, real (k even) or imaginary part.
                        func channel(_ meshes: [Double], _ k: Int) -> [Double] {
                            (0..<M).map { meshes[((k / 2) * M + $0) * 2 + k % 2] }
                        }
                        for ch in first..<(first + width) {
                            let q = mesh.spread(c.q[ch])
                            XCTAssertLessThan(relativeError(channel(spread, ch - first), q), 1e-14,
                                              "\(c.name) spread \(ch), groups of \(width)")
                            let reference = mesh.potentialMesh(mesh.structureFactor(q), influence)
                            XCTAssertLessThan(relativeError(channel(phi, ch - first), reference), 1e-12,
                                              "\(c.name) φ \(ch), groups of \(width)")
                        }
                        if width % 2 == 1 {
                            XCTAssertTrue(channel(spread, width).allSatisfy { $0 == 0 }, "an odd group's last pair has one channel")
                        }
                    }
                }
            }
        }
    }

    /// Channel groups change which channels share a mesh, not the numbers: with groups of 2 of
    /// the 10 channels, the potentials and the charge cotangent are bit-identical to one group
    /// (each pair of channels is spread, transformed and gathered alone either way), and the
    /// gradient and virial, whose sums over channels are split by group, agree to rounding. Odd
    /// groups (1 and 5) pair other channels, so a channel shares its transforms' rounding with
    /// another: everything agrees to rounding. float32 and float64, bulk and slab, orders 6 and 8.
    func testChannelGroupsGiveTheSameNumbers() throws {
        try groupsAgree(Float.self, tolerance: 1e-6)
        try groupsAgree(Double.self, tolerance: 1e-14)
    }

    func groupsAgree<T: CLReal>(_ type: T.Type, tolerance: Double) throws {
        try withEwaldContext(T.self) { context in
            let ewald = try EwaldKernels<T>(context: context, channels: EwaldCases.channels)
            // Order 8 also takes the 16-wide gather and gradient for atoms whose z stencil does
            // not wrap (order 6 never does).
            for (base, order) in [(EwaldCases.bulk(neutral: false), 6), (EwaldCases.slab(axis: 2, neutral: true), 6),
                                  (EwaldCases.bulk(neutral: false), 8)] {
                let c = base.rounded(to: T.self)
                let pairs = try c.pairs()
                let summation = try EwaldSummation(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff, pairs: pairs,
                                                   reciprocal: .pme(PMEParameters(order: order, spacing: 0.4)))
                let q = try CLBuffer<T>(context, interleave(c.q).map { T($0) })
                let vbar = try CLBuffer<T>(context, interleave(c.vbar).map { T($0) })
                func run(_ width: Int) throws -> (v: [T], qBar: [T], gradient: [Double], virial: [Double]) {
                    let pme = try PMEKernels<T>(context: context, channels: EwaldCases.channels, group: width)
                    let device = try EwaldOperator<T>(ewald: ewald, pme: pme, summation: summation, pairs: pairs)
                    XCTAssertEqual(device.mesh?.group, width)
                    let v = try device.potentials(q, keepingForBackward: true).download()
                    let (g, qBar) = try device.backward(cotangent: vbar)
                    return (v, try qBar.download(), try g.positions.download().map(Double.init), g.virial.flatMap { $0 })
                }
                let whole = try run(EwaldCases.channels)
                for width in [1, 2, 5] {
                    let grouped = try run(width)
                    let name = "\(c.name) \(T.self) order \(order), groups of \(width)"
                    if width % 2 == 0 {
                        XCTAssertEqual(grouped.v.map { Double($0).bitPattern }, whole.v.map { Double($0).bitPattern }, name)
                        XCTAssertEqual(grouped.qBar.map { Double($0).bitPattern }, whole.qBar.map { Double($0).bitPattern }, name)
                    } else {
                        XCTAssertNotEqual(grouped.v.map { Double($0).bitPattern }, whole.v.map { Double($0).bitPattern },
                                          "\(name): other pairs, other rounding (or this test no longer sees pairs)")
                        XCTAssertLessThan(relativeError(grouped.v.map(Double.init), whole.v.map(Double.init)), tolerance, name)
                        XCTAssertLessThan(relativeError(grouped.qBar.map(Double.init), whole.qBar.map(Double.init)), tolerance, name)
                    }
                    XCTAssertLessThan(relativeError(grouped.gradient, whole.gradient), tolerance, name)
                    XCTAssertLessThan(relativeError(grouped.virial, whole.virial), tolerance, name)
                }
            }
        }
    }

    /// The group width chosen per geometry: the largest divisor of the channels that is even,
    /// all of them or 1, whose pairs' complex meshes fit the byte budget, else one pair (or one
    /// channel, for an odd count); a fixed width must divide the channels.
    func testGroupWidthFollowsTheMeshSize() throws {
        try withEwaldContext(Float.self) { context in
            let budget = 8 << 20, perPair = budget / 8  // float32 complex mesh points in the budget
            let pme = try PMEKernels<Float>(context: context, channels: 10, groupBytes: budget)
            XCTAssertEqual(pme.groupWidth(meshPoints: 1000), 10)
            XCTAssertEqual(pme.groupWidth(meshPoints: perPair / 5), 10)
            XCTAssertEqual(pme.groupWidth(meshPoints: perPair / 5 + 1), 2, "5 would pair channels 4 and 5 apart")
            XCTAssertEqual(pme.groupWidth(meshPoints: perPair), 2)
            XCTAssertEqual(pme.groupWidth(meshPoints: 10 * perPair), 2)
            let odd = try PMEKernels<Float>(context: context, channels: 5, groupBytes: budget)
            XCTAssertEqual(odd.groupWidth(meshPoints: perPair / 3), 5)
            XCTAssertEqual(odd.groupWidth(meshPoints: perPair / 3 + 1), 1)
            XCTAssertEqual(odd.groupWidth(meshPoints: 10 * perPair), 1)
            XCTAssertEqual(try PMEKernels<Float>(context: context, channels: 10, group: 5).groupWidth(meshPoints: 1), 5)
            XCTAssertThrowsError(try PMEKernels<Float>(context: context, channels: 10, group: 3))
            XCTAssertThrowsError(try PMEKernels<Float>(context: context, channels: 10, group: 0))
        }
    }

    /// The remaining stages alone (reciprocal part only, without the real-space, self,
    /// background and slab terms they are otherwise mixed with) against the reference PMEMesh in
    /// float64: gathering the mesh potentials back to the atoms, and the backward: the position
    /// gradient through the spline derivatives, the strain virial from the two spectra, and
    /// q̄'s reciprocal part gathered from the gradient's own φ^V̄.
    func testGatherAndBackwardStagesMatchReference() throws {
        try withEwaldContext(Double.self) { context in
            let kernels = try Kernels<Double>(context)
            for c in [EwaldCases.bulk(neutral: false), EwaldCases.slab(axis: 2, neutral: true)] {
                let pairs = try c.pairs()
                let s = try EwaldSummation(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff, pairs: pairs,
                                           reciprocal: .pme(PMEParameters(order: 8, spacing: 0.4)))
                let mesh = try XCTUnwrap(s.pme), g = try kernels.pme.geometry(s)
                let (N, C) = (c.positions.count, c.q.count)
                let q = try CLBuffer<Double>(context, interleave(c.q)), vbar = try CLBuffer<Double>(context, interleave(c.vbar))
                let v = try CLBuffer<Double>(context, [Double](repeating: 0, count: N * C))
                try kernels.pme.addPotentials(q, g, to: v)
                XCTAssertLessThan(relativeError(try v.download(), interleave(mesh.potentials(c.q))), 1e-12, "\(c.name) gather")

                let grad = try CLBuffer<Double>(context, [Double](repeating: 0, count: 3 * N))
                let qBar = try CLBuffer<Double>(context, [Double](repeating: 0, count: N * C))
                let w = try kernels.pme.addGradient(charges: q, cotangent: vbar, g, to: grad, cotangentPotentials: qBar,
                                                    columnSums: { try kernels.ewald.columnSums($0, rows: $1, cols: $2) })
                var refGrad = [SIMD3<Double>](repeating: .zero, count: N), refVirial = [SIMD3<Double>](repeating: .zero, count: 3)
                mesh.addGradient(c.q, c.vbar, &refGrad, &refVirial)
                XCTAssertGreaterThan(refGrad.map { ($0 * $0).sum() }.reduce(0, +), 0, "\(c.name): a gradient to compare")
                XCTAssertLessThan(relativeError(try grad.download(), refGrad.flatMap { [$0.x, $0.y, $0.z] }), 1e-12,
                                  "\(c.name) position gradient")
                XCTAssertLessThan(relativeError(w, refVirial.flatMap { [$0.x, $0.y, $0.z] }), 1e-12, "\(c.name) virial")
                XCTAssertLessThan(relativeError(try qBar.download(), interleave(mesh.potentials(c.vbar))), 1e-12,
                                  "\(c.name) charge cotangent")
            }
        }
    }

    /// Spreading per segment of mesh points from candidate lists (CPUs) gives bit for bit what one
    /// work-item per point walking its blocks (GPUs) gives: a bulk and two slab meshes (segments
    /// cut short at the end of the last axis; order 4, whose segments are 4 points), and 400
    /// atoms on a 16-point mesh, whose segments have long candidate lists; the whole group and
    /// a group of 3 of 9 channels. float32 and float64.
    func testSpreadShapesAreBitIdentical() throws {
        try spreadShapes(Float.self)
        try spreadShapes(Double.self)
    }

    func spreadShapes<T: CLReal>(_ type: T.Type) throws {
        try withEwaldContext(T.self) { context in
            var rng = SeededGenerator(seed: 41)
            let box = [SIMD3(7.0, 0, 0), SIMD3(0.5, 7.0, 0), SIMD3(-0.3, 0.2, 7.0)]
            var dense = EwaldCases.bulk(neutral: false)
            dense.positions = rng.positions(count: 400, cell: box, minimum: 0)
            dense.cell = box
            dense.cutoff = 1.0
            dense.q = rng.channels(EwaldCases.channels, 400, neutral: false)
            let cases = [(EwaldCases.bulk(neutral: false), PMEParameters(order: 6, spacing: 0.4)),
                         (EwaldCases.slab(axis: 0, neutral: true), PMEParameters(order: 8, spacing: 0.45)),
                         (EwaldCases.slab(axis: 0, neutral: true), PMEParameters(order: 4, spacing: 0.625)),
                         (dense, PMEParameters(order: 8, spacing: 0.875))]
            for (channels, width, first) in [(EwaldCases.channels, EwaldCases.channels, 0), (9, 3, 3)] {
                let shapes = try KernelShape.allCases.map {
                    try PMEKernels<T>(context: context, channels: channels, group: width, spreadShape: $0)
                }
                for (c, parameters) in cases {
                    let pairs = try c.pairs()
                    let s = try EwaldSummation(positions: c.positions, cell: c.cell, pbc: c.pbc, cutoff: c.cutoff, pairs: pairs,
                                               reciprocal: .pme(parameters))
                    let x = try CLBuffer<T>(context, interleave(Array(c.q.prefix(channels))).map { T($0) })
                    let meshes = try shapes.map {
                        try $0.spreadMesh(x, first: first, $0.geometry(s)).download().map { Double($0).bitPattern }
                    }
                    let size = try XCTUnwrap(s.pme).size
                    print("spread shapes \(T.self) \(c.positions.count) atoms, mesh \(size), channels \(first)..<\(first + width)")
                    XCTAssertEqual(meshes[0], meshes[1], "\(c.name) \(T.self) mesh \(size)")
                    XCTAssertEqual(meshes[0].count, 2 * ((width + 1) / 2) * size.x * size.y * size.z)
                    XCTAssertTrue(meshes[0].contains { $0 != 0 }, "a mesh with charge on it")
                }
            }
        }
    }

    /// The mesh binning behind the gathering spread: every atom appears once, blocks in order.
    func testBinsAreACompleteStableSort() {
        let bases = [SIMD3(0, 0, 0), SIMD3(11, 5, 7), SIMD3(3, 3, 3), SIMD3(4, 0, 11), SIMD3(0, 1, 2)]
        let (start, atoms) = PMEGeometry<Float>.bins(bases, size: SIMD3(12, 12, 12), order: 4)
        XCTAssertEqual(start.count, 27 + 1)
        XCTAssertEqual(start.last, 5)
        XCTAssertEqual(Set(atoms), Set((0..<5).map(Int32.init)))
        XCTAssertEqual(Array(atoms[0..<3]), [0, 2, 4], "block (0,0,0) holds atoms 0, 2 and 4 (bases 0,0,0; 3,3,3; 0,1,2) in index order")
    }
}
