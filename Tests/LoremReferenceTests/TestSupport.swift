@testable import LoremReference

/// Deterministic SplitMix64 so the random structures are identical on every run.
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
}

extension SeededGenerator {
    mutating func vector(_ range: ClosedRange<Double>) -> SIMD3<Double> {
        SIMD3(Double.random(in: range, using: &self), Double.random(in: range, using: &self),
              Double.random(in: range, using: &self))
    }

    /// Random positions R = f·h, at least `minimum` apart (ignoring periodic images, which the
    /// neighbour list checks anyway).
    mutating func positions(count: Int, cell: [SIMD3<Double>], minimum: Double = 0.8) -> [SIMD3<Double>] {
        var out: [SIMD3<Double>] = []
        while out.count < count {
            let f = vector(0...1)
            let r = f.x * cell[0] + f.y * cell[1] + f.z * cell[2]
            if out.allSatisfy({ norm($0 - r) >= minimum }) { out.append(r) }
        }
        return out
    }

    mutating func charges(_ count: Int) -> [Double] {
        (0..<count).map { _ in Double.random(in: -1...1, using: &self) }
    }
}

/// Rounds through Float32: the test vectors of LOREM_MATH.md §8.4 are float64 evaluations on
/// float32-rounded inputs.
func f32(_ x: Double) -> Double { Double(Float(x)) }
func f32(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(f32(v.x), f32(v.y), f32(v.z)) }
