import Foundation

/// The lines of a file or string, produced one at a time from a bounded buffer, so that reading
/// a trajectory of any length holds one line (and one frame above it) in memory, never the file.
///
/// Lines end at "\n"; a "\r" before it is dropped (Windows files), a UTF-8 byte-order mark at the
/// start of the text is skipped. Each line is checked to be UTF-8 on its own, so an encoding error
/// is reported with its line number rather than as "the file is not text".
struct TextLines {
    let file: String
    /// 0-based index of the line the last `next()` returned (−1 before the first).
    private(set) var lineIndex = -1
    private var handle: FileHandle?
    private var buffer: [UInt8]
    private var start = 0
    private var atEnd: Bool
    /// Bytes taken from the source so far (for progress against the file's size).
    private(set) var bytesConsumed = 0
    /// Set by an error that leaves no way to read on (a failed read, an overlong line); the
    /// text then ends there. An invalid UTF-8 line is not such an error: the next line follows.
    private(set) var isBroken = false

    /// Reads are this large (1 MiB by default): big enough that a system call is rare, small
    /// against any frame. Tests use a few bytes, so lines and characters straddle reads.
    let chunkSize: Int
    /// A longer line is an error rather than an unbounded buffer (64 MiB by default): no extxyz
    /// line is this long, a binary file read by mistake may have no newline at all.
    let maximumLineLength: Int

    init(handle: FileHandle, file: String, chunkSize: Int = 1 << 20, maximumLineLength: Int = 64 << 20) {
        self.file = file
        self.handle = handle
        self.chunkSize = chunkSize
        self.maximumLineLength = maximumLineLength
        buffer = []
        atEnd = false
    }

    init(text: String, file: String) {
        self.file = file
        chunkSize = 0
        maximumLineLength = .max
        buffer = Array(text.utf8)
        atEnd = true
        bytesConsumed = buffer.count
    }

    /// The next line without its terminator, or nil at the end of the text.
    mutating func next() throws(StructureFileError) -> Substring? {
        if isBroken { return nil }
        var scanned = start
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
                return try take(upTo: newline, skip: 1)
            }
            if atEnd {
                return start < buffer.count ? try take(upTo: buffer.count, skip: 0) : nil
            }
            if buffer.count - start > maximumLineLength {
                isBroken = true
                throw StructureFileError(file: file, line: lineIndex + 2, kind: .unreadable,
                                         detail: "a line longer than \(maximumLineLength) bytes (not an extxyz file?)")
            }
            // Everything up to the end is scanned; `refill` drops the consumed prefix, moving
            // every index back by `start`.
            scanned = buffer.count - start
            try refill()
        }
    }

    private mutating func refill() throws(StructureFileError) {
        guard let handle else { atEnd = true; return }
        let chunk: Data?
        do {
            chunk = try handle.read(upToCount: chunkSize)
        } catch {
            isBroken = true
            throw StructureFileError(file: file, kind: .unreadable, detail: "read failed: \(error.localizedDescription)")
        }
        buffer.removeSubrange(0..<start)
        start = 0
        guard let chunk, !chunk.isEmpty else { atEnd = true; return }
        buffer.append(contentsOf: chunk)
        bytesConsumed += chunk.count
    }

    private mutating func take(upTo end: Int, skip: Int) throws(StructureFileError) -> Substring {
        var bytes = buffer[start..<end]
        if bytes.last == 0x0D { bytes = bytes.dropLast() }
        if lineIndex == -1 && bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        start = end + skip
        lineIndex += 1
        guard let line = String(validating: bytes, as: UTF8.self) else {
            throw StructureFileError(file: file, line: lineIndex + 1, kind: .unreadable, detail: "not UTF-8 text")
        }
        return line[...]
    }
}
