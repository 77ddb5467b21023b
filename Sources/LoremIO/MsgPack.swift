/// A msgpack decoder sufficient for flax checkpoints (the complete format family).
///
/// Checkpoints come from disk and may be truncated or corrupt, so every length read from
/// the input is checked against the bytes that remain before anything is allocated, and
/// nesting depth is capped; malformed input always throws `MsgPackError`, never traps.
public enum MsgPack {
    /// Deepest container nesting accepted; flax parameter trees are a handful of levels.
    public static let maxDepth = 256

    /// Decodes exactly one value occupying all of `data`.
    public static func decode(_ data: [UInt8]) throws -> MsgPackValue {
        var reader = MsgPackReader(bytes: data)
        let value = try reader.value(depth: 0)
        guard reader.position == data.count else {
            throw MsgPackError(
                offset: reader.position,
                message: "\(data.count - reader.position) unexpected trailing bytes after the value ending at byte \(reader.position)")
        }
        return value
    }
}

/// Cursor over the input bytes; all multi-byte headers are big-endian per the spec.
struct MsgPackReader {
    let bytes: [UInt8]
    private(set) var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private var remaining: Int { bytes.count - position }

    mutating func value(depth: Int) throws(MsgPackError) -> MsgPackValue {
        guard depth <= MsgPack.maxDepth else {
            throw MsgPackError(offset: position, message: "nesting deeper than \(MsgPack.maxDepth) levels at byte \(position)")
        }
        let start = position
        guard remaining > 0 else { throw .truncated(at: start, reading: "a type byte") }
        let type = bytes[position]
        position += 1
        switch type {
        case 0x00...0x7f: return .uint(UInt64(type))
        case 0x80...0x8f: return try map(count: Int(type & 0x0f), depth: depth, start: start, name: "fixmap")
        case 0x90...0x9f: return try array(count: Int(type & 0x0f), depth: depth, start: start, name: "fixarray")
        case 0xa0...0xbf: return try string(length: Int(type & 0x1f), start: start, name: "fixstr")
        case 0xc0: return .null
        case 0xc2: return .bool(false)
        case 0xc3: return .bool(true)
        case 0xc4: return .binary(try payload(length: try uint(1, start, "bin8"), start: start, name: "bin8"))
        case 0xc5: return .binary(try payload(length: try uint(2, start, "bin16"), start: start, name: "bin16"))
        case 0xc6: return .binary(try payload(length: try uint(4, start, "bin32"), start: start, name: "bin32"))
        case 0xc7: return try ext(length: try uint(1, start, "ext8"), start: start, name: "ext8")
        case 0xc8: return try ext(length: try uint(2, start, "ext16"), start: start, name: "ext16")
        case 0xc9: return try ext(length: try uint(4, start, "ext32"), start: start, name: "ext32")
        case 0xca: return .float32(Float(bitPattern: UInt32(try uint(4, start, "float32"))))
        case 0xcb: return .float64(Double(bitPattern: try uint64(8, start, "float64")))
        case 0xcc: return .uint(UInt64(try uint(1, start, "uint8")))
        case 0xcd: return .uint(UInt64(try uint(2, start, "uint16")))
        case 0xce: return .uint(UInt64(try uint(4, start, "uint32")))
        case 0xcf: return .uint(try uint64(8, start, "uint64"))
        case 0xd0: return .int(Int64(Int8(truncatingIfNeeded: try uint(1, start, "int8"))))
        case 0xd1: return .int(Int64(Int16(truncatingIfNeeded: try uint(2, start, "int16"))))
        case 0xd2: return .int(Int64(Int32(truncatingIfNeeded: try uint(4, start, "int32"))))
        case 0xd3: return .int(Int64(bitPattern: try uint64(8, start, "int64")))
        case 0xd4: return try ext(length: 1, start: start, name: "fixext1")
        case 0xd5: return try ext(length: 2, start: start, name: "fixext2")
        case 0xd6: return try ext(length: 4, start: start, name: "fixext4")
        case 0xd7: return try ext(length: 8, start: start, name: "fixext8")
        case 0xd8: return try ext(length: 16, start: start, name: "fixext16")
        case 0xd9: return try string(length: try uint(1, start, "str8"), start: start, name: "str8")
        case 0xda: return try string(length: try uint(2, start, "str16"), start: start, name: "str16")
        case 0xdb: return try string(length: try uint(4, start, "str32"), start: start, name: "str32")
        case 0xdc: return try array(count: try uint(2, start, "array16"), depth: depth, start: start, name: "array16")
        case 0xdd: return try array(count: try uint(4, start, "array32"), depth: depth, start: start, name: "array32")
        case 0xde: return try map(count: try uint(2, start, "map16"), depth: depth, start: start, name: "map16")
        case 0xdf: return try map(count: try uint(4, start, "map32"), depth: depth, start: start, name: "map32")
        case 0xe0...0xff: return .int(Int64(Int8(bitPattern: type)))
        default:  // 0xc1 is reserved ("never used") by the spec.
            throw MsgPackError(offset: start, message: "unknown type byte 0x\(String(type, radix: 16)) at byte \(start)")
        }
    }

