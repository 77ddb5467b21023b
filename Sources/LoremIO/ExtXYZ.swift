import Foundation

/// Reading and writing extended-XYZ (and plain XYZ) files with ASE's conventions.
///
/// All failures are `StructureFileError`s naming the file, frame and line.
public enum ExtXYZ {
    /// Reads every frame of the file at `path`.
    public static func read(path: String) throws -> [Structure] {
        var frames = try ExtXYZFrames(path: path)
        return try frames.reader.readAll()
    }

    /// Reads every frame of `text`; `name` stands in for the file name in errors.
    public static func read(string text: String, name: String = "<string>") throws -> [Structure] {
        var frames = ExtXYZFrames(string: text, name: name)
        return try frames.reader.readAll()
    }

    /// The extxyz text of `frames`, readable by `ase.io.read(path, ":")`.
    ///
    /// Throws `StructureFileError` (kind `.inconsistentStructure`) for a structure that
    /// cannot be represented, e.g. a column whose row count differs from the atom count.
    public static func format(_ frames: [Structure]) throws -> String {
        try ExtXYZFormatter.format(frames, file: "<output>")
    }

    /// The extxyz text of `frames` as part of a file written in pieces: errors name `file` and
    /// count frames from `firstFrame`.
    public static func format(_ frames: [Structure], file: String, firstFrame: Int) throws -> String {
        try ExtXYZFormatter.format(frames, file: file, firstFrame: firstFrame)
    }

    /// Writes `frames` to `path` atomically: the file is either the complete new content
    /// or, on any failure, unchanged (and no temporary file is left behind).
    public static func write(_ frames: [Structure], to path: String) throws {
        let text = try ExtXYZFormatter.format(frames, file: path)
        let file = try AtomicFile(path: path)
        try file.append(text)
        try file.commit()
    }
}

/// The frames of an extxyz file, read one at a time: memory holds the frame being parsed, never
/// the file, so a trajectory of any length can be evaluated (`predict` streams through this).
public struct ExtXYZFrames {
    var reader: ExtXYZReader
    /// The file's size in bytes, when known (progress).
    public let totalBytes: Int?

    /// Opens the file at `path`; errors name it (missing, a directory, unreadable).
    public init(path: String) throws(StructureFileError) {
        try self.init(path: path, chunkSize: 1 << 20, maximumLineLength: 64 << 20)
    }

    init(path: String, chunkSize: Int, maximumLineLength: Int) throws(StructureFileError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StructureFileError(file: path, kind: .fileNotFound, detail: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw StructureFileError(file: path, kind: .unreadable, detail: "is a directory")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StructureFileError(file: path, kind: .unreadable, detail: "permission denied or I/O error")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber
        totalBytes = size?.intValue
        reader = ExtXYZReader(lines: TextLines(handle: handle, file: path, chunkSize: chunkSize,
                                               maximumLineLength: maximumLineLength))
    }

    /// The frames of `text`; `name` stands in for the file name in errors.
    public init(string text: String, name: String = "<string>") {
        let lines = TextLines(text: text, file: name)
        totalBytes = lines.bytesConsumed
        reader = ExtXYZReader(lines: lines)
    }

    /// The next frame, nil at the end. A malformed frame throws an error naming frame and line;
    /// `canContinue` then says whether reading on gives the frames after it.
    public mutating func next() throws(StructureFileError) -> Structure? { try reader.next() }

    /// After an error: whether the bad frame was passed over (its atom count was readable), so
    /// `next()` goes on with the following frame; false when the rest of the file cannot be framed.
    public var canContinue: Bool { reader.canContinue }
    /// The 0-based index in the file of the frame `next()` reads.
    public var nextFrameIndex: Int { reader.nextFrameIndex }
    /// The fraction of the file read so far, when its size is known.
    public var fractionRead: Double? {
        guard let totalBytes, totalBytes > 0 else { return nil }
        return min(1, Double(reader.bytesConsumed) / Double(totalBytes))
    }
}
