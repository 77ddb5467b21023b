import Foundation
import LoremIO
import LoremModel
import LoremEngineCore
import LoremReference

/// Turns one input frame into one output frame: checks the elements against the model, runs the
/// engine, adds the elemental baseline and converts the virial to ASE's stress.
struct Predictor {
    let model: TrainedModel
    let engine: any LoremEngine
    let computeStress: Bool
    /// A homogeneous electric field (V/Å) acting through the Born charges (LoremBEC only).
    var electricField: SIMD3<Double>? = nil

    /// Predicts `frames` (file frames `indices`) as one engine batch, each frame's outcome apart:
    /// a frame with an element the model lacks, or whose results are not finite, fails alone. If
    /// the batch fails, its frames are redone one by one so each error names the frame causing it.
    func predictEach(_ frames: [Structure], indices: [Int], file: String) -> [Result<Structure, PredictError>] {
        var outcomes: [Result<Structure, PredictError>?] = frames.indices.map { k in
            model.unknownElement(in: frames[k].numbers).map { .failure(PredictError(file: file, frame: indices[k], reason: $0)) }
        }
        let pending = frames.indices.filter { outcomes[$0] == nil }
        let batch = pending.map { frames[$0] }
        let results: [Result<EngineResult, Error>]
        if let together = try? engine.evaluate(batch: batch, forces: true) {
            results = together.map { .success($0) }
        } else {
            results = batch.map { s in Result { try engine.evaluate(s, forces: true) } }
        }
        for (k, result) in zip(pending, results) {
            let fail = { (reason: String) in Result<Structure, PredictError>.failure(PredictError(file: file, frame: indices[k], reason: reason)) }
            switch result {
            case .failure(let error):
                outcomes[k] = fail("\(error)")
            case .success(let r):
                if let what = r.nonFiniteQuantity {
                    outcomes[k] = fail("the model gave a non-finite \(what) (NaN or inf: atoms far outside the training data, or a broken checkpoint)")
                } else {
                    outcomes[k] = .success(output(for: frames[k], electricField.map(r.inField) ?? r))
                }
            }
        }
        return outcomes.map { $0! }
    }

    /// The input frame with the results written where ASE reads them.
    private func output(for s: Structure, _ result: EngineResult) -> Structure {
        let offset = model.baselineEnergy(s.numbers)
        var out = s
        // Reference values in the input are kept under ref_* so ASE does not mistake them for ours.
        for key in ["energy", "stress"] {
            if let v = out.removeInfo(key: key) { out.setInfo(key: "ref_" + key, value: v) }
        }
        for name in ["forces", "born_effective_charges"] {
            if var f = out.removeColumn(name: name) {
                f.name = "ref_" + name
                out.setColumn(f)
            }
        }
        var stress: [Double]? = nil
        if computeStress && s.periodicDimensions == 3, let w = result.virial {
            stress = Self.voigtStress(virial: w, cell: s.cell)
        }
        out.setCalculatorResults(energy: result.energy + offset, forces: result.forces, stress: stress,
                                 bornEffectiveCharges: result.bornEffectiveCharges)
        return out
    }

    /// ASE stress = (1/V)·∂E/∂ε = W/V in Voigt order xx yy zz yz xz xy (docs/MATH.md §10.1).
    static func voigtStress(virial w: [[Double]], cell h: [SIMD3<Double>]) -> [Double] {
        let v = volume(h)
        return [w[0][0], w[1][1], w[2][2], 0.5 * (w[1][2] + w[2][1]), 0.5 * (w[0][2] + w[2][0]), 0.5 * (w[0][1] + w[1][0])]
            .map { $0 / v }
    }

    /// |det h| of the input cell (ASE's `get_volume`, which the stress is divided by).
    static func volume(_ h: [SIMD3<Double>]) -> Double {
        let c = SIMD3(h[1].y * h[2].z - h[1].z * h[2].y, h[1].z * h[2].x - h[1].x * h[2].z, h[1].x * h[2].y - h[1].y * h[2].x)
        return abs((h[0] * c).sum())
    }
}

struct PredictError: Error, CustomStringConvertible, Equatable {
    let file: String
    let frame: Int
    let reason: String
    var description: String { "\(file), frame \(frame): \(reason)" }
}
