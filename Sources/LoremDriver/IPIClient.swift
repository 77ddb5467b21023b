import Foundation

/// One structure as i-PI sends it, in atomic units.
public struct IPIStructure: Sendable, Equatable {
    /// h, the lattice vectors as columns, in the order it travels (row-major): a = (h0, h3, h6),
    /// b = (h1, h4, h7), c = (h2, h5, h8). Bohr. The inverse i-PI sends next to it is not kept:
    /// ASE sends a transposed one, so nothing may depend on it.
    public var cell: [Double]
    /// x0 y0 z0 x1 … in Bohr.
    public var positions: [Double]

    public init(cell: [Double], positions: [Double]) {
        self.cell = cell
        self.positions = positions
    }
}

/// What a force field returns for one structure, in atomic units.
public struct IPIResult: Sendable, Equatable {
    /// Hartree.
    public var energy: Double
    /// 3N values, Hartree/Bohr.
    public var forces: [Double]
    /// −∂E/∂ε in Hartree (not divided by the volume), in h's layout: the transpose of ASE's
    /// (ASE reads it with `.T`, i-PI's own ASE driver sends `(−σV)ᵀ`).
    public var virial: [Double]
    /// A JSON object ("{}" when there is nothing extra).
    public var extras: String

    public init(energy: Double, forces: [Double], virial: [Double], extras: String = "{}") {
        self.energy = energy
        self.forces = forces
        self.virial = virial
        self.extras = extras
    }
}

/// What the client evaluates: a fixed atom count (i-PI never sends species, so the template
/// fixes them) and a batch of structures at a time.
public protocol IPIForceField: AnyObject {
    var atomCount: Int { get }
    func compute(_ structures: [IPIStructure]) throws -> [IPIResult]
}

/// The driver side of the i-PI socket protocol (i-PI 3.3's `ipi/interfaces/sockets.py` is the
/// server it answers; `drivers/py/driver.py` its reference client):
///
///     STATUS    → NEEDINIT before INIT, HAVEDATA while a result waits, READY otherwise
///     INIT      ← int32 bead, int32 L, L bytes of text (`batch_size:B` switches on batching)
///     POSDATA   ← 9 f64 h, 9 f64 h⁻¹, int32 N, 3N f64 positions            (B = 1)
///               ← int32 N, B × (9 f64 h, 9 f64 h⁻¹), B × 3N f64 positions   (batched)
///     GETFORCE  → FORCEREADY, f64 E, int32 N, 3N f64 F, 9 f64 W, int32 L, L bytes extras
///               → FORCEREADY, B f64 E, int32 N, B×3N f64 F, B×9 f64 W, B × (int32 L, extras)
///     EXIT      end
///
/// The structures are evaluated when POSDATA arrives, so both message orders work: i-PI's
/// consolidated one (GETFORCE straight after POSDATA) and the classic one ASE's server uses
/// (STATUS → HAVEDATA → GETFORCE). Every count is checked before anything is allocated from it.
public final class IPIClient {
    public enum Ending: Equatable {
        /// The server sent EXIT.
        case exit
        /// The server closed the connection between messages.
        case closed
    }

    /// Counts and times of a run, for the closing line and the per-step overhead measurement.
    /// The first evaluation is kept apart: it builds the device programs (seconds on PoCL).
    public struct Statistics: Sendable {
        /// POSDATA messages answered (one per step, whatever the batch).
        public var exchanges = 0
        /// Structures evaluated (exchanges × batch size).
        public var structures = 0
        /// Seconds of the first evaluation, and of all later ones together.
        public var firstComputeSeconds = 0.0
        public var computeSeconds = 0.0
        /// Seconds the driver spent on the wire after the first exchange: reading POSDATA's
        /// payload once its header arrived, assembling and writing FORCEREADY.
        public var socketSeconds = 0.0
        /// Seconds from the first FORCEREADY to the last: every later step, whole.
        public var stepSeconds = 0.0

