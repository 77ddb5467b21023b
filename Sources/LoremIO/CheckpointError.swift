/// Why a lorem-train checkpoint could not be loaded; always names the file or folder.
public struct CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case missingFolder = "checkpoint folder not found"
        case missingFile = "missing file"
        case unreadable = "cannot read file"
        case yamlSyntax = "YAML error"
        case badLayout = "unexpected content"
        case corruptMsgPack = "corrupt msgpack"
        case badParameter = "bad parameter"
    }

    /// The file or folder the problem is in.
    public var path: String
    public var kind: Kind
    public var detail: String

    public init(path: String, kind: Kind, detail: String) {
        self.path = path
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(path): \(kind.rawValue): \(detail)" }
}
