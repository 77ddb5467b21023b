/// One decoded msgpack value.
///
/// Integers keep the signedness of their wire format (`uint*` and positive fixint become
/// `.uint`, `int*` and negative fixint `.int`), and map entries keep file order because flax
/// writes parameter trees in a meaningful order.
public indirect enum MsgPackValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float32(Float)
    case float64(Double)
    case string(String)
    case binary([UInt8])
    case array([MsgPackValue])
    case map([MsgPackPair])
    case ext(type: Int8, data: [UInt8])

    /// Any integer that fits in `Int`, whatever its wire format.
    public var intValue: Int? {
        switch self {
        case .int(let v): return Int(exactly: v)
        case .uint(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// Any number as a Double.
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .uint(let v): return Double(v)
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Looks up a string key in a map (first match).
    public subscript(key: String) -> MsgPackValue? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.key == .string(key) }?.value
    }

    /// A short name of the value's kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: return "nil"
        case .bool: return "bool"
        case .int, .uint: return "int"
        case .float32: return "float32"
        case .float64: return "float64"
        case .string: return "str"
        case .binary: return "bin"
        case .array: return "array"
        case .map: return "map"
        case .ext(let type, _): return "ext type \(type)"
        }
    }
}

/// One key/value entry of a msgpack map.
public struct MsgPackPair: Sendable, Equatable {
    public var key: MsgPackValue
    public var value: MsgPackValue
    public init(key: MsgPackValue, value: MsgPackValue) {
        self.key = key
        self.value = value
    }
}
