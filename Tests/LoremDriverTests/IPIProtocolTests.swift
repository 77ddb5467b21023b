import Foundation
import XCTest
@testable import LoremDriver

/// The client side of the i-PI protocol against an in-process server that writes the bytes i-PI
/// 3.3 and ASE 3.29 write: both message orders, batching, the end of a run, and every malformed
/// input the driver must refuse with an error rather than a crash, a hang or a huge allocation.
final class IPIProtocolTests: XCTestCase {
    let cell: [Double] = [10, 1, 2, 0, 11, 3, 0, 0, 12]
    let positions: [Double] = [0.5, -1, 2, 3, 4.25, -5]

    func start(_ forceField: IPIForceField) -> (FakeIPIServer, DriverThread) {
        let (server, socket) = FakeIPIServer.pair()
        let driver = DriverThread { try IPIClient(socket: socket, forceField: forceField).run() }
        return (server, driver)
    }

    func expected(_ cell: [Double], _ positions: [Double], call: Int) -> IPIResult {
        IPIResult(energy: 0.5 * positions.map { $0 * $0 }.reduce(0, +), forces: positions.map { -$0 }, virial: cell,
                  extras: "{\"call\": \(call)}")
    }

    /// i-PI ≥ 3.2: STATUS/NEEDINIT, INIT, STATUS/READY, then POSDATA and GETFORCE back to back
    /// with no STATUS between, READY again after, and EXIT at the end.
    func testConsolidatedOrderAsIPISendsIt() throws {
        let field = HarmonicForceField(atoms: 2)
        let (server, driver) = start(field)
        XCTAssertEqual(server.status(), .needInit)
        server.send(server.initMessage(bead: 3, text: " "))
        XCTAssertEqual(server.status(), .ready)
        for step in 1...3 {
            let p = positions.map { $0 * Double(step) }
            server.send(server.posData(cell: cell, positions: p) + server.header(.getForce))
            XCTAssertEqual(server.receiveForces(atoms: 2), [expected(cell, p, call: step)])
            XCTAssertEqual(server.status(), .ready)
        }
        server.send(server.header(.exit))
        XCTAssertEqual(try XCTUnwrap(driver.wait()).get(), .exit)
        XCTAssertEqual(field.calls.count, 3)
        XCTAssertEqual(field.calls[0], [IPIStructure(cell: cell, positions: positions)], "the inverse cell is not used")
    }

    /// ASE's SocketServer: STATUS before and after POSDATA, HAVEDATA while the result waits;
    /// it never sends EXIT, it closes the socket.
    func testClassicOrderAsASESendsIt() throws {
        let field = HarmonicForceField(atoms: 2)
        let (server, driver) = start(field)
        XCTAssertEqual(server.status(), .needInit)
        // ASE's INIT: bead 0, one NUL byte of text.
        server.send(server.header(.initialize) + server.int32(0) + server.int32(1) + [0])
        XCTAssertEqual(server.status(), .ready)
        server.send(server.posData(cell: cell, positions: positions))
        XCTAssertEqual(server.status(), .haveData)
        XCTAssertEqual(server.status(), .haveData, "still waiting to be collected")
        server.send(server.header(.getForce))
        XCTAssertEqual(server.receiveForces(atoms: 2), [expected(cell, positions, call: 1)])
        XCTAssertEqual(server.status(), .ready)
        server.close()
        XCTAssertEqual(try XCTUnwrap(driver.wait()).get(), .closed)
    }

    /// `batch_size:B` in INIT's text: one POSDATA carries B cells and B × 3N positions, one
    /// FORCEREADY returns B energies, forces, virials and extras, and the force field sees the B
    /// structures in one call.
    func testBatchedMode() throws {
        let field = HarmonicForceField(atoms: 2)
        let (server, driver) = start(field)
        XCTAssertEqual(server.status(), .needInit)
        server.send(server.initMessage(text: "  batch_size:3"))
        XCTAssertEqual(server.status(), .ready)
        let cells = (0..<3).map { b in cell.map { $0 + Double(b) } }
        let ps = (0..<3).map { b in positions.map { $0 - Double(b) } }
        server.send(server.batchedPosData(cells: cells, positions: ps) + server.header(.getForce))
        let results = try XCTUnwrap(server.receiveForces(atoms: 2, batch: 3))
        XCTAssertEqual(results, (0..<3).map { expected(cells[$0], ps[$0], call: 1) })
        XCTAssertEqual(field.calls.count, 1)
        XCTAssertEqual(field.calls[0].count, 3)
        server.send(server.header(.exit))
        XCTAssertEqual(try XCTUnwrap(driver.wait()).get(), .exit)
    }

    func testBatchSizeParsing() throws {
        XCTAssertEqual(try IPIClient.batchSize(inInit: " "), 1)
        XCTAssertEqual(try IPIClient.batchSize(inInit: "\0"), 1)
        XCTAssertEqual(try IPIClient.batchSize(inInit: "  batch_size:8"), 8)
        XCTAssertEqual(try IPIClient.batchSize(inInit: "mode:x, batch_size: 4 "), 4)
        for bad in ["batch_size:0", "batch_size:-2", "batch_size:four", "batch_size:100000"] {
            XCTAssertThrowsError(try IPIClient.batchSize(inInit: bad), bad)
        }
    }

