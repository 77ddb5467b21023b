/// Parses the frames of an extxyz / xyz text, tracking file, frame and line so that any
/// problem can be reported at its exact location.
struct ExtXYZReader {
    let file: String
    let lines: [Substring]
    private var lineIndex = 0
    private var frameIndex = 0

    init(text: String, file: String) {
        self.file = file
        // `\r\n` is one Character, so Windows line endings split correctly too.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        if lines.last?.isEmpty == true { lines.removeLast() }
        self.lines = lines
    }

    mutating func readAll() throws(StructureFileError) -> [Structure] {
        var frames: [Structure] = []
        while !restIsBlank() {
            frames.append(try readFrame())
            frameIndex += 1
        }
        if frames.isEmpty {
            throw StructureFileError(file: file, kind: .emptyFile, detail: "no frames found")
        }
        return frames
    }

    /// Trailing blank lines end the file; blank lines anywhere else are errors.
    private func restIsBlank() -> Bool {
        lines[lineIndex...].allSatisfy { $0.allSatisfy(\.isWhitespace) }
    }

    private func error(_ kind: StructureFileError.Kind, _ detail: String, line: Int) -> StructureFileError {
        StructureFileError(file: file, frame: frameIndex, line: line + 1, kind: kind, detail: detail)
    }

    private mutating func readFrame() throws(StructureFileError) -> Structure {
        let countLine = lineIndex
        let countText = lines[countLine].trimmingWhitespace()
        guard let atomCount = Int(countText), atomCount >= 0 else {
            throw error(.badAtomCount, "expected a non-negative atom count, found '\(countText)'", line: countLine)
        }
        let commentLine = countLine + 1
        guard commentLine < lines.count else {
            throw error(.truncated, "file ends before the comment line of a \(atomCount)-atom frame", line: commentLine)
        }
        let header: ExtXYZHeader
        do {
            header = try ExtXYZHeader.parse(lines[commentLine])
        } catch {
            throw self.error(error.kind, error.detail, line: commentLine)
        }
        let firstAtom = commentLine + 1
        let available = lines.count - firstAtom
        guard available >= atomCount else {
            throw error(
                .truncated,
                "frame declares \(atomCount) atoms but the file ends after \(available) atom lines",
                line: lines.count)
        }
        var atoms = AtomLineParser(columns: header.columns, atomCount: atomCount)
        do {
            try atoms.validateLayout()
        } catch {
            throw self.error(error.kind, error.detail, line: commentLine)
        }
        for i in 0..<atomCount {
            do {
                try atoms.parse(lines[firstAtom + i])
            } catch {
                throw self.error(error.kind, error.detail, line: firstAtom + i)
            }
        }
        lineIndex = firstAtom + atomCount
        return Structure(
            numbers: atoms.numbers, positions: atoms.positions, cell: header.cell, pbc: header.pbc,
            info: header.info, arrays: atoms.extraColumns())
    }
}