        var laterExchanges: Int { max(exchanges - 1, 0) }
        /// Mean seconds per evaluation after the first.
        public var computePerExchange: Double { laterExchanges > 0 ? computeSeconds / Double(laterExchanges) : firstComputeSeconds }
        /// Mean seconds of the driver's own socket work per step, after the first.
        public var socketPerExchange: Double { laterExchanges > 0 ? socketSeconds / Double(laterExchanges) : 0 }
        /// Mean seconds per step outside the driver (the server's own work and the wire).
        public var serverPerExchange: Double {
            laterExchanges > 0 ? (stepSeconds - computeSeconds - socketSeconds) / Double(laterExchanges) : 0
        }
    }

    /// Largest batch an INIT may announce: i-PI sends one padded batch at a time, and beads or
    /// replicas beyond this would be better spread over several drivers anyway.
    public static let maxBatch = 4096
    /// Longest INIT text accepted (i-PI sends its `<parameters>` string, a few bytes).
    public static let maxInitLength = 1 << 20

    private let socket: IPISocket
    private let forceField: IPIForceField
    public private(set) var statistics = Statistics()
    public private(set) var batchSize = 1
    /// Called with progress lines (INIT received, periodic step counts); nil for none.
    public var log: ((String) -> Void)?
    /// Seconds between progress lines.
    public var logInterval = 10.0

    private var initialized = false
    private var pending: [IPIResult]?
    private var lastForceReady: Date?
    private var exchangeSocketSeconds = 0.0
    private var lastLog = Date()

    public init(socket: IPISocket, forceField: IPIForceField) {
        self.socket = socket
        self.forceField = forceField
    }

    /// Answers the server until it sends EXIT or closes the connection.
    public func run() throws -> Ending {
        while true {
            guard let raw = try socket.read(IPIHeader.length, what: "a message header") else { return .closed }
            guard let header = IPIHeader(bytes: raw) else {
                throw DriverError.protocolViolation("unknown message header \(IPIHeader.describe(raw))")
            }
            switch header {
            case .status:
                try socket.write((pending != nil ? IPIHeader.haveData : initialized ? .ready : .needInit).bytes)
            case .initialize:
                try receiveInit()
            case .posData:
                if pending != nil { throw DriverError.protocolViolation("POSDATA while the previous result was not yet collected with GETFORCE") }
                let t0 = Date()
                let structures = try receivePositions()
                let t1 = Date()
                pending = try forceField.compute(structures)
                let seconds = Date().timeIntervalSince(t1)
                if statistics.exchanges == 0 { statistics.firstComputeSeconds = seconds } else { statistics.computeSeconds += seconds }
                exchangeSocketSeconds = t1.timeIntervalSince(t0)
            case .getForce:
                guard let results = pending else { throw DriverError.protocolViolation("GETFORCE before any POSDATA") }
                let t0 = Date()
                try socket.write(forceReady(results))
                let now = Date()
                pending = nil
                if let last = lastForceReady {
                    statistics.socketSeconds += exchangeSocketSeconds + now.timeIntervalSince(t0)
                    statistics.stepSeconds += now.timeIntervalSince(last)
                }
                lastForceReady = now
                statistics.exchanges += 1
                statistics.structures += results.count
                if let log, now.timeIntervalSince(lastLog) >= logInterval {
                    lastLog = now
                    log(progressLine())
                }
            case .exit:
                return .exit
            case .needInit, .ready, .haveData, .forceReady:
                throw DriverError.protocolViolation("the server sent \(header.rawValue), which only a driver sends")
            }
        }
    }

    /// Steps so far and where a step's time goes: the evaluation, the driver's socket work, and
    /// the server (i-PI's integration and output, and the wire).
    public func progressLine() -> String {
        let s = statistics
        guard s.exchanges > 0 else { return "no structures evaluated" }
        func ms(_ seconds: Double) -> String { String(format: seconds < 0.01 ? "%.3f ms" : "%.1f ms", 1000 * seconds) }
        var line = "\(s.exchanges) step(s), \(s.structures) structure(s); first evaluation \(String(format: "%.2f", s.firstComputeSeconds)) s"
        if s.exchanges > 1 {
            line += ", then per step: evaluation \(ms(s.computePerExchange))" + (batchSize > 1 ? " (batch of \(batchSize))" : "")
                + ", driver socket work \(ms(s.socketPerExchange)), server \(ms(s.serverPerExchange))"
        }
        return line
    }

