/// A value from a checkpoint's YAML files, typed the way YAML resolves it.
///
/// Hyper-parameters are validated by the model layer; this type only preserves what the
/// file says, including nulls and nested lists, so that layer can give precise messages.
public indirect enum ConfigValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ConfigValue])
    case map([String: ConfigValue])

    public var isNull: Bool { self == .null }

    public var intValue: Int? {
        switch self {
        case .int(let v): return v
        // YAML writers may emit integral floats (e.g. `5.0`) for integer settings.
        case .double(let v): return v.rounded() == v ? Int(exactly: v) : nil
        default: return nil
        }
    }

    /// Ints widen to Double, because Python writes `cutoff: 5` as readily as `5.0`.
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var listValue: [ConfigValue]? {
        if case .list(let v) = self { return v }
        return nil
    }

    public var mapValue: [String: ConfigValue]? {
        if case .map(let v) = self { return v }
        return nil
    }

    public subscript(key: String) -> ConfigValue? {
        mapValue?[key]
    }

    public subscript(index: Int) -> ConfigValue? {
        guard let list = listValue, list.indices.contains(index) else { return nil }
        return list[index]
    }
}
