/// A named weight tensor from a checkpoint, widened to Double.
///
/// Engines convert to their own precision; keeping Float64 here means the reference engine
/// sees the stored float32 values exactly.
public struct ParamArray: Sendable, Equatable {
    /// Dimensions in C (row-major) order; empty for a scalar.
    public var shape: [Int]
    /// numpy dtype name as stored (e.g. "float32"), so callers can tell what precision was trained.
    public var dtype: String
    /// Elements in C order.
    public var values: [Double]

    public init(shape: [Int], dtype: String, values: [Double]) {
        self.shape = shape
        self.dtype = dtype
        self.values = values
    }

    public var count: Int { values.count }
    public var rank: Int { shape.count }

    /// The single value of a 0-d or one-element array.
    public var scalar: Double? { values.count == 1 ? values[0] : nil }
}

/// Why a msgpack ext value is not a usable flax array.
public struct FlaxArrayError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Decoding of the ext types flax's `serialization.msgpack_serialize` emits.
///
/// Flax stores a numpy array as ext type 1 with payload msgpack `[shape, dtype name, raw
/// bytes]` (little-endian, C order); a numpy scalar as ext type 3 with the same payload and
/// an empty shape (older writers: `[dtype, bytes]`); a Python complex as ext type 2.
extension ParamArray {
    public static let flaxNDArrayExtType: Int8 = 1
    public static let flaxComplexExtType: Int8 = 2
    public static let flaxScalarExtType: Int8 = 3

    public init(flaxExtType type: Int8, payload: [UInt8]) throws {
        switch type {
        case Self.flaxNDArrayExtType, Self.flaxScalarExtType: break
        case Self.flaxComplexExtType:
            throw FlaxArrayError("complex numbers (ext type 2) are not supported")
        default:
            throw FlaxArrayError("ext type \(type) is not a flax array (expected 1 or 3)")
        }
        let decoded: MsgPackValue
        do {
            decoded = try MsgPack.decode(payload)
        } catch {
            throw FlaxArrayError("ext type \(type) payload is not valid msgpack: \(error)")
        }
        guard case .array(let parts) = decoded else {
            throw FlaxArrayError("ext type \(type) payload is a \(decoded.kindName), expected [shape, dtype, bytes]")
        }
        let shapeValue: MsgPackValue
        let dtypeValue: MsgPackValue
        let bytesValue: MsgPackValue
        if parts.count == 3 {
            (shapeValue, dtypeValue, bytesValue) = (parts[0], parts[1], parts[2])
        } else if parts.count == 2 && type == Self.flaxScalarExtType {
            (shapeValue, dtypeValue, bytesValue) = (.array([]), parts[0], parts[1])
        } else {
            throw FlaxArrayError("ext type \(type) payload has \(parts.count) elements, expected [shape, dtype, bytes]")
        }
        guard case .array(let dims) = shapeValue else {
            throw FlaxArrayError("array shape is a \(shapeValue.kindName), expected an array of ints")
        }
        var shape: [Int] = []
        var count = 1
        for dim in dims {
            guard let d = dim.intValue, d >= 0 else {
                throw FlaxArrayError("array shape entry \(dim) is not a non-negative integer")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw FlaxArrayError("array shape \(dims) overflows") }
            shape.append(d)
            count = product
        }
        guard let dtype = dtypeValue.stringValue else {
            throw FlaxArrayError("array dtype is a \(dtypeValue.kindName), expected a str")
        }
        let raw: [UInt8]
        switch bytesValue {
        case .binary(let b): raw = b
        // msgpack writers without bin support (use_bin_type=False) emit raw bytes as str.
        case .string(let s): raw = Array(s.utf8)
        default: throw FlaxArrayError("array data is a \(bytesValue.kindName), expected bin")
        }
        guard let size = DTypeDecoding.elementSize(dtype) else {
            throw FlaxArrayError("unsupported dtype '\(dtype)'")
        }
        let (expected, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, raw.count == expected else {
            throw FlaxArrayError(
                "array of shape \(shape) and dtype \(dtype) needs \(count) × \(size) bytes but has \(raw.count)")
        }
        self.init(shape: shape, dtype: dtype, values: DTypeDecoding.decode(raw, dtype: dtype, count: count))
    }
}