    func failure(_ driver: DriverThread) throws -> DriverError {
        switch try XCTUnwrap(driver.wait(), "the driver hangs") {
        case .success(let ending): XCTFail("the driver ended with \(ending) instead of an error"); throw XCTSkip()
        case .failure(let error): return try XCTUnwrap(error as? DriverError, "\(error)")
        }
    }

    func testUnknownHeaderIsAnError() throws {
        let (server, driver) = start(HarmonicForceField(atoms: 2))
        server.send(Array("HELLO WORLD!".utf8))
        let error = try failure(driver)
        XCTAssertTrue(error.description.contains("unknown message header \"HELLO WORLD!\""), error.description)
    }

    func testAtomCountOtherThanTheTemplatesIsAnError() throws {
        for n in [3, 0, -5, Int(Int32.max)] {
            let (server, driver) = start(HarmonicForceField(atoms: 2))
            server.send(server.initMessage())
            // Only the header, cell and count: the driver must refuse before reading (or
            // allocating for) the positions.
            server.send(server.header(.posData) + server.doubles(cell) + server.doubles(cell) + server.int32(n))
            let error = try failure(driver)
            XCTAssertEqual(error, .badStructure("the server sent a structure of \(n) atoms but the template has 2: "
                + "give --template a structure with the same atoms, in the same order, as the simulation"))
        }
    }

    func testAbsurdInitLengthIsAnError() throws {
        let (server, driver) = start(HarmonicForceField(atoms: 2))
        server.send(server.header(.initialize) + server.int32(0) + server.int32(Int(Int32.max)))
        XCTAssertTrue(try failure(driver).description.contains("INIT announces a text of 2147483647 bytes"))
    }

    func testConnectionClosedInsideAMessageIsAnError() throws {
        let (server, driver) = start(HarmonicForceField(atoms: 2))
        server.send(server.initMessage())
        server.send(Array(server.posData(cell: cell, positions: positions).prefix(12 + 144 + 4 + 8)))
        server.close()
        XCTAssertEqual(try failure(driver), .truncated("POSDATA's positions"))
    }

    func testGetForceBeforePositionsIsAnError() throws {
        let (server, driver) = start(HarmonicForceField(atoms: 2))
        server.send(server.initMessage() + server.header(.getForce))
        XCTAssertEqual(try failure(driver), .protocolViolation("GETFORCE before any POSDATA"))
    }

    /// The server goes away while the driver computes: the FORCEREADY write fails with EPIPE,
    /// reported as an error, and the test process (the driver) is not killed by SIGPIPE.
    func testWritingToAClosedConnectionIsAnErrorNotASignal() throws {
        let (server, driver) = start(HarmonicForceField(atoms: 2))
        server.send(server.initMessage() + server.posData(cell: cell, positions: positions) + server.header(.getForce))
        server.close()
        let error = try failure(driver)
        guard case .socket(let message) = error else { return XCTFail("\(error)") }
        XCTAssertTrue(message.contains("writing to the server"), message)
    }

    /// The driver may start before the server: connecting retries until the socket appears, and
    /// gives up with a clear error after the timeout when nobody ever listens.
    func testConnectRetriesUntilTheServerListensAndTimesOut() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ipi-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { unlink(path) }
        let t0 = Date()
        XCTAssertThrowsError(try IPISocket.connect(to: .unix(path: path), timeout: 0.3)) { error in
            guard case .connectTimeout = error as? DriverError else { return XCTFail("\(error)") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5)

        let listener = try UnixListener(path: path, after: 0.4)
        let socket = try IPISocket.connect(to: .unix(path: path), timeout: 20)
        let server = try XCTUnwrap(listener.accepted())
        server.send(server.header(.status))
        XCTAssertEqual(try socket.read(12, what: "test").flatMap(IPIHeader.init(bytes:)), .status)
    }

    func testInetAddressParsing() throws {
        XCTAssertEqual(try IPIAddress.inet("localhost:31415"), .inet(host: "localhost", port: 31415))
        XCTAssertEqual(try IPIAddress.inet("[::1]:8000"), .inet(host: "::1", port: 8000))
        for bad in ["localhost", "localhost:0", "localhost:70000", ":31415", "host:port"] {
            XCTAssertThrowsError(try IPIAddress.inet(bad), bad)
        }
    }
}

/// A unix-socket listener that starts listening after a delay, on a background thread.
final class UnixListener: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var client: Int32 = -1
    private var listener: Int32 = -1

    init(path: String, after delay: Double) throws {
        let thread = Thread { [self] in
            Thread.sleep(forTimeInterval: delay)
            unlink(path)  // a previous listener's socket file
            listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (k, b) in path.utf8.enumerated() { raw[k] = b }
            }
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if bound == 0 && listen(listener, 1) == 0 { client = accept(listener, nil, nil) }
            done.signal()
        }
        thread.start()
    }

    deinit { if listener >= 0 { _ = close(listener) } }

    func accepted(timeout: Double = 20) -> FakeIPIServer? {
        guard done.wait(timeout: .now() + timeout) == .success, client >= 0 else { return nil }
        return FakeIPIServer(fd: client)
    }
}
