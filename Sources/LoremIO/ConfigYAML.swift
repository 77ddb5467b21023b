import Yams

/// Converts YAML text into `ConfigValue`s using YAML's own scalar resolution (so `5` is an
/// int, `5.0` and `1e-3` floats, `null`/`~` null, `true` a bool), as Python's yaml does.
enum ConfigYAML {
    /// Parses one YAML document; an empty document is `.null`.
    static func parse(_ text: String) throws -> ConfigValue {
        guard let node = try Yams.compose(yaml: text) else { return .null }
        return convert(node)
    }

    static func convert(_ node: Node) -> ConfigValue {
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(ConfigValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue:
                if let i = node.int { return .int(i) }
                return node.float.map(ConfigValue.double) ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map(ConfigValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var map: [String: ConfigValue] = [:]
            for (key, value) in mapping {
                map[keyString(key)] = convert(value)
            }
            return .map(map)
        // Any tagged sequence (e.g. PyYAML's `!!python/tuple`) is just a list here.
        case .sequence(let sequence):
            return .list(sequence.map(convert))
        case .alias:
            return .null  // Yams resolves aliases while composing; nothing to see here.
        }
    }

    private static func keyString(_ node: Node) -> String {
        if case .scalar(let scalar) = node { return scalar.string }
        return "\(convert(node))"
    }
}
