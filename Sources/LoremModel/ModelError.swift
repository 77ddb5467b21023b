/// Errors raised while turning a checkpoint into a runnable model description.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A configuration this implementation does not (yet) support.
    case unsupported(String)
    /// A hyper-parameter with a missing, mistyped or out-of-range value.
    case badHyperParameter(file: String, name: String, reason: String)
    /// A weight array that is absent or has the wrong shape.
    case badParameter(file: String, name: String, reason: String)

    public var description: String {
        switch self {
        case .unsupported(let what): return "not supported yet: \(what)"
        case .badHyperParameter(let file, let name, let reason): return "\(file): hyper-parameter '\(name)': \(reason)"
        case .badParameter(let file, let name, let reason): return "\(file): parameter '\(name)': \(reason)"
        }
    }
}
