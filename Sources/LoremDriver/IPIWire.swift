/// Native-endian (little-endian in practice, as i-PI's numpy buffers are) int32 and float64
/// fields: decoding from received bytes, encoding into a message being assembled.
enum IPIWire {
    static func int32(_ bytes: [UInt8]) -> Int {
        Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
    }

    static func doubles(_ bytes: [UInt8]) -> [Double] {
        bytes.withUnsafeBytes { raw in (0..<(bytes.count / 8)).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self) } }
    }

    static func append(_ value: Int, to out: inout [UInt8]) {
        withUnsafeBytes(of: Int32(truncatingIfNeeded: value)) { out.append(contentsOf: $0) }
    }

    static func append(_ values: [Double], to out: inout [UInt8]) {
        values.withUnsafeBytes { out.append(contentsOf: $0) }
    }
}