    private func receiveInit() throws {
        let bead = IPIWire.int32(try socket.readRequired(4, what: "INIT's bead index"))
        let length = IPIWire.int32(try socket.readRequired(4, what: "INIT's text length"))
        guard (0...Self.maxInitLength).contains(length) else {
            throw DriverError.protocolViolation("INIT announces a text of \(length) bytes (0…\(Self.maxInitLength) allowed)")
        }
        let bytes = try socket.readRequired(length, what: "INIT's text")
        let text = String(decoding: bytes.filter { $0 != 0 }, as: UTF8.self)
        batchSize = try Self.batchSize(inInit: text)
        initialized = true
        log?("INIT for bead \(bead)" + (batchSize > 1 ? ", batches of \(batchSize) structures" : ""))
    }

    /// The `batch_size:B` token of an INIT text (comma-separated `key:value` parameters), 1 if absent.
    static func batchSize(inInit text: String) throws -> Int {
        for token in text.split(separator: ",") {
            let parts = token.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "batch_size" else { continue }
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            guard let b = Int(value), (1...maxBatch).contains(b) else {
                throw DriverError.protocolViolation("INIT announces batch_size '\(value)': expected an integer in 1…\(maxBatch)")
            }
            return b
        }
        return 1
    }

    private func receivePositions() throws -> [IPIStructure] {
        let b = batchSize
        var cells: [[Double]] = []
        var n: Int
        if b == 1 {
            let blocks = IPIWire.doubles(try socket.readRequired(18 * 8, what: "POSDATA's cell"))
            cells = [Array(blocks[0..<9])]
            n = IPIWire.int32(try socket.readRequired(4, what: "POSDATA's atom count"))
        } else {
            n = IPIWire.int32(try socket.readRequired(4, what: "POSDATA's atom count"))
        }
        try checkAtomCount(n)
        if b > 1 {
            let blocks = IPIWire.doubles(try socket.readRequired(b * 18 * 8, what: "POSDATA's \(b) cells"))
            cells = (0..<b).map { Array(blocks[(18 * $0)..<(18 * $0 + 9)]) }
        }
        let positions = IPIWire.doubles(try socket.readRequired(b * 3 * n * 8, what: "POSDATA's positions"))
        return (0..<b).map { IPIStructure(cell: cells[$0], positions: Array(positions[(3 * n * $0)..<(3 * n * ($0 + 1))])) }
    }

    /// i-PI cannot say which atoms it sends, so the count must be the template's; a different
    /// one (or a garbage one) is refused before any buffer is sized from it.
    private func checkAtomCount(_ n: Int) throws {
        guard n == forceField.atomCount else {
            throw DriverError.badStructure("the server sent a structure of \(n) atoms but the template has \(forceField.atomCount): "
                + "give --template a structure with the same atoms, in the same order, as the simulation")
        }
    }

    private func forceReady(_ results: [IPIResult]) throws -> [UInt8] {
        let n = forceField.atomCount
        guard results.count == batchSize, results.allSatisfy({ $0.forces.count == 3 * n && $0.virial.count == 9 }) else {
            throw DriverError.protocolViolation("internal: \(results.count) result(s) for a batch of \(batchSize)")
        }
        var out = IPIHeader.forceReady.bytes
        out.reserveCapacity(64 + results.count * (8 * (3 * n + 10) + 16))
        IPIWire.append(results.map(\.energy), to: &out)
        IPIWire.append(n, to: &out)
        for r in results { IPIWire.append(r.forces, to: &out) }
        for r in results { IPIWire.append(r.virial, to: &out) }
        // With B = 1 this is exactly the single-structure layout.
        for r in results {
            let extras = Array(r.extras.utf8)
            IPIWire.append(extras.count, to: &out)
            out += extras
        }
        return out
    }
}