    /// Reads a big-endian unsigned header field of `width` ≤ 4 bytes (fits Int everywhere).
    private mutating func uint(_ width: Int, _ start: Int, _ name: String) throws(MsgPackError) -> Int {
        Int(try uint64(width, start, name))
    }

    private mutating func uint64(_ width: Int, _ start: Int, _ name: String) throws(MsgPackError) -> UInt64 {
        guard remaining >= width else {
            throw .truncated(at: start, reading: "the \(width)-byte header of a \(name) (\(remaining) bytes remain)")
        }
        var v: UInt64 = 0
        for b in bytes[position..<position + width] { v = v << 8 | UInt64(b) }
        position += width
        return v
    }

    private mutating func payload(length: Int, start: Int, name: String) throws(MsgPackError) -> [UInt8] {
        guard remaining >= length else {
            throw .truncated(at: start, reading: "a \(name) of length \(length) (\(remaining) bytes remain)")
        }
        defer { position += length }
        return Array(bytes[position..<position + length])
    }

    private mutating func string(length: Int, start: Int, name: String) throws(MsgPackError) -> MsgPackValue {
        let raw = try payload(length: length, start: start, name: name)
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw MsgPackError(offset: start, message: "invalid UTF-8 in the \(name) of length \(length) at byte \(start)")
        }
        return .string(s)
    }

    private mutating func ext(length: Int, start: Int, name: String) throws(MsgPackError) -> MsgPackValue {
        guard remaining >= 1 else {
            throw .truncated(at: start, reading: "the type of a \(name) (0 bytes remain)")
        }
        let type = Int8(bitPattern: bytes[position])
        position += 1
        return .ext(type: type, data: try payload(length: length, start: start, name: "\(name) of type \(type)"))
    }

    private mutating func array(count: Int, depth: Int, start: Int, name: String) throws(MsgPackError) -> MsgPackValue {
        // Each element takes at least one byte: reject impossible counts before allocating.
        guard count <= remaining else {
            throw .truncated(at: start, reading: "a \(name) of \(count) elements (\(remaining) bytes remain)")
        }
        var items: [MsgPackValue] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try value(depth: depth + 1)) }
        return .array(items)
    }

    private mutating func map(count: Int, depth: Int, start: Int, name: String) throws(MsgPackError) -> MsgPackValue {
        guard count <= remaining / 2 else {
            throw .truncated(at: start, reading: "a \(name) of \(count) entries (\(remaining) bytes remain)")
        }
        var pairs: [MsgPackPair] = []
        pairs.reserveCapacity(count)
        for _ in 0..<count {
            let key = try value(depth: depth + 1)
            pairs.append(MsgPackPair(key: key, value: try value(depth: depth + 1)))
        }
        return .map(pairs)
    }
}
