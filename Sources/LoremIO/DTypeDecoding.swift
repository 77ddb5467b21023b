/// Conversion of raw little-endian numpy buffers to Double, one function per dtype family.
enum DTypeDecoding {
    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "bool", "int8", "uint8": return 1
        case "float16", "bfloat16", "int16", "uint16": return 2
        case "float32", "int32", "uint32": return 4
        case "float64", "int64", "uint64": return 8
        default: return nil
        }
    }

    /// `raw` must hold exactly `count × elementSize(dtype)` bytes (checked by the caller).
    static func decode(_ raw: [UInt8], dtype: String, count: Int) -> [Double] {
        raw.withUnsafeBytes { buffer in
            // The dtype is dispatched once, not per element: weight arrays can be large.
            func each<T: FixedWidthInteger>(_: T.Type, _ convert: (T) -> Double) -> [Double] {
                (0..<count).map { i in
                    convert(T(littleEndian: buffer.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)))
                }
            }
            switch dtype {
            case "bool": return each(UInt8.self) { $0 != 0 ? 1 : 0 }
            case "int8": return each(Int8.self) { Double($0) }
            case "uint8": return each(UInt8.self) { Double($0) }
            case "int16": return each(Int16.self) { Double($0) }
            case "uint16": return each(UInt16.self) { Double($0) }
            case "int32": return each(Int32.self) { Double($0) }
            case "uint32": return each(UInt32.self) { Double($0) }
            case "int64": return each(Int64.self) { Double($0) }
            case "uint64": return each(UInt64.self) { Double($0) }
            case "float16": return each(UInt16.self, halfToDouble)
            case "bfloat16": return each(UInt16.self) { Double(Float(bitPattern: UInt32($0) << 16)) }
            case "float32": return each(UInt32.self) { Double(Float(bitPattern: $0)) }
            case "float64": return each(UInt64.self) { Double(bitPattern: $0) }
            default: return Array(repeating: .nan, count: count)  // unreachable: elementSize rejected it
            }
        }
    }

    /// IEEE 754 binary16 → Double, done by hand so it works where `Float16` is unavailable.
    static func halfToDouble(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1f)
        let fraction = Double(bits & 0x3ff)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24  // subnormal or zero
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
