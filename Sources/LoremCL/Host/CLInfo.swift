import COpenCL

/// The two shapes of OpenCL's `clGet*Info` queries (ask the size, then fill), written once for
/// strings and for fixed-size scalars.
enum CLInfo {
    typealias Query = (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int

    static func string(_ call: String, _ query: Query) throws -> String {
        var size = 0
        try clCheck(query(0, nil, &size), call)
        var bytes = [UInt8](repeating: 0, count: max(size, 1))
        try clCheck(bytes.withUnsafeMutableBytes { query(size, $0.baseAddress, nil) }, call)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    static func scalar<T: BitwiseCopyable>(_ call: String, _ type: T.Type, _ query: Query) throws -> T {
        try withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buffer in
            try clCheck(query(MemoryLayout<T>.size, UnsafeMutableRawPointer(buffer.baseAddress!), nil), call)
            return buffer[0]
        }
    }
}
