import Foundation

/// A small deterministic generator (SplitMix64 with Box–Muller normals) so random models are the
/// same on every machine and run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    public mutating func normal() -> Double {
        let u1 = max(uniform(), .leastNormalMagnitude), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// n normal deviates times `scale`.
    public mutating func normals(_ n: Int, scale: Double = 1) -> [Double] { (0..<n).map { _ in scale * normal() } }

    /// A uniformly distributed unit vector.
    public mutating func unitVector() -> SIMD3<Double> {
        let v = SIMD3(normal(), normal(), normal())
        return v / (v * v).sum().squareRoot()
    }
}
