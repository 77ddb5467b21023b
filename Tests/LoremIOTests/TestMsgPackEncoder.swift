import Foundation
@testable import LoremIO

/// A minimal msgpack encoder for building test inputs (the library only decodes).
enum TestMsgPack {
    static func be(_ v: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
    }

    static func encode(_ value: MsgPackValue) -> [UInt8] {
        switch value {
        case .null: return [0xc0]
        case .bool(let b): return [b ? 0xc3 : 0xc2]
        case .uint(let v):
            if v < 128 { return [UInt8(v)] }
            if v <= UInt64(UInt8.max) { return [0xcc] + be(v, 1) }
            if v <= UInt64(UInt16.max) { return [0xcd] + be(v, 2) }
            if v <= UInt64(UInt32.max) { return [0xce] + be(v, 4) }
            return [0xcf] + be(v, 8)
        case .int(let v):
            if v >= -32 && v < 0 { return [UInt8(bitPattern: Int8(v))] }
            return [0xd3] + be(UInt64(bitPattern: v), 8)
        case .float32(let f): return [0xca] + be(UInt64(f.bitPattern), 4)
        case .float64(let d): return [0xcb] + be(d.bitPattern, 8)
        case .string(let s):
            let b = Array(s.utf8)
            if b.count < 32 { return [0xa0 | UInt8(b.count)] + b }
            return [0xdb] + be(UInt64(b.count), 4) + b
        case .binary(let b): return [0xc6] + be(UInt64(b.count), 4) + b
        case .array(let items):
            return [0xdd] + be(UInt64(items.count), 4) + items.flatMap(encode)
        case .map(let pairs):
            return [0xdf] + be(UInt64(pairs.count), 4) + pairs.flatMap { encode($0.key) + encode($0.value) }
        case .ext(let type, let data):
            return [0xc9] + be(UInt64(data.count), 4) + [UInt8(bitPattern: type)] + data
        }
    }

    static func map(_ pairs: [(String, MsgPackValue)]) -> MsgPackValue {
        .map(pairs.map { MsgPackPair(key: .string($0.0), value: $0.1) })
    }

    /// A flax ndarray ext (type 1) holding float32 values.
    static func float32Array(_ shape: [Int], _ values: [Float]) -> MsgPackValue {
        let bytes = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
        return ndarray(shape, "float32", bytes)
    }

    static func ndarray(_ shape: [Int], _ dtype: String, _ bytes: [UInt8], type: Int8 = 1) -> MsgPackValue {
        let payload = encode(.array([.array(shape.map { .uint(UInt64($0)) }), .string(dtype), .binary(bytes)]))
        return .ext(type: type, data: payload)
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.littleEndian, Array.init) }
    }
}
