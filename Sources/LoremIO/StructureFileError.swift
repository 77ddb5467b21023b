import Foundation

/// Why a structure file could not be read or written.
///
/// Every message names the file, and where it applies the 0-based frame index and the
/// 1-based line number, because datasets are often thousands of frames long and the user
/// has to find the bad line with an editor.
public struct StructureFileError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The category of problem, so callers and tests can branch without parsing text.
    public enum Kind: String, Sendable, Equatable {
        case fileNotFound = "file not found"
        case unreadable = "cannot read file"
        case emptyFile = "empty file"
        case badAtomCount = "bad atom count"
        case truncated = "truncated file"
        case wrongColumnCount = "wrong number of columns"
        case badNumber = "unparsable number"
        case unknownElement = "unknown element"
        case badLattice = "malformed Lattice"
        case badProperties = "malformed Properties"
        case badPBC = "bad pbc"
        case unterminatedQuote = "unterminated quote"
        case badCommentLine = "malformed comment line"
        case inconsistentStructure = "inconsistent structure"
        case writeFailed = "write failed"
    }

    public var file: String
    public var frame: Int?
    public var line: Int?
    public var kind: Kind
    /// Specifics, e.g. the offending token and what was expected.
    public var detail: String

    public init(file: String, frame: Int? = nil, line: Int? = nil, kind: Kind, detail: String) {
        self.file = file
        self.frame = frame
        self.line = line
        self.kind = kind
        self.detail = detail
    }

    public var description: String {
        var location = file
        if let frame { location += ", frame \(frame)" }
        if let line { location += ", line \(line)" }
        return detail.isEmpty ? "\(location): \(kind.rawValue)" : "\(location): \(kind.rawValue): \(detail)"
    }

    public var errorDescription: String? { description }
}
