@testable import LoremEngineCore
@testable import LoremReference
import LoremModel

/// Random structures for tests come from the deterministic SplitMix64 generator.
typealias SeededGenerator = SplitMix64

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

/// Rounds through Float32: the test vectors of docs/MATH.md §8.4 are float64 evaluations on
/// float32-rounded inputs.
func f32(_ x: Double) -> Double { Double(Float(x)) }
func f32(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(f32(v.x), f32(v.y), f32(v.z)) }
