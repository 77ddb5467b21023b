import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file writes that either fully succeed or leave the destination untouched.
///
/// `predict` may overwrite a previous result; a crash or full disk half-way must not leave
/// a truncated extxyz that looks valid. We write a hidden temporary file next to the
/// target (same directory, hence same file system) and `rename(2)` it into place, which
/// POSIX guarantees to be atomic.
enum AtomicFile {
    static func write(_ text: String, to path: String) throws(StructureFileError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        do {
            try Data(text.utf8).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw StructureFileError(
                file: path, kind: .writeFailed, detail: "cannot write temporary file: \(error.localizedDescription)")
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw StructureFileError(file: path, kind: .writeFailed, detail: "cannot move file into place: \(reason)")
        }
    }
}
