import Foundation
import Glibc
@testable import LoremDriver

/// The server end of a connection, speaking the i-PI protocol byte by byte as i-PI 3.3's
/// `ipi/interfaces/sockets.py` writes it, for tests that run a driver in-process.
final class FakeIPIServer {
    let fd: Int32

    init(fd: Int32) { self.fd = fd }
    deinit { close() }

    func close() { _ = Glibc.close(fd) }

    /// A connected pair: the server end and a driver socket.
    static func pair() -> (FakeIPIServer, IPISocket) {
        var fds: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (FakeIPIServer(fd: fds[0]), IPISocket(descriptor: fds[1]))
    }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            precondition(n > 0, "send failed")
            sent += n
        }
    }

    func header(_ h: IPIHeader) -> [UInt8] { h.bytes }
    func int32(_ v: Int) -> [UInt8] { var out: [UInt8] = []; IPIWire.append(v, to: &out); return out }
    func doubles(_ v: [Double]) -> [UInt8] { var out: [UInt8] = []; IPIWire.append(v, to: &out); return out }

    func initMessage(bead: Int = 0, text: String = " ") -> [UInt8] {
        header(.initialize) + int32(bead) + int32(text.utf8.count) + Array(text.utf8)
    }

    /// A single-structure POSDATA: h, a made-up inverse (the driver must not use it), N, positions.
    func posData(cell: [Double], positions: [Double], atoms: Int? = nil) -> [UInt8] {
        header(.posData) + doubles(cell) + doubles([Double](repeating: 7, count: 9)) + int32(atoms ?? positions.count / 3)
            + doubles(positions)
    }

    /// A batched POSDATA: N, B × (h, h⁻¹), B × 3N positions.
    func batchedPosData(cells: [[Double]], positions: [[Double]]) -> [UInt8] {
        var out = header(.posData) + int32(positions[0].count / 3)
        for c in cells { out += doubles(c) + doubles([Double](repeating: 7, count: 9)) }
        for p in positions { out += doubles(p) }
        return out
    }

    func receive(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
            if n <= 0 { return nil }
            got += n
        }
        return out
    }

    func receiveHeader() -> IPIHeader? { receive(12).flatMap { IPIHeader(bytes: $0) } }

    func status() -> IPIHeader? {
        send(header(.status))
        return receiveHeader()
    }

    /// Reads a FORCEREADY payload of `batch` structures of `atoms` atoms.
    func receiveForces(atoms: Int, batch: Int = 1) -> [IPIResult]? {
        guard receiveHeader() == .forceReady, let e = receive(8 * batch).map(IPIWire.doubles),
              let n = receive(4).map(IPIWire.int32), n == atoms,
              let f = receive(8 * batch * 3 * atoms).map(IPIWire.doubles),
              let w = receive(8 * batch * 9).map(IPIWire.doubles) else { return nil }
        var results: [IPIResult] = []
        for b in 0..<batch {
            guard let length = receive(4).map(IPIWire.int32), let extras = receive(length) else { return nil }
            results.append(IPIResult(energy: e[b], forces: Array(f[(3 * atoms * b)..<(3 * atoms * (b + 1))]),
                                     virial: Array(w[(9 * b)..<(9 * b + 9)]), extras: String(decoding: extras, as: UTF8.self)))
        }
        return results
    }
}

/// Runs a driver on a background thread and hands back how it ended.
final class DriverThread: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome: Result<IPIClient.Ending, Error>?

    /// The body runs on the new thread only; the test thread talks to it through the socket.
    private struct Body: @unchecked Sendable { let run: () throws -> IPIClient.Ending }

    init(_ body: @escaping () throws -> IPIClient.Ending) {
        let box = Body(run: body)
        let thread = Thread { [self] in
            outcome = Result { try box.run() }
            done.signal()
        }
        thread.start()
    }

    /// The outcome, or nil if the driver is still running after `timeout` seconds.
    func wait(timeout: Double = 60) -> Result<IPIClient.Ending, Error>? {
        done.wait(timeout: .now() + timeout) == .success ? outcome : nil
    }
}

/// A force field with a closed form, so the bytes on the wire can be predicted: E = ½ Σ x²
/// (Bohr², in Hartree), F = −x, W = the cell itself, extras naming the call.
final class HarmonicForceField: IPIForceField, @unchecked Sendable {
    let atomCount: Int
    private(set) var calls: [[IPIStructure]] = []
    init(atoms: Int) { atomCount = atoms }

    func compute(_ structures: [IPIStructure]) throws -> [IPIResult] {
        calls.append(structures)
        return structures.map { s in
            IPIResult(energy: 0.5 * s.positions.map { $0 * $0 }.reduce(0, +), forces: s.positions.map { -$0 },
                      virial: s.cell, extras: "{\"call\": \(calls.count)}")
        }
    }
}
