import Foundation

/// Reading and writing extended-XYZ (and plain XYZ) files with ASE's conventions.
///
/// All failures are `StructureFileError`s naming the file, frame and line.
public enum ExtXYZ {
    /// Reads every frame of the file at `path`.
    public static func read(path: String) throws -> [Structure] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StructureFileError(file: path, kind: .fileNotFound, detail: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw StructureFileError(file: path, kind: .unreadable, detail: "is a directory")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StructureFileError(file: path, kind: .unreadable, detail: "permission denied or I/O error")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw StructureFileError(file: path, kind: .unreadable, detail: "not UTF-8 text")
        }
        return try read(string: text, name: path)
    }

    /// Reads every frame of `text`; `name` stands in for the file name in errors.
    public static func read(string text: String, name: String = "<string>") throws -> [Structure] {
        var reader = ExtXYZReader(text: text, file: name)
        return try reader.readAll()
    }

    /// The extxyz text of `frames`, readable by `ase.io.read(path, ":")`.
    ///
    /// Throws `StructureFileError` (kind `.inconsistentStructure`) for a structure that
    /// cannot be represented, e.g. a column whose row count differs from the atom count.
    public static func format(_ frames: [Structure]) throws -> String {
        try ExtXYZFormatter.format(frames, file: "<output>")
    }

    /// Writes `frames` to `path` atomically: the file is either the complete new content
    /// or, on any failure, unchanged (and no temporary file is left behind).
    public static func write(_ frames: [Structure], to path: String) throws {
        let text = try ExtXYZFormatter.format(frames, file: path)
        try AtomicFile.write(text, to: path)
    }
}
