import ArgumentParser
import Foundation
import LoremIO
import LoremModel
import LoremEngineCore
import LoremReference

/// `lorem-gpu verify`: the chosen engine against the float64 reference, frame by frame.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare an engine (default: OpenCL) with the float64 reference engine.",
        discussion: "The reference sums the long range as the engine does (--long-range: exact Ewald or PME per structure); where PME is used, a separate line gives PME against exact Ewald. Prints, per frame, the errors in energy per atom, forces, stress, long-range charges and potentials (and, for LoremBEC models, Born effective charges), and exits non-zero when any exceeds the tolerance of the precision (f32: 1e-5 relative energy, 1e-4 eV/Å forces; f64: 1e-9 relative). Without an input file a built-in set is used: a periodic crystal, a 2D slab and a molecule made of elements the model knows.")

    @Option(name: .long, help: "lorem-train checkpoint folder (containing model/) or the model/ folder itself (default: the built-in model).")
    var model: String?

    @OptionGroup var engineOptions: EngineOptions

    @Argument(help: "Structures to compare on (extxyz); default: a built-in periodic/slab/molecule set.")
    var input: String?

    func run() throws {
        let trained = try DefaultModel.resolve(model)
        let (engine, description) = try engineOptions.makeEngine(trained)
        // The reference sums the long range the way the engine does (exact Ewald or PME per
        // structure), so a row measures the engine, not PME's discretisation; where PME is used,
        // a separate line gives PME against exact Ewald, both in the float64 reference.
        let method = engineOptions.method
        let reference = try ReferenceEngine(config: trained.config, weights: trained.weights, longRange: method)
        let exact = try ReferenceEngine(config: trained.config, weights: trained.weights, longRange: .ewald)
        let frames = try input.map { try ExtXYZ.read(path: $0) } ?? VerificationSet.structures(for: trained)
        let tolerance = VerificationTolerance(precision: engineOptions.precision, engine: description)
        print("engine: \(description)   reference: float64 CPU")
        print(VerificationRow.header + (trained.config.bornEffectiveCharges ? "     max|ΔZ| (e)" : ""))
        var failed = false
        var pmeRows: [VerificationRow] = []
        for (k, s) in frames.enumerated() {
            let expected = try reference.evaluate(s, forces: true)
            let row = VerificationRow(frame: k, structure: s, engine: try engine.evaluate(s, forces: true), reference: expected)
            let ok = tolerance.accepts(row)
            failed = failed || !ok
            print(row.formatted + (ok ? "" : "   <-- over tolerance"))
            if trained.config.longRange, s.pbc.contains(true), case .pme = method.reciprocal(atoms: s.count) {
                pmeRows.append(VerificationRow(frame: k, structure: s, engine: expected, reference: try exact.evaluate(s, forces: true)))
            }
        }
        if !pmeRows.isEmpty {
            print("PME against exact Ewald (both the float64 reference; PME's own error, not counted above):")
            for r in pmeRows {
                print(String(format: "  frame %d: |ΔE|/N %.3e eV, max|ΔF| %.3e eV/Å, rms ΔF %.3e eV/Å", r.frame, r.energyPerAtom, r.maxForce, r.rmsForce))
            }
        }
        print(failed ? "FAILED: some frames exceed the tolerance (\(tolerance))" : "OK: all frames within \(tolerance)")
        if failed { throw ExitCode.failure }
    }
}

/// Errors of one frame (engine − reference).
struct VerificationRow {
    let frame: Int, atoms: Int
    let energyPerAtom: Double, relativeEnergy: Double
    let maxForce: Double, rmsForce: Double
    let maxStress: Double?
    let maxCharge: Double, maxPotential: Double
    /// max |ΔZ| and max |Z| of the reference, for LoremBEC models.
    let maxBornCharge: Double?, bornChargeScale: Double

    static let header = "frame  atoms   |ΔE|/N (eV)   ΔE/|E|      max|ΔF| (eV/Å)  rms ΔF      max|Δσ| (eV/Å³)  max|Δq|     max|ΔV|"

