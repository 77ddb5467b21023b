import ArgumentParser
import Foundation
import LoremIO
import LoremModel
import LoremReference

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict energies, forces (and stress) for every frame of an extxyz file.",
        discussion: """
            Writes extxyz that ase.io.read understands: info `energy` (eV), column `forces` (eV/Å) and, with --stress, info `stress` (eV/Å³, ASE's sign convention) for 3D-periodic frames; for LoremBEC models also the column `born_effective_charges` (9 values per atom, Z_ab row-major, in e). Energies include the checkpoint's elemental baseline, as lorem-jax's calculator reports them. Input values under `energy`, `forces` or `stress` are kept as `ref_energy`, `ref_forces`, `ref_stress`, and their MAE/RMSE against the prediction is printed at the end.
            """)

    @Option(name: .long, help: "lorem-train checkpoint folder (containing model/) or the model/ folder itself (default: the built-in model, see models/default/MODEL_CARD.md).")
    var model: String?

    @OptionGroup var engineOptions: EngineOptions

    @Flag(name: .long, help: "Also compute the stress of 3D-periodic frames.")
    var stress = false

    @Option(name: .long, help: ArgumentHelp("Homogeneous electric field Ex,Ey,Ez in V/Å (LoremBEC models): adds F_i += Z_i·E to the forces, as lorem-jax's predict(..., electric_field=E); energy and stress are unchanged.", valueName: "Ex,Ey,Ez"))
    var electricField: Vector3Argument?

    @Flag(name: .shortAndLong, help: "No progress line on stderr.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Say on stderr how each frame's long range is summed (with --long-range auto: which method it chose).")
    var verbose = false

    @Argument(help: "Input structures (extxyz or xyz, one or more frames).")
    var input: String

    @Option(name: .shortAndLong, help: "Output extxyz file (written only when every frame succeeded).")
    var output: String

    func run() throws {
        // Errors propagate to ArgumentParser, which prints their description and exits non-zero;
        // nothing is written unless every frame succeeded.
        let trained = try DefaultModel.resolve(model)
        if electricField != nil && !trained.config.bornEffectiveCharges {
            throw ValidationError("--electric-field needs a LoremBEC model (Born effective charges); \(model ?? DefaultModel.name) has none")
        }
        let (engine, engineDescription) = try engineOptions.makeEngine(trained)
        if !quiet { FileHandle.standardError.write("engine: \(engineDescription)\n".data(using: .utf8)!) }
        let frames = try ExtXYZ.read(path: input)
        if verbose && trained.config.longRange {
            for (k, f) in frames.enumerated() {
                FileHandle.standardError.write("frame \(k): \(f.count) atoms, long range: \(engineOptions.method.summary(for: f))\n".data(using: .utf8)!)
            }
        }
        let predictor = Predictor(model: trained, engine: engine, computeStress: stress, electricField: electricField?.vector)
        var progress = Progress(total: frames.count, enabled: !quiet)
        var summary = ReferenceComparison()
        var out: [Structure] = []
        // Frames go to the engine in batches (one set of device launches each), small enough
        // that progress stays visible and memory stays bounded.
        var start = 0
        while start < frames.count {
            var end = start, atoms = 0
            while end < frames.count && end - start < 256 && (end == start || atoms + frames[end].count <= 4096) {
                atoms += frames[end].count
                end += 1
            }
            let batch = Array(frames[start..<end])
            let predicted = try predictor.predict(batch, firstIndex: start, file: input)
            for (frame, p) in zip(batch, predicted) { summary.add(reference: frame, prediction: p) }
            out += predicted
            progress.step(end)
            start = end
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
