import ArgumentParser
import Foundation
import LoremCL
import LoremGPU
import LoremModel
import LoremEngineCore
import LoremReference

/// The OpenCL engine's floating-point precision.
enum Precision: String, ExpressibleByArgument, CaseIterable, Sendable {
    case f32, f64
}

/// `--long-range`: how periodic structures sum the long range (`LongRangeMethod`).
enum LongRangeChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, ewald, pme
}

/// `--device`: the float64 CPU reference, the default OpenCL device (the first GPU, else the first
/// device) or one by its address from `lorem-gpu devices`.
enum DeviceChoice: ExpressibleByArgument, Equatable, Sendable {
    case reference
    case opencl
    case openclAt(platform: Int, device: Int)

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        switch (parts.count, parts.first) {
        case (1, "reference"): self = .reference
        case (1, "opencl"): self = .opencl
        case (3, "opencl"):
            guard let p = Int(parts[1]), let d = Int(parts[2]), p >= 0, d >= 0 else { return nil }
            self = .openclAt(platform: p, device: d)
        default: return nil
        }
    }

    static var allValueStrings: [String] { ["reference", "opencl", "opencl:P:D"] }

    /// The address `CLDevices.select` takes.
    var openCLAddress: String? {
        switch self {
        case .reference: return nil
        case .opencl: return "opencl"
        case .openclAt(let p, let d): return "opencl:\(p):\(d)"
        }
    }
}

/// Engine choice shared by `predict`, `verify`, `bench` and `driver`.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: "Engine: 'opencl' (first GPU, else first device), 'opencl:P:D' (an address from `lorem-gpu devices`), or 'reference' (float64 CPU). Default: opencl when a device exists.")
    var device: DeviceChoice?

    @Option(name: .long, help: "OpenCL precision (f64 needs cl_khr_fp64).")
    var precision: Precision = .f32

    @Option(name: .long, help: "Periodic long range: 'ewald' (exact k-sum, lorem-jax's definition), 'pme' (particle-mesh Ewald, O(N log N)) or 'auto' (PME from \(LongRangeMethod.defaultThreshold) atoms up, where it becomes the faster; -v on predict says which each frame used).")
    var longRange: LongRangeChoice = .auto

    @Option(name: .long, help: "PME B-spline order (even, 4…12).")
    var pmeOrder: Int = PMEParameters().order

    @Option(name: .long, help: "PME mesh spacing in Å (default: cutoff/8, i.e. λ).")
    var pmeSpacing: Double?

    @Option(name: .long, help: ArgumentHelp("Largest single device buffer in MiB, below the device's own limit (CL_DEVICE_MAX_MEM_ALLOC_SIZE): a run then behaves as on a device with that limit (message passing in smaller chunks, or an error naming the buffer that does not fit).", valueName: "MiB"))
    var maxBuffer: Int?

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
        let choice: DeviceChoice
        if let device {
            choice = device
        } else if let found = try? CLDevices.all(), !found.isEmpty {
            choice = .opencl
        } else {
            notice("no OpenCL device found: using the float64 reference engine (--device reference)")
            choice = .reference
        }
        guard let address = choice.openCLAddress else {
            return (try ReferenceEngine(config: model.config, weights: model.weights, longRange: method),
                    "reference (float64 CPU)")
        }
        let chosen = try CLDevices.select(address)
        if let maxBuffer, maxBuffer <= 0 { throw ValidationError("--max-buffer must be a positive number of MiB, got \(maxBuffer)") }
        let limit = maxBuffer.map { $0 << 20 }
        let engine: any LoremEngine = precision == .f64
            ? try DeviceEngine<Double>(config: model.config, weights: model.weights, device: chosen, longRange: method,
                                       maxAllocationBytes: limit)
            : try DeviceEngine<Float>(config: model.config, weights: model.weights, device: chosen, longRange: method,
                                      maxAllocationBytes: limit)
        return (engine, "\(chosen.description), \(precision)")
    }
}

func notice(_ text: String) {
    FileHandle.standardError.write("note: \(text)\n".data(using: .utf8)!)
}
