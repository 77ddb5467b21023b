import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LoremGPU
import LoremIO
import LoremModel
import LoremEngineCore
import LoremReference

/// `lorem-gpu bench`: energy+forces throughput on standard systems or on an extxyz file.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time energy+forces evaluations on standard systems or on the frames of an extxyz file.",
        discussion: """
            Systems: rocksalt NaCl supercells (--cells), liquid-density water boxes (--water), non-periodic water clusters (--water-clusters) and batches of small gas-phase molecules evaluated as one engine batch (--molecules), or every frame of an extxyz file (--structures). Without any of these: --cells 2,3,4 --water 64,512 --water-clusters 36 --molecules 64.

            Models: --model takes a lorem-train checkpoint folder, 'default' (the built-in model, models/default), 'random' (lorem-jax's default hyper-parameters: cutoff 5, max_degree 6, 128 features, … with random weights), 'random-mp1' (the same with one message-passing step), 'random-bec' (LoremBEC's default hyper-parameters, random weights) or 'random-bec-energy' (the same model without its Born-charge heads, to time them); repeat it to benchmark several. Without --model: default, then random.

            Each system is evaluated once to warm up (program builds, buffers), then --repeats times; the table gives the median, min and max wall time per energy+forces evaluation, the CPU time per evaluation (user + system, all threads; less sensitive than wall time to other work on the machine), atoms per second, µs per atom, the peak resident memory of the process so far (getrusage; with a CPU OpenCL device such as PoCL the device buffers are host memory and included) and, for the OpenCL engine, the peak device memory held during the timed evaluations (live buffers plus freed ones kept for reuse by the next evaluation). One extra, profiled evaluation per system gives the per-stage breakdown, the device time per kernel (OpenCL engine; each launch waits for its event there) and the device buffers that evaluation made which were live at its memory peak, by allocation site (the file and line that made them, or their name), with the stage then running. --json writes all numbers and, for --structures, the energy (with the checkpoint's elemental baseline, as predict reports it) and forces of the last evaluation of every frame. --save-structures writes the chosen systems as extxyz and exits.
            """)

    @Option(name: .long, help: "Checkpoint folder, 'default' (built-in model) or 'random' (lorem-jax default hyper-parameters, random weights); repeatable (default: default and random).")
    var model: [String] = []

    @OptionGroup var engineOptions: EngineOptions

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Rocksalt NaCl supercells: repetitions n (n³·8 atoms), separated by commas or spaces.", valueName: "n"))
    var cells: [SizeListArgument] = []

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Periodic water boxes at liquid density: molecules per box (3 atoms each), separated by commas or spaces.", valueName: "n"))
    var water: [SizeListArgument] = []

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Non-periodic water clusters: molecules per cluster, separated by commas or spaces (36 = 108 atoms).", valueName: "n"))
    var waterClusters: [SizeListArgument] = []

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Batches of small gas-phase molecules evaluated as one engine batch: molecules per batch, separated by commas or spaces.", valueName: "n"))
    var molecules: [SizeListArgument] = []

    @Option(name: .long, help: "Benchmark every frame of this extxyz file (each frame its own system).")
    var structures: String?

    @Option(name: .long, help: "Timed evaluations per system (after one warm-up evaluation).")
    var repeats: Int = 3

    @Flag(name: .long, help: "Skip the extra profiled evaluation per system (no stage breakdown).")
    var noStages = false

    @Option(name: .long, help: "Write the results as JSON to this file.")
    var json: String?

    @Option(name: .long, help: "Write the chosen systems as extxyz to this file (info 'system' names each) and exit without timing.")
    var saveStructures: String?

    @Flag(name: .shortAndLong, help: "No progress line on stderr.")
    var quiet = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
    }

    func run() throws {
        let systems = try makeSystems()
        if let saveStructures {
            try Self.save(systems, to: saveStructures)
            print("wrote \(systems.reduce(0) { $0 + $1.structures.count }) frame(s) of \(systems.count) system(s) to \(saveStructures)")
            return
        }
        let loadAtStart = Self.loadAverage()
        var rows: [[String: Any]] = []
        var engines: [String] = []
        for name in model.isEmpty ? ["default", "random"] : model {
            let (trained, modelDescription) = try Self.loadModel(name)
            let (engine, engineDescription) = try engineOptions.makeEngine(trained)
            engines.append(engineDescription)
            print("\nmodel: \(modelDescription)\nengine: \(engineDescription)")
            print(BenchRow.header)
            var modelRows: [BenchRow] = []
            for system in systems {
                let row = try measure(system, engine: engine, model: trained, modelName: name)
                clearProgress()
                print(row.formatted)
                modelRows.append(row)
                var entry = row.json
                entry["model"] = name
                entry["model_description"] = modelDescription
                entry["engine"] = engineDescription
                rows.append(entry)
            }
            if let largest = modelRows.max(by: { $0.atoms < $1.atoms }), !largest.stages.isEmpty {
                print("stage breakdown of \(largest.system) (one profiled evaluation; the queue is synchronised per stage):")
                for (stage, ms) in largest.stages {
                    print("  " + stage.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%9.1f ms", ms))
                }
                let total = largest.kernels.reduce(0) { $0 + $1.ms }
                print(String(format: "kernels of the same evaluation, by device time (%.1f ms in all; clFFT's transforms timed on the host, queue drained around each):", total))
                for (kernel, ms, calls) in largest.kernels.prefix(15) {
                    print("  " + kernel.padding(toLength: 34, withPad: " ", startingAt: 0)
                        + String(format: "%9.1f ms %5.1f%% %5d launches", ms, 100 * ms / max(total, 1e-9), calls))
                }
                if let memory = largest.memoryAtPeak, memory.total > 0 {
                    print(String(format: "device buffers made by that evaluation at their peak, during \"%@\" (%.0f MiB; weights and "
                        + "buffers kept for reuse not included), by allocation site:", memory.stage, Double(memory.total) / 1048576))
                    for s in memory.sites.prefix(15) {
                        print("  " + s.site + String(repeating: " ", count: max(1, 72 - s.site.count))
                            + String(format: "%9.1f MiB %5.1f%% %5d buffers", Double(s.bytes) / 1048576,
                                     100 * Double(s.bytes) / Double(memory.total), s.buffers))
                    }
                }
            }
        }
        if let json {
            let doc: [String: Any] = [
                "engines": engines, "precision": engineOptions.precision.rawValue, "long_range": engineOptions.longRange.rawValue,
                "repeats": repeats, "machine": Self.machine(), "device_memory": "peak_device_mib: device bytes held during the timed evaluations, live buffers plus those kept for reuse; peak_live_device_mib: live buffers only",
                "load_average_1min": ["start": loadAtStart, "end": Self.loadAverage()],
                "results": rows,
            ]
            try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys])
                .write(to: URL(fileURLWithPath: json))
        }
    }

    // MARK: measuring

    private func measure(_ system: BenchSystem, engine: any LoremEngine, model: TrainedModel, modelName: String) throws -> BenchRow {
        let baseline = try Self.baselineEnergies(system, model: model)
        progress(system, "warm-up")
        var results = try Self.evaluate(engine, system)
        var times: [Double] = []
        let ledger = (engine as? any DeviceMemoryReporting)?.deviceMemory
        ledger?.resetPeak()
        let cpuStart = Self.cpuSeconds()
        for r in 0..<repeats {
            progress(system, "evaluation \(r + 1)/\(repeats)")
            let t0 = DispatchTime.now().uptimeNanoseconds
            results = try Self.evaluate(engine, system)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let cpuMilliseconds = (Self.cpuSeconds() - cpuStart) * 1000 / Double(repeats)
        let peakDevice = ledger.map { Double($0.peakReservedBytes) / (1024 * 1024) }
        let peakLive = ledger.map { Double($0.peakBytes) / (1024 * 1024) }
        var stages: [(String, Double)] = []
        var kernels: [(String, Double, Int)] = []
        var memory: BenchRow.MemoryAtPeak? = nil
        if !noStages, let profiled = engine as? StageProfiling {
            progress(system, "profiled evaluation")
            profiled.profiling = true
            ledger?.tracksSites = true
            ledger?.resetPeak()
            defer {
                profiled.profiling = false
                ledger?.tracksSites = false
            }
            _ = try Self.evaluate(engine, system)
            stages = profiled.lastStageTimes.map { ($0.stage, $0.seconds * 1000) }
            kernels = profiled.lastKernelTimes.map { ($0.kernel, $0.seconds * 1000, $0.calls) }
            if let peak = ledger?.peakSites {
                // The ledger holds the last stage finished at the peak; the peak fell in the next one.
                let names = stages.map(\.0)
                let next = peak.stage.isEmpty ? 0 : (names.firstIndex(of: peak.stage).map { $0 + 1 } ?? names.count)
                memory = BenchRow.MemoryAtPeak(stage: next < names.count ? names[next] : "after the last stage",
                                               sites: peak.sites)
            }
        }
        progress(system, "neighbour list and k-vectors for the table")
        let (pairs, kVectors, meshPoints) = try counts(system, config: model.config)
        var row = BenchRow(system: system.name, kind: system.kind, structures: system.structures.count, atoms: system.atoms,
                           periodic: system.periodic, pairs: pairs, kVectors: kVectors, meshPoints: meshPoints, times: times,
                           cpuMilliseconds: cpuMilliseconds, peakRSSMiB: Self.peakRSSMiB(), peakDeviceMiB: peakDevice, peakLiveDeviceMiB: peakLive,
                           stages: stages, kernels: kernels, memoryAtPeak: memory)
        if system.kind == "file" {
            row.energies = zip(results, baseline).map { $0.energy + $1 }
            row.modelEnergies = results.map(\.energy)
            row.forces = results.map { ($0.forces ?? []).map { [$0.x, $0.y, $0.z] } }
        }
        return row
    }

    static func evaluate(_ engine: any LoremEngine, _ system: BenchSystem) throws -> [EngineResult] {
        system.structures.count == 1
            ? [try engine.evaluate(system.structures[0], forces: true)]
            : try engine.evaluate(batch: system.structures, forces: true)
    }

    /// Pairs of the model's neighbour list (r < cutoff, both directions), and the k-vectors (exact
    /// Ewald, half space as evaluated) or mesh points (PME) of the periodic structures under the
    /// chosen `--long-range` method, summed over the system's structures (nil where none uses it).
    private func counts(_ system: BenchSystem, config: LoremConfig) throws -> (pairs: Int, kVectors: Int?, meshPoints: Int?) {
        var pairs = 0, kVectors: Int? = nil, meshPoints: Int? = nil
        for s in system.structures {
            let list = try NeighborList.build(positions: s.positions, cell: s.cell, pbc: s.pbc, cutoff: config.cutoff)
            pairs += list.count
            guard config.longRange, s.periodicDimensions > 0 else { continue }
            let ewald = try EwaldSummation(positions: s.positions, cell: s.cell, pbc: s.pbc, cutoff: config.cutoff, pairs: list,
                                           reciprocal: engineOptions.method.reciprocal(atoms: s.count))
            if let mesh = ewald.pmeMesh {
                meshPoints = (meshPoints ?? 0) + mesh.size.x * mesh.size.y * mesh.size.z
            } else {
                kVectors = (kVectors ?? 0) + ewald.kVectorCount
            }
        }
        return (pairs, kVectors, meshPoints)
    }

    /// The elemental baseline of each structure (0 when the model has none, as random models).
    static func baselineEnergies(_ system: BenchSystem, model: TrainedModel) throws -> [Double] {
        try system.structures.map { s in
            guard !model.baseline.isEmpty else { return 0 }
            return try s.numbers.reduce(0.0) { sum, z in
                guard let e = model.baseline[z] else {
                    throw ValidationError("\(system.name): element \(Elements.symbol(for: z) ?? "Z=\(z)") is not in the model's baseline (the model knows \(model.knownElements))")
                }
                return sum + e
            }
        }
    }

    // MARK: systems and models

    func makeSystems() throws -> [BenchSystem] {
        let none = [cells, water, waterClusters, molecules].allSatisfy(\.isEmpty) && structures == nil
        var systems: [BenchSystem] = []
        for n in none ? [2, 3, 4] : cells.flattened {
            systems.append(BenchSystem(kind: "rocksalt", name: "NaCl rocksalt \(n)x\(n)x\(n)",
                                       structures: [BenchSystems.rocksalt(repetitions: n)]))
        }
        for n in none ? [64, 512] : water.flattened {
            systems.append(BenchSystem(kind: "water", name: "water box \(n) molecules",
                                       structures: [BenchSystems.waterBox(molecules: n)]))
        }
        for n in none ? [36] : waterClusters.flattened {
            systems.append(BenchSystem(kind: "water-cluster", name: "water cluster \(n) molecules",
                                       structures: [BenchSystems.waterCluster(molecules: n)]))
        }
        for n in none ? [64] : molecules.flattened {
            systems.append(BenchSystem(kind: "molecules", name: "batch of \(n) small molecules",
                                       structures: BenchSystems.moleculeBatch(count: n)))
        }
        if let structures {
            for (k, s) in try ExtXYZ.read(path: structures).enumerated() {
                let name: String
                if case .string(let given)? = s.info(named: "system") { name = given } else { name = "\(structures)[\(k)]" }
                systems.append(BenchSystem(kind: "file", name: name, structures: [s]))
            }
        }
        guard !systems.isEmpty else { throw ValidationError("no systems to benchmark") }
        return systems
    }

    /// 'default', 'random' or a checkpoint path, with a description for the table.
    static func loadModel(_ name: String) throws -> (TrainedModel, String) {
        switch name {
        case "default":
            return (try DefaultModel.load(), DefaultModel.name)
        case "random":
            let c = LoremConfig()
            return (TrainedModel(config: c, weights: LoremWeights.random(config: c, seed: 1), baseline: [:], directory: "(random)"),
                    "lorem-jax default hyper-parameters (cutoff 5, max_degree 6, 128 features, 32 radial), random weights")
        case "random-mp1":
            // The issue's message-passing size: lorem-jax's defaults with one iteration, whose
            // pair-sized work ([P, K·d] = 4,096 values a pair) runs in chunks.
            var c = LoremConfig()
            c.numMessagePassing = 1
            return (TrainedModel(config: c, weights: LoremWeights.random(config: c, seed: 1), baseline: [:], directory: "(random)"),
                    "lorem-jax default hyper-parameters with one message-passing step (T = 1), random weights")
        case "random-bec", "random-bec-energy":
            // LoremBEC's default hyper-parameters; -energy drops the tensor heads and keeps every
            // other weight (the heads are read last), so the two time the heads' cost.
            var c = LoremConfig.bornEffectiveChargeDefaults()
            c.bornEffectiveCharges = name == "random-bec"
            return (TrainedModel(config: c, weights: LoremWeights.random(config: c, seed: 1), baseline: [:], directory: "(random)"),
                    "LoremBEC default hyper-parameters, random weights" + (name == "random-bec" ? "" : ", without the Born-charge heads"))
        default:
            return (try TrainedModel.load(path: name), name)
        }
    }

    /// The systems as extxyz frames; info `system` names each, `batch_index` numbers batch members.
    static func save(_ systems: [BenchSystem], to path: String) throws {
        var frames: [Structure] = []
        for system in systems {
            for (k, structure) in system.structures.enumerated() {
                var s = structure
                s.setInfo(key: "system", value: .string(system.name))
                if system.structures.count > 1 { s.setInfo(key: "batch_index", value: .int(k)) }
                frames.append(s)
            }
        }
        try ExtXYZ.write(frames, to: path)
    }

    // MARK: environment

    /// Peak resident set size of this process so far, in MiB (getrusage; Linux reports KiB).
    static func peakRSSMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / (1024 * 1024)
        #endif
    }

    /// User + system CPU time of this process so far, all threads (the OpenCL runtime's included).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The 1-minute load average (other work on the machine skews the timings).
    static func loadAverage() -> Double {
        var load = [0.0, 0.0, 0.0]
        return getloadavg(&load, 3) > 0 ? load[0] : -1
    }

    static func machine() -> [String: Any] {
        var info: [String: Any] = ["cores": ProcessInfo.processInfo.activeProcessorCount,
                                   "memory_gib": Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824,
                                   "os": ProcessInfo.processInfo.operatingSystemVersionString]
        if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let value = line.split(separator: ":", maxSplits: 1).last {
            info["cpu"] = value.trimmingCharacters(in: .whitespaces)
        }
        return info
    }

    private func progress(_ system: BenchSystem, _ what: String) {
        guard !quiet else { return }
        let line = "\(system.name) (\(system.atoms) atoms): \(what)"
        FileHandle.standardError.write("\r\(line.padding(toLength: 78, withPad: " ", startingAt: 0))".data(using: .utf8)!)
    }

    private func clearProgress() {
        guard !quiet else { return }
        FileHandle.standardError.write("\r\(String(repeating: " ", count: 78))\r".data(using: .utf8)!)
    }
}

