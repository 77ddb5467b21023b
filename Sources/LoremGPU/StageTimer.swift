import Foundation
import LoremCL

/// Wall time per engine stage, for `bench`'s breakdown. When enabled, each mark waits for the
/// device queue (clFinish) so the time lands on the stage that queued the work; when disabled
/// it costs nothing and never synchronises. Each mark also tells the context's memory ledger
/// which stage finished, so `CLMemoryLedger.peakSites` can say where the peak fell.
public final class StageTimer: @unchecked Sendable {
    public private(set) var seconds: [(stage: String, seconds: Double)] = []
    private let context: CLContext?
    private var last = Date()

    init(context: CLContext?) {
        self.context = context
    }

    func start() throws {
        guard let context else { return }
        try context.finish()
        context.memory.enter(stage: "")
        seconds = []
        last = Date()
    }

    func mark(_ stage: String) throws {
        guard let context else { return }
        try context.finish()
        context.memory.enter(stage: stage)
        let now = Date()
        seconds.append((stage, now.timeIntervalSince(last)))
        last = now
    }
}

/// An engine that can time its stages (both precisions of `DeviceEngine`).
public protocol StageProfiling: AnyObject {
    var profiling: Bool { get set }
    var lastStageTimes: [(stage: String, seconds: Double)] { get }
    /// Device time per kernel of the last profiled evaluation, the largest first.
    var lastKernelTimes: [(kernel: String, seconds: Double, calls: Int)] { get }
}

/// An engine whose device buffers are counted, so benchmarks can report peak device memory.
public protocol DeviceMemoryReporting: AnyObject {
    var deviceMemory: CLMemoryLedger { get }
}