    init(frame: Int, structure s: Structure, engine a: EngineResult, reference b: EngineResult) {
        self.frame = frame
        atoms = s.count
        energyPerAtom = abs(a.energy - b.energy) / Double(max(1, s.count))
        relativeEnergy = abs(a.energy - b.energy) / max(1, abs(b.energy))
        var worst = 0.0, sq = 0.0
        for (f, g) in zip(a.forces ?? [], b.forces ?? []) {
            let d = f - g
            worst = max(worst, Swift.abs(d.x), Swift.abs(d.y), Swift.abs(d.z))
            sq += (d * d).sum()
        }
        maxForce = worst
        rmsForce = (sq / Double(max(1, 3 * s.count))).squareRoot()
        if s.periodicDimensions == 3, let w = a.virial, let v = b.virial {
            let volume = Predictor.volume(s.cell)
            maxStress = (0..<9).map { Swift.abs(w[$0 / 3][$0 % 3] - v[$0 / 3][$0 % 3]) / volume }.max()
        } else {
            maxStress = nil
        }
        func maxDifference(_ x: [[Double]], _ y: [[Double]]) -> Double {
            zip(x, y).flatMap { zip($0, $1).map { Swift.abs($0 - $1) } }.max() ?? 0
        }
        maxCharge = maxDifference(a.charges, b.charges)
        maxPotential = maxDifference(a.potentials, b.potentials)
        if let za = a.bornEffectiveCharges, let zb = b.bornEffectiveCharges {
            maxBornCharge = maxDifference(za, zb)
            bornChargeScale = zb.flatMap { $0 }.map { Swift.abs($0) }.max() ?? 0
        } else {
            maxBornCharge = nil
            bornChargeScale = 0
        }
    }

    var formatted: String {
        func f(_ x: Double) -> String { String(format: "%-11.3e", x) }
        return String(format: "%5d  %5d   ", frame, atoms) + f(energyPerAtom) + "   " + f(relativeEnergy) + " "
            + f(maxForce) + "     " + f(rmsForce) + " " + (maxStress.map(f) ?? "-          ") + "      "
            + f(maxCharge) + " " + f(maxPotential) + (maxBornCharge.map { " " + f($0) } ?? "")
    }
}

struct VerificationTolerance: CustomStringConvertible {
    let relativeEnergy: Double, force: Double
    init(precision: Precision, engine: String) {
        let reference = engine.hasPrefix("reference")
        (relativeEnergy, force) = reference || precision == .f64 ? (1e-9, 1e-9) : (1e-5, 1e-4)
    }
    /// Born charges relative to the larger of 1 e and the largest reference |Z|, at the energy's
    /// relative tolerance (the 1e-9 in f64, 1e-5 in f32).
    func accepts(_ r: VerificationRow) -> Bool {
        r.relativeEnergy <= relativeEnergy && r.maxForce <= force
            && (r.maxBornCharge.map { $0 <= relativeEnergy * max(1, r.bornChargeScale) } ?? true)
    }
    var description: String { "ΔE/|E| ≤ \(relativeEnergy), max|ΔF| ≤ \(force) eV/Å, max|ΔZ| ≤ \(relativeEnergy)·max(1, max|Z|)" }
}

/// The built-in structures: a distorted rocksalt-like crystal, a slab and a molecule, made of
/// the model's own elements so any checkpoint can be verified without an input file.
enum VerificationSet {
    static func structures(for model: TrainedModel) -> [Structure] {
        let known = model.baseline.keys.sorted()
        let a = known.first ?? 1, b = known.count > 1 ? known[1] : a, c = known.last ?? a
        var rng = SplitMix64(seed: 2024)
        func jitter() -> SIMD3<Double> { SIMD3(rng.normal(), rng.normal(), rng.normal()) * 0.08 }
        let L = 4.2
        var bulk: [SIMD3<Double>] = [], bulkZ: [Int] = []
        for i in 0..<2 { for j in 0..<2 { for k in 0..<2 {
            bulk.append(SIMD3(Double(i), Double(j), Double(k)) * (L / 2) + jitter())
            bulkZ.append((i + j + k) % 2 == 0 ? a : b)
        } } }
        let crystal = Structure(numbers: bulkZ, positions: bulk,
                                cell: [SIMD3(L, 0, 0), SIMD3(0.3, L, 0), SIMD3(-0.2, 0.1, L)], pbc: [true, true, true])
        let slab = Structure(numbers: bulkZ, positions: bulk.map { $0 + SIMD3(0, 0, 6) },
                             cell: [SIMD3(L, 0, 0), SIMD3(0.3, L, 0), SIMD3(0, 0, 20)], pbc: [true, true, false])
        let molecule = Structure(numbers: [c, a, b, a, c, b],
                                 positions: [SIMD3(0, 0, 0), SIMD3(1.3, 0.1, 0), SIMD3(-0.4, 1.2, 0.2),
                                             SIMD3(0.5, -1.1, 0.9), SIMD3(2.2, 1.0, -0.6), SIMD3(-1.5, -0.4, -0.8)].map { $0 + jitter() })
        return [crystal, slab, molecule]
    }
}