/// One line of the bench table.
struct BenchRow {
    let system: String, kind: String
    let structures: Int, atoms: Int
    let periodic: Bool
    let pairs: Int
    let kVectors: Int?
    let meshPoints: Int?
    /// Wall times of the timed evaluations, ms.
    let times: [Double]
    /// CPU time (user + system, all threads) per timed evaluation, ms: less sensitive than wall
    /// time to other work on a shared machine.
    let cpuMilliseconds: Double
    let peakRSSMiB: Double
    /// Peak device bytes held during the timed evaluations, live or kept for reuse (OpenCL engine).
    let peakDeviceMiB: Double?
    /// Peak bytes in live device buffers alone.
    let peakLiveDeviceMiB: Double?
    /// Stage → ms of the profiled evaluation.
    let stages: [(String, Double)]
    /// Device time per kernel in the profiled evaluation: (kernel, ms, launches).
    let kernels: [(kernel: String, ms: Double, calls: Int)]
    /// The profiled evaluation's buffers live when they were largest together, by allocation site
    /// (`CLMemoryLedger.peakSites`), and the stage then running.
    struct MemoryAtPeak {
        let stage: String
        let sites: [(site: String, bytes: Int, buffers: Int)]
        var total: Int { sites.reduce(0) { $0 + $1.bytes } }
    }
    let memoryAtPeak: MemoryAtPeak?
    var energies: [Double]? = nil
    var modelEnergies: [Double]? = nil
    var forces: [[[Double]]]? = nil

