import ArgumentParser
import Foundation
import LoremIO
import LoremModel
import LoremReference

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict energies, forces (and stress) for every frame of an extxyz file.",
        discussion: """
            Writes extxyz that ase.io.read understands: info `energy` (eV), column `forces` (eV/Å) and, with --stress, info `stress` (eV/Å³, ASE's sign convention) for 3D-periodic frames. Energies include the checkpoint's elemental baseline, as lorem-jax's calculator reports them. Input values under `energy`, `forces` or `stress` are kept as `ref_energy`, `ref_forces`, `ref_stress`, and their MAE/RMSE against the prediction is printed at the end.
            """)

    @Option(name: .long, help: "lorem-train checkpoint folder (containing model/) or the model/ folder itself.")
    var model: String

    @Option(name: .long, help: "Engine: 'reference' (float64 CPU).")
    var device: String = "reference"

    @Option(name: .long, help: "Periodic long range: 'ewald' (exact k-sum, lorem-jax's definition) or 'pme' (particle-mesh Ewald).")
    var longRange: String = "ewald"

    @Option(name: .long, help: "PME B-spline order (even, 4…12).")
    var pmeOrder: Int = 6

    @Option(name: .long, help: "PME mesh spacing in Å (default: cutoff/16, i.e. λ/2).")
    var pmeSpacing: Double?

    @Flag(name: .long, help: "Also compute the stress of 3D-periodic frames.")
    var stress = false

    @Flag(name: .shortAndLong, help: "No progress line on stderr.")
    var quiet = false

    @Argument(help: "Input structures (extxyz or xyz, one or more frames).")
    var input: String

    @Option(name: .shortAndLong, help: "Output extxyz file (written only when every frame succeeded).")
    var output: String

    func validate() throws {
        guard device == "reference" else {
            throw ValidationError("unknown device '\(device)': this build has 'reference' only")
        }
        guard ["ewald", "pme"].contains(longRange) else {
            throw ValidationError("--long-range must be 'ewald' or 'pme', got '\(longRange)'")
        }
    }

    var reciprocal: ReciprocalMethod {
        longRange == "pme" ? .pme(PMEParameters(order: pmeOrder, spacing: pmeSpacing)) : .exact
    }

    func run() throws {
        // Errors propagate to ArgumentParser, which prints their description and exits non-zero;
        // nothing is written unless every frame succeeded.
        let trained = try TrainedModel.load(path: model)
        let engine = try ReferenceEngine(config: trained.config, weights: trained.weights, reciprocal: reciprocal)
        let frames = try ExtXYZ.read(path: input)
        let predictor = Predictor(model: trained, engine: engine, computeStress: stress)
        var progress = Progress(total: frames.count, enabled: !quiet)
        var summary = ReferenceComparison()
        var out: [Structure] = []
        for (index, frame) in frames.enumerated() {
            let predicted = try predictor.predict(frame, index: index, file: input)
            summary.add(reference: frame, prediction: predicted)
            out.append(predicted)
            progress.step(index + 1)
        }
        progress.finish()
        try ExtXYZ.write(out, to: output)
        if !quiet { print(Self.energyTable(out), terminator: "") }
        if let report = summary.report() { print(report) }
        if !quiet { FileHandle.standardError.write("wrote \(out.count) frame(s) to \(output)\n".data(using: .utf8)!) }
    }

    /// One line per frame (the first 20) so a short run shows its result on the terminal.
    static func energyTable(_ frames: [Structure], limit: Int = 20) -> String {
        var text = ""
        for (k, f) in frames.prefix(limit).enumerated() {
            let e = f.info(named: "energy")?.asDouble ?? .nan
            text += "frame \(k): \(f.count) atoms  energy \(String(format: "%.6f", e)) eV\n"
        }
        if frames.count > limit { text += "… \(frames.count - limit) more frame(s) in the output file\n" }
        return text
    }
}
