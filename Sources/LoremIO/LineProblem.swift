/// A parse failure inside one line, before the reader knows which file, frame and line it
/// came from; the frame reader wraps it into a `StructureFileError` with that location.
struct LineProblem: Error {
    var kind: StructureFileError.Kind
    var detail: String
}
