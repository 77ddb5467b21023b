import LoremCL
@testable import LoremModel
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// Deterministic SplitMix64, so every random operand is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func values(_ count: Int, _ range: ClosedRange<Double> = -1...1) -> [Double] {
        (0..<count).map { _ in Double.random(in: range, using: &self) }
    }

    mutating func matrix(_ rows: Int, _ cols: Int, _ range: ClosedRange<Double> = -1...1) -> Matrix {
        Matrix(rows: rows, cols: cols, data: values(rows * cols, range))
    }

    /// Weights scaled like a trained layer's (∝ 1/√inputs) so activations stay O(1).
    mutating func dense(_ inputs: Int, _ outputs: Int, bias: Bool = true) -> DenseWeights {
        let s = 1 / Double(inputs).squareRoot()
        return DenseWeights(inputs: inputs, outputs: outputs, kernel: values(inputs * outputs, -s...s),
                            bias: bias ? values(outputs, -0.5...0.5) : nil)
    }

    mutating func mlp(_ sizes: [Int]) -> MLPWeights {
        MLPWeights(layers: (1..<sizes.count).map { dense(sizes[$0 - 1], sizes[$0]) })
    }

    mutating func layerNorm(_ features: Int) -> LayerNormWeights {
        LayerNormWeights(scale: values(features, 0.5...1.5), bias: values(features, -0.5...0.5))
    }
}

/// The device every LoremCL test runs on: `opencl`, i.e. the first GPU else PoCL's CPU device.
/// No platform at all throws here, failing the test loudly: CI always installs PoCL.
enum TestDevice {
    static func context() throws -> CLContext {
        try CLContext.shared(CLDevices.select("opencl"))
    }
}

/// max |device − reference| / max |reference|: a normwise relative error, robust to entries
/// that cancel to ~0.
func relativeError<T: CLReal>(_ device: [T], _ reference: [Double]) -> Double {
    precondition(device.count == reference.count)
    var diff = 0.0, scale = 0.0
    for (d, r) in zip(device, reference) {
        diff = max(diff, abs(Double(d) - r))
        scale = max(scale, abs(r))
    }
    return scale == 0 ? diff : diff / scale
}

/// The tolerance of precision `T` against the float64 reference.
func tolerance<T: CLReal>(_ type: T.Type) -> Double { T.self == Double.self ? 1e-12 : 1e-5 }

func upload<T: CLReal>(_ context: CLContext, _ m: Matrix, as type: T.Type) throws -> CLBuffer<T> {
    try CLBuffer<T>(context, m.data.map { T($0) })
}

func precisionName<T: CLReal>(_ type: T.Type) -> String { T.self == Double.self ? "f64" : "f32" }

/// Runs `body` with kernels of precision `T` in each dense variant; float64 is skipped (with a
/// note) only on a device without cl_khr_fp64 — PoCL has it, so CI always runs both.
func forEachVariant<T: CLReal>(_ type: T.Type, _ body: (DenseKernels<T>, String) throws -> Void) throws {
    let context = try TestDevice.context()
    if T.requiresFP64 && !context.device.supportsFP64 {
        print("note: \(context.device) has no float64; f64 checks skipped")
        return
    }
    for variant in KernelShape.allCases {
        try body(try DenseKernels<T>(context: context, variant: variant), "\(precisionName(T.self)) \(variant)")
    }
}

/// Asserts `error` is within the tolerance of `T`, and prints it for the record.
func expectClose<T: CLReal>(_ type: T.Type, _ error: Double, _ what: String, file: StaticString = #filePath,
                            line: UInt = #line) {
    print(String(format: "%@: max relative error %.2e", what, error))
    XCTAssertLessThanOrEqual(error, tolerance(T.self), what, file: file, line: line)
}