    var sorted: [Double] { times.sorted() }
    var median: Double {
        let s = sorted
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }
    var atomsPerSecond: Double { Double(atoms) / (median / 1000) }
    var microsecondsPerAtom: Double { median * 1000 / Double(atoms) }

    static let header = "system                              atoms    pairs      k/mesh   median ms    min ms     max ms     CPU ms     atoms/s    µs/atom  peak RSS MiB  device MiB"

    var formatted: String {
        let k = kVectors.map { "\($0)k" } ?? meshPoints.map { "\($0)m" } ?? "-"
        return system.padding(toLength: 34, withPad: " ", startingAt: 0)
            + String(format: " %7d  %9d  ", atoms, pairs) + String(repeating: " ", count: max(0, 8 - k.count)) + k
            + String(format: "  %10.1f  %9.1f  %9.1f  %9.1f  %10.0f  %9.1f  %8.0f", median, sorted.first!, sorted.last!,
                     cpuMilliseconds, atomsPerSecond, microsecondsPerAtom, peakRSSMiB)
            + (peakDeviceMiB.map { String(format: "  %10.0f", $0) } ?? "           -")
    }

    var json: [String: Any] {
        var d: [String: Any] = [
            "system": system, "kind": kind, "structures": structures, "atoms": atoms, "periodic": periodic, "pairs": pairs,
            "median_ms": median, "min_ms": sorted.first!, "max_ms": sorted.last!, "times_ms": times, "cpu_ms_per_eval": cpuMilliseconds,
            "atoms_per_s": atomsPerSecond, "us_per_atom": microsecondsPerAtom, "peak_rss_mib": peakRSSMiB,
        ]
        if let kVectors { d["k_vectors"] = kVectors }
        if let meshPoints { d["mesh_points"] = meshPoints }
        if let peakDeviceMiB { d["peak_device_mib"] = peakDeviceMiB }
        if let peakLiveDeviceMiB { d["peak_live_device_mib"] = peakLiveDeviceMiB }
        if !stages.isEmpty { d["stages"] = stages.map { ["stage": $0.0, "ms": $0.1] as [String: Any] } }
        if !kernels.isEmpty { d["kernels"] = kernels.map { ["kernel": $0.kernel, "ms": $0.ms, "launches": $0.calls] as [String: Any] } }
        if let memoryAtPeak {
            d["memory_at_peak"] = [
                "stage": memoryAtPeak.stage, "mib": Double(memoryAtPeak.total) / 1048576,
                "sites": memoryAtPeak.sites.map { ["site": $0.site, "mib": Double($0.bytes) / 1048576, "buffers": $0.buffers] as [String: Any] },
            ] as [String: Any]
        }
        if let energies { d["energies"] = energies }
        if let modelEnergies { d["model_energies"] = modelEnergies }
        if let forces { d["forces"] = forces }
        return d
    }
}
