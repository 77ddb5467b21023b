import ArgumentParser
import Foundation
import LoremDriver
import LoremIO
import LoremModel

/// `lorem-gpu driver`: the model as an i-PI client (force provider). i-PI (or ASE's socket
/// calculator, or lorem_gpu's Python calculator) is the server that integrates the motion; this
/// process keeps one engine alive across steps and answers each POSDATA with energy, forces and
/// virial.
struct Driver: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve energies and forces to i-PI (or ASE's socket calculator) over its socket protocol.",
        discussion: """
            Connects to a server listening on a unix socket (<socket-prefix><NAME>, i-PI's `<ffsocket mode='unix'>` with `<address>NAME</address>`) or on HOST:PORT (`mode='inet'`), and evaluates every structure it sends until it sends EXIT or closes the connection (exit status 0). Species and periodicity come from --template (i-PI sends neither): the structures must have its atoms in its order. A template without pbc is a molecule: the cell the server sends is ignored and the long range is the direct 1/r sum. When INIT carries `batch_size:B` (i-PI's `<batch_size>`), the B structures of each message are evaluated as one batch. Energies include the model's elemental baseline, as `predict` reports them.
            """)

    @Option(name: .long, help: "lorem-train checkpoint folder (containing model/) or the model/ folder itself (default: the built-in model).")
    var model: String?

    @Option(name: .long, help: "Structure (extxyz; the first frame) giving the species, their order and the pbc of the simulated system.")
    var template: String

    @Option(name: .long, help: "Connect to the unix socket <socket-prefix><NAME> (i-PI's mode='unix' address).")
    var unix: String?

    @Option(name: .long, help: "Connect to HOST:PORT over TCP (i-PI's mode='inet').")
    var address: String?

    @Option(name: .long, help: "Prefix of the unix socket path (i-PI's default).")
    var socketPrefix = "/tmp/ipi_"

    @OptionGroup var engineOptions: EngineOptions

    @Option(name: .long, help: "Seconds to keep trying to connect while the server is not listening yet.")
    var connectTimeout = 60.0

    @Flag(name: .shortAndLong, help: "No progress lines on stderr (errors are still printed).")
    var quiet = false

    func validate() throws {
        guard (unix == nil) != (address == nil) else { throw ValidationError("give exactly one of --unix NAME and --address HOST:PORT") }
        if let unix, unix.isEmpty { throw ValidationError("--unix needs a socket name") }
        guard connectTimeout >= 0, connectTimeout.isFinite else { throw ValidationError("--connect-timeout must be a number of seconds ≥ 0") }
    }

    var socketAddress: IPIAddress {
        get throws { if let unix { return .unix(path: socketPrefix + unix) } else { return try IPIAddress.inet(address!) } }
    }

    func run() throws {
        let target = try socketAddress
        let frames = try ExtXYZ.read(path: template)
        guard let first = frames.first else { throw DriverError.badStructure("template \(template) holds no structure") }
        let trained = try DefaultModel.resolve(model)
        let (engine, engineDescription) = try engineOptions.makeEngine(trained)
        let forceField = try LoremForceField(model: trained, engine: engine, template: first)
        say("engine: \(engineDescription); template \(template): \(first.count) atoms, "
            + (first.periodicDimensions == 0 ? "molecule" : "\(first.periodicDimensions)D-periodic")
            + (trained.config.longRange ? ", long range \(engineOptions.method.summary(for: first))" : ""))
        say("driver: connecting to \(target)")
        let socket = try IPISocket.connect(to: target, timeout: connectTimeout)
        say("driver: connected")
        let client = IPIClient(socket: socket, forceField: forceField)
        if !quiet { client.log = { say("driver: \($0)") } }
        let ending = try client.run()
        say("driver: " + (ending == .exit ? "the server sent EXIT" : "the server closed the connection") + "; " + client.progressLine())
    }

    private func say(_ line: String) {
        if !quiet { FileHandle.standardError.write((line + "\n").data(using: .utf8)!) }
    }
}
