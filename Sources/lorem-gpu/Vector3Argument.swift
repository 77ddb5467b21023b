import Foundation
import ArgumentParser

/// A Cartesian vector given as three comma-separated numbers (`0.1,-0.2,0`), e.g. a field in V/Å.
struct Vector3Argument: ExpressibleByArgument {
    let vector: SIMD3<Double>

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, let x = parts[0], let y = parts[1], let z = parts[2], x.isFinite, y.isFinite, z.isFinite else { return nil }
        vector = SIMD3(x, y, z)
    }
}
