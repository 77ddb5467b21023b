import Foundation

/// A single self-overwriting progress line on stderr, throttled to a few updates per second, so
/// long files show where they are without flooding logs.
struct Progress {
    let total: Int
    let enabled: Bool
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var printed = false

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled && total > 1
    }

    mutating func step(_ done: Int) {
        guard enabled, Date().timeIntervalSince(lastPrint) > 0.5 || done == total else { return }
        lastPrint = Date()
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        FileHandle.standardError.write(
            "\rframe \(done)/\(total)  (\(String(format: "%.2f", rate)) frames/s)".data(using: .utf8)!)
        printed = true
    }

    func finish() {
        if printed { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }
}
