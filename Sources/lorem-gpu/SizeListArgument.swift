import ArgumentParser

/// Positive integers separated by commas (`2,3,4`); an option of these is an array, so
/// `--cells 2,3,4`, `--cells 2 3 4` and `--cells 2 --cells 3,4` all give [2, 3, 4].
struct SizeListArgument: ExpressibleByArgument {
    let values: [Int]

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
        values = parts.map { $0! }
    }
}

extension Array where Element == SizeListArgument {
    var flattened: [Int] { flatMap(\.values) }
}
