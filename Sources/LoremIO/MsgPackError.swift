/// Why a msgpack byte sequence could not be decoded, with the byte offset where it failed,
/// so a corrupt checkpoint can be diagnosed (e.g. truncated by an interrupted copy).
public struct MsgPackError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset (0-based) at which the problem was detected.
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { message }

    static func truncated(at offset: Int, reading what: String) -> MsgPackError {
        MsgPackError(offset: offset, message: "truncated at byte \(offset) while reading \(what)")
    }
}
