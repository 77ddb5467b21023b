import Foundation
import LoremIO
import LoremModel
import LoremReference

/// Turns one input frame into one output frame: checks the elements against the model, runs the
/// engine, adds the elemental baseline and converts the virial to ASE's stress.
struct Predictor {
    let model: TrainedModel
    let engine: any LoremEngine
    let computeStress: Bool
    /// A homogeneous electric field (V/Å) acting through the Born charges (LoremBEC only).
    var electricField: SIMD3<Double>? = nil

    /// Predicts `frames` (file frames `firstIndex`…) as one engine batch. If the batch fails, the
    /// frames are redone one by one so the error names the frame that caused it.
    func predict(_ frames: [Structure], firstIndex: Int, file: String) throws -> [Structure] {
        for (k, s) in frames.enumerated() {
            if let reason = model.unknownElement(in: s.numbers) {
                throw PredictError(file: file, frame: firstIndex + k, reason: reason)
            }
        }
        let results: [EngineResult]
        do {
            results = try engine.evaluate(batch: frames, forces: true)
        } catch {
            results = try frames.enumerated().map { k, s in
                do { return try engine.evaluate(s, forces: true) } catch {
                    throw PredictError(file: file, frame: firstIndex + k, reason: "\(error)")
                }
            }
        }
        for (k, r) in results.enumerated() {
            if let what = r.nonFiniteQuantity {
                throw PredictError(file: file, frame: firstIndex + k, reason: "the model gave a non-finite \(what) "
                    + "(NaN or inf: atoms far outside the training data, or a broken checkpoint); nothing was written")
            }
        }
        return zip(frames, results).map { output(for: $0, electricField.map($1.inField) ?? $1) }
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

    /// ASE stress = (1/V)·∂E/∂ε = W/V in Voigt order xx yy zz yz xz xy (LOREM_MATH.md §10.1).
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

struct PredictError: Error, CustomStringConvertible {
    let file: String
    let frame: Int
    let reason: String
    var description: String { "\(file), frame \(frame): \(reason)" }
}
