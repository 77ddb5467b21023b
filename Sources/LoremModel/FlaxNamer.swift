/// Reproduces flax's automatic submodule names: each class gets its own counter, in creation
/// order inside a `@compact` method (`Dense_0`, `Dense_1`, …). flax `nn.Dense` and e3x's
/// `Dense` share the class name "Dense" and hence one counter (docs/MATH.md §7.3).
struct FlaxNamer {
    private var counters: [String: Int] = [:]
    private let prefix: String

    init(prefix: String = "") { self.prefix = prefix }

    mutating func next(_ className: String) -> String {
        let n = counters[className, default: 0]
        counters[className] = n + 1
        return prefix + "\(className)_\(n)"
    }
}
