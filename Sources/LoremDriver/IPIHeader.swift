import Foundation

/// The 12-byte headers of the i-PI socket protocol: upper-case ASCII, right-padded with spaces.
public enum IPIHeader: String, CaseIterable, Sendable {
    case status = "STATUS"
    case needInit = "NEEDINIT"
    case ready = "READY"
    case haveData = "HAVEDATA"
    case initialize = "INIT"
    case posData = "POSDATA"
    case getForce = "GETFORCE"
    case forceReady = "FORCEREADY"
    case exit = "EXIT"

    public static let length = 12

    /// The header as it travels: the name padded with spaces to 12 bytes.
    public var bytes: [UInt8] {
        Array(rawValue.utf8) + [UInt8](repeating: 0x20, count: Self.length - rawValue.utf8.count)
    }

    /// The header these 12 bytes spell, or nil. Trailing spaces and NULs are padding (some
    /// servers pad with NUL); anything else that is not a known header is a protocol error.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.length else { return nil }
        var end = bytes.count
        while end > 0 && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0) { end -= 1 }
        guard let text = String(bytes: bytes[..<end], encoding: .ascii), let header = IPIHeader(rawValue: text) else {
            return nil
        }
        self = header
    }

    /// How 12 unrecognised bytes are shown in an error: printable ASCII as is, the rest as \xNN.
    public static func describe(_ bytes: [UInt8]) -> String {
        "\"" + bytes.map { (32..<127).contains($0) && $0 != 0x22 && $0 != 0x5C ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }
            .joined() + "\""
    }
}
