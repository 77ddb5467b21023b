import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file written in pieces that appears at its path only when complete.
///
/// `predict` may overwrite a previous result and streams its output batch by batch; a crash, a
/// full disk or Ctrl-C half-way must not leave a truncated extxyz that looks valid. The pieces go
/// to a hidden temporary file next to the target (same directory, hence same file system) that
/// `commit()` renames into place, which POSIX guarantees to be atomic. Dropping the object without
/// a commit removes the temporary file; so does SIGINT, SIGTERM or SIGHUP while it is open.
public final class AtomicFile {
    public let path: String
    private let temporaryPath: String
    private var handle: FileHandle?

    public init(path: String) throws(StructureFileError) {
        let url = URL(fileURLWithPath: path)
        self.path = path
        temporaryPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)").path
        InterruptCleanup.install()
        guard FileManager.default.createFile(atPath: temporaryPath, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporaryPath) else {
            let reason = String(cString: strerror(errno))
            throw StructureFileError(file: path, kind: .writeFailed, detail: "cannot create temporary file: \(reason)")
        }
        self.handle = handle
        InterruptCleanup.watch(temporaryPath)
    }

    deinit { discard() }

    public func append(_ text: String) throws(StructureFileError) {
        guard let handle else {
            throw StructureFileError(file: path, kind: .writeFailed, detail: "the file was already closed")
        }
        do {
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            discard()
            throw StructureFileError(file: path, kind: .writeFailed, detail: "cannot write temporary file: \(error.localizedDescription)")
        }
    }

    /// Moves the complete file into place.
    public func commit() throws(StructureFileError) {
        guard let handle else {
            throw StructureFileError(file: path, kind: .writeFailed, detail: "the file was already closed")
        }
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            discard()
            throw StructureFileError(file: path, kind: .writeFailed, detail: "cannot write temporary file: \(error.localizedDescription)")
        }
        self.handle = nil
        InterruptCleanup.watch(nil)
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw StructureFileError(file: path, kind: .writeFailed, detail: "cannot move file into place: \(reason)")
        }
    }

    /// Abandons the file: the temporary file is removed and the target left as it was.
    public func discard() {
        guard let handle else { return }
        try? handle.close()
        self.handle = nil
        InterruptCleanup.watch(nil)
        unlink(temporaryPath)
    }
}

/// Removes the one temporary file being written when the process is interrupted, then lets the
/// signal take its default course (so the exit status still says "killed by SIGINT").
///
/// A signal handler may only call async-signal-safe functions: it reads a C string kept in a
/// global and calls `unlink`, `signal` and `raise`, nothing else.
enum InterruptCleanup {
    nonisolated(unsafe) private static var pending: UnsafeMutablePointer<CChar>? = nil
    private static let installed: Bool = {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { sig in
                if let path = InterruptCleanup.pending { unlink(path) }
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
        return true
    }()

    static func install() { _ = installed }

    /// The file to remove on a signal (nil: none).
    static func watch(_ path: String?) {
        let old = pending
        pending = path.map { strdup($0) }
        free(old)
    }
}
