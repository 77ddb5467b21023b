/// Parses the frames of an extxyz / xyz text one at a time, tracking file, frame and line so
/// that any problem can be reported at its exact location.
///
/// Only the frame being parsed is in memory: lines come from `TextLines`, so a file of any
/// length is read in memory proportional to its largest frame.
struct ExtXYZReader {
    private var lines: TextLines
    private var frameIndex = 0
    /// Whether the reader stands at the start of a frame after the last error: true when the bad
    /// frame's extent was known (its atom count parsed) and its lines were consumed.
    private(set) var canContinue = true

    var file: String { lines.file }
    /// The 0-based index of the frame the next `next()` reads.
    var nextFrameIndex: Int { frameIndex }
    var bytesConsumed: Int { lines.bytesConsumed }

    init(lines: TextLines) {
        self.lines = lines
    }

    /// Every frame; an empty file (or one of blank lines) is an error.
    mutating func readAll() throws(StructureFileError) -> [Structure] {
        var frames: [Structure] = []
        while let frame = try next() { frames.append(frame) }
        if frames.isEmpty {
            throw StructureFileError(file: file, kind: .emptyFile, detail: "no frames found")
        }
        return frames
    }

    /// The next frame, or nil at the end of the text. Trailing blank lines end the file; blank
    /// lines anywhere else are errors. After an error `canContinue` says whether `next()` goes
    /// on with the following frame (the bad one skipped) or the rest cannot be framed.
    mutating func next() throws(StructureFileError) -> Structure? {
        guard canContinue else { return nil }
        canContinue = false
        guard let count = try nextCountLine() else {
            canContinue = true
            return nil
        }
        guard let atomCount = Int(count.text), atomCount >= 0 else {
            throw error(.badAtomCount, "expected a non-negative atom count, found '\(count.text)'", line: count.index)
        }
        guard let comment = try nextLine() else {
            throw error(.truncated, "file ends before the comment line of a \(atomCount)-atom frame", line: count.index + 1)
        }
        do {
            let frame = try parseFrame(comment: comment, commentIndex: count.index + 1, atomCount: atomCount)
            frameIndex += 1
            canContinue = true
            return frame
        } catch {
            if error.kind != .truncated {
                canContinue = skipLines(through: count.index + 1 + atomCount)
            }
            frameIndex += 1
            throw error
        }
    }

    private func error(_ kind: StructureFileError.Kind, _ detail: String, line: Int) -> StructureFileError {
        StructureFileError(file: file, frame: frameIndex, line: line + 1, kind: kind, detail: detail)
    }

    /// The next line; an encoding error is reported in the current frame.
    private mutating func nextLine() throws(StructureFileError) -> Substring? {
        do {
            return try lines.next()
        } catch {
            var located = error
            located.frame = frameIndex
            throw located
        }
    }

    /// The trimmed count line of the next frame, nil when only blank lines remain.
    private mutating func nextCountLine() throws(StructureFileError) -> (index: Int, text: String)? {
        guard let line = try nextLine() else { return nil }
        if !line.allSatisfy(\.isWhitespace) { return (lines.lineIndex, line.trimmingWhitespace()) }
        let blank = lines.lineIndex
        while let rest = try nextLine() {
            if !rest.allSatisfy(\.isWhitespace) { return (blank, "") }
        }
        return nil
    }

    private mutating func parseFrame(comment: Substring, commentIndex: Int, atomCount: Int) throws(StructureFileError) -> Structure {
        let header: ExtXYZHeader
        var atoms: AtomLineParser
        do {
            header = try ExtXYZHeader.parse(comment)
            atoms = AtomLineParser(columns: header.columns, atomCount: atomCount)
            try atoms.validateLayout()
        } catch {
            throw self.error(error.kind, error.detail, line: commentIndex)
        }
        for read in 0..<atomCount {
            guard let line = try nextLine() else {
                throw error(.truncated, "frame declares \(atomCount) atoms but the file ends after \(read) atom lines",
                            line: lines.lineIndex + 1)
            }
            do {
                try atoms.parse(line)
            } catch {
                throw self.error(error.kind, error.detail, line: lines.lineIndex)
            }
        }
        return Structure(numbers: atoms.numbers, positions: atoms.positions, cell: header.cell, pbc: header.pbc,
                         info: header.info, arrays: atoms.extraColumns())
    }

    /// Consumes lines up to the 0-based line `last` (the bad frame's last atom line); false when
    /// the text ends first or cannot be read on.
    private mutating func skipLines(through last: Int) -> Bool {
        while lines.lineIndex < last {
            do {
                guard try lines.next() != nil else { return false }
            } catch {
                if lines.isBroken { return false }
            }
        }
        return true
    }
}
