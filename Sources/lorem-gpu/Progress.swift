import Foundation

/// A single self-overwriting progress line on stderr, throttled to a few updates per second, so
/// long files show where they are without flooding logs. Input is streamed, so the number of
/// frames is not known in advance: the line shows frames done and the share of the file read.
struct Progress {
    let enabled: Bool
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var printed = false

    init(enabled: Bool) {
        self.enabled = enabled
    }

    mutating func step(frames done: Int, fraction: Double?) {
        guard enabled, Date().timeIntervalSince(lastPrint) > 0.5 else { return }
        lastPrint = Date()
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let share = fraction.map { String(format: ", %.0f%% of the input read", 100 * $0) } ?? ""
        FileHandle.standardError.write(
            "\rframe \(done)  (\(String(format: "%.2f", rate)) frames/s\(share))".data(using: .utf8)!)
        printed = true
    }

    func finish() {
        if printed { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }
}
