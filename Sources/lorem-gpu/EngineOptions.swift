import ArgumentParser
import Foundation
import LoremCL
import LoremGPU
import LoremModel
import LoremReference

/// The OpenCL engine's floating-point precision.
enum Precision: String, ExpressibleByArgument, CaseIterable, Sendable {
    case f32, f64
}

/// `--long-range`: how periodic structures sum the long range (`LongRangeMethod`).
enum LongRangeChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, ewald, pme
}

/// Engine choice shared by `predict`, `verify`, `bench` and `driver`.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: "Engine: 'opencl' (first GPU, else first device), 'opencl:P:D', or 'reference' (float64 CPU). Default: opencl when a device exists.")
    var device: String?

    @Option(name: .long, help: "OpenCL precision (f64 needs cl_khr_fp64).")
    var precision: Precision = .f32

    @Option(name: .long, help: "Periodic long range: 'ewald' (exact k-sum, lorem-jax's definition), 'pme' (particle-mesh Ewald, O(N log N)) or 'auto' (PME from \(LongRangeMethod.defaultThreshold) atoms up, where it becomes the faster; -v on predict says which each frame used).")
    var longRange: LongRangeChoice = .auto

    @Option(name: .long, help: "PME B-spline order (even, 4…12).")
    var pmeOrder: Int = PMEParameters().order

    @Option(name: .long, help: "PME mesh spacing in Å (default: cutoff/8, i.e. λ).")
    var pmeSpacing: Double?

    func validate() throws {
        if let d = device, d != "reference", !d.hasPrefix("opencl") {
            throw ValidationError("unknown device '\(d)': use reference, opencl or opencl:P:D (see `lorem-gpu devices`)")
        }
    }

    var method: LongRangeMethod {
        let pme = PMEParameters(order: pmeOrder, spacing: pmeSpacing)
        switch longRange {
        case .pme: return .pme(pme)
        case .ewald: return .ewald
        case .auto: return .auto(pme, threshold: LongRangeMethod.defaultThreshold)
        }
    }

    /// The engine and a one-line description of it. Without --device, the OpenCL default device
    /// is used when one exists, else the reference, with a notice on stderr.
    func makeEngine(_ model: TrainedModel) throws -> (engine: any LoremEngine, description: String) {
        let spec: String
        if let device {
            spec = device
        } else if let found = try? CLDevices.all(), !found.isEmpty {
            spec = "opencl"
        } else {
            notice("no OpenCL device found: using the float64 reference engine (--device reference)")
            spec = "reference"
        }
        if spec == "reference" {
            return (try ReferenceEngine(config: model.config, weights: model.weights, longRange: method),
                    "reference (float64 CPU)")
        }
        let chosen = try CLDevices.select(spec)
        let engine: any LoremEngine = precision == .f64
            ? try DeviceEngine<Double>(config: model.config, weights: model.weights, device: chosen, longRange: method)
            : try DeviceEngine<Float>(config: model.config, weights: model.weights, device: chosen, longRange: method)
        return (engine, "\(chosen.description), \(precision)")
    }
}

func notice(_ text: String) {
    FileHandle.standardError.write("note: \(text)\n".data(using: .utf8)!)
}
