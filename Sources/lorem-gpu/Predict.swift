import ArgumentParser
import Foundation
import LoremIO
import LoremModel
import LoremEngineCore
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

    @Flag(name: .long, help: "Write the frames that can be predicted and list the others (a malformed frame, an element the model lacks, a non-finite result) with their reason, instead of stopping at the first. A frame whose atom count is unreadable still stops the run: the frames after it cannot be found.")
    var skipBadFrames = false

    @Argument(help: "Input structures (extxyz or xyz, one or more frames; read as a stream, so any length).")
    var input: String

    @Option(name: .shortAndLong, help: "Output extxyz file (it appears only when the run completes; an error or Ctrl-C leaves no partial file).")
    var output: String

    // Frames go to the engine in batches (one set of device launches each) of at most this many
    // frames and atoms (a larger frame goes alone): big enough to fill a device with small
    // molecules, small enough that progress stays visible and memory stays bounded.
    @Option(name: .long, help: "Most frames per engine batch.")
    var batchFrames = 256

    @Option(name: .long, help: "Most atoms per engine batch (a larger frame is evaluated alone).")
    var batchAtoms = 4096

    func run() throws {
        // Errors propagate to ArgumentParser, which prints their description and exits non-zero;
        // the output is written batch by batch to a temporary file moved into place at the end.
        guard batchFrames > 0, batchAtoms > 0 else { throw ValidationError("--batch-frames and --batch-atoms must be positive") }
        let trained = try DefaultModel.resolve(model)
        if electricField != nil && !trained.config.bornEffectiveCharges {
            throw ValidationError("--electric-field needs a LoremBEC model (Born effective charges); \(model ?? DefaultModel.name) has none")
        }
        let (engine, engineDescription) = try engineOptions.makeEngine(trained)
        if !quiet { FileHandle.standardError.write("engine: \(engineDescription)\n".data(using: .utf8)!) }
        var frames = try ExtXYZFrames(path: input)
        let file = try AtomicFile(path: output)
        let predictor = Predictor(model: trained, engine: engine, computeStress: stress, electricField: electricField?.vector)
        var progress = Progress(enabled: !quiet)
        var summary = ReferenceComparison()
        var table = EnergyTable()
        var skipped: [String] = []
        var carried: (index: Int, frame: Structure)? = nil
        var written = 0
        while true {
            // A batch: the frame carried over from the last one, then frames until a limit.
            var batch: [(index: Int, frame: Structure)] = carried.map { [$0] } ?? []
            carried = nil
            var atoms = batch.first?.frame.count ?? 0
            while batch.count < batchFrames {
                let index = frames.nextFrameIndex
                let frame: Structure
                do {
                    guard let next = try frames.next() else { break }
                    frame = next
                } catch {
                    guard skipBadFrames && frames.canContinue else { throw error }
                    skipped.append("\(error)")
                    continue
                }
                if verbose && trained.config.longRange {
                    FileHandle.standardError.write("frame \(index): \(frame.count) atoms, long range: \(engineOptions.method.summary(for: frame))\n".data(using: .utf8)!)
                }
                if !batch.isEmpty && atoms + frame.count > batchAtoms {
                    carried = (index, frame)
                    break
                }
                batch.append((index, frame))
                atoms += frame.count
            }
            if batch.isEmpty { break }
            let outcomes = predictor.predictEach(batch.map(\.frame), indices: batch.map(\.index), file: input)
            var predicted: [Structure] = []
            for ((index, frame), outcome) in zip(batch, outcomes) {
                switch outcome {
                case .success(let p):
                    summary.add(reference: frame, prediction: p)
                    table.add(index: index, p)
                    predicted.append(p)
                case .failure(let error):
                    guard skipBadFrames else { throw error }
                    skipped.append(error.description)
                }
            }
            try file.append(ExtXYZ.format(predicted, file: output, firstFrame: written))
            written += predicted.count
            progress.step(frames: batch.last!.index + 1, fraction: frames.fractionRead)
        }
        progress.finish()
        guard written > 0 else {
            if skipped.isEmpty { throw StructureFileError(file: input, kind: .emptyFile, detail: "no frames found") }
            throw ValidationError("no frame of \(input) could be predicted (\(skipped.count) skipped):\n  " + skipped.joined(separator: "\n  "))
        }
        try file.commit()
        if !quiet { print(table.formatted(frames: written), terminator: "") }
        if let report = summary.report() { print(report) }
        if !skipped.isEmpty {
            FileHandle.standardError.write("skipped \(skipped.count) frame(s):\n  \(skipped.joined(separator: "\n  "))\n".data(using: .utf8)!)
        }
        if !quiet { FileHandle.standardError.write("wrote \(written) frame(s) to \(output)\n".data(using: .utf8)!) }
    }
}

/// One line per frame (the first 20) so a short run shows its result on the terminal; frames are
/// numbered as in the input file.
struct EnergyTable {
    let limit = 20
    private var rows: [String] = []

    mutating func add(index: Int, _ frame: Structure) {
        guard rows.count < limit else { return }
        let e = frame.info(named: "energy")?.asDouble ?? .nan
        rows.append("frame \(index): \(frame.count) atoms  energy \(String(format: "%.6f", e)) eV\n")
    }

    func formatted(frames: Int) -> String {
        rows.joined() + (frames > rows.count ? "… \(frames - rows.count) more frame(s) in the output file\n" : "")
    }
}
