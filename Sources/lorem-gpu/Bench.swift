import ArgumentParser
import Foundation
import LoremGPU
import LoremIO
import LoremModel
import LoremReference

/// `lorem-gpu bench`: energy+forces throughput on standard systems.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time energy+forces evaluations on rocksalt NaCl supercells.",
        discussion: "Without --model, uses lorem-jax's default hyper-parameters (cutoff 5, max_degree 6, 128 features, …) with random weights. Each size is evaluated once to warm up (program builds, caches), then --repeats times; the table reports the median, min and max wall time per evaluation and atoms per second. --json writes the same numbers.")

    @Option(name: .long, help: "Checkpoint to benchmark (default: lorem-jax default hyper-parameters, random weights).")
    var model: String?

    @OptionGroup var engineOptions: EngineOptions

    @Option(name: .long, help: "Rocksalt supercell repetitions n (n³·8 atoms), comma separated.")
    var cells: String = "2,3,4"

    @Option(name: .long, help: "Timed evaluations per size.")
    var repeats: Int = 3

    @Option(name: .long, help: "Write the results as JSON to this file.")
    var json: String?

    func run() throws {
        let (config, weights) = try loadModel()
        let trained = TrainedModel(config: config, weights: weights, baseline: [:], directory: model ?? "(random)")
        let (engine, description) = try engineOptions.makeEngine(trained)
        print("engine: \(description)")
        print("model: \(model ?? "lorem-jax default hyper-parameters, random weights")")
        print("atoms   pairs     median ms    min ms       max ms       atoms/s")
        var rows: [[String: Any]] = []
        for n in try parseCells() {
            let s = Self.rocksalt(repetitions: n)
            _ = try engine.evaluate(s, forces: true)
            var times: [Double] = []
            for _ in 0..<repeats {
                let t0 = Date()
                _ = try engine.evaluate(s, forces: true)
                times.append(Date().timeIntervalSince(t0) * 1000)
            }
            times.sort()
            let median = times[times.count / 2]
            let pairs = try NeighborList.build(positions: s.positions, cell: s.cell, pbc: s.pbc, cutoff: config.cutoff).count
            print(String(format: "%-7d %-9d %-12.1f %-12.1f %-12.1f %.0f", s.count, pairs, median, times[0], times.last!,
                         Double(s.count) / (median / 1000)))
            rows.append(["atoms": s.count, "pairs": pairs, "median_ms": median, "min_ms": times[0], "max_ms": times.last!,
                         "atoms_per_s": Double(s.count) / (median / 1000)])
        }
        if let profiled = try stageBreakdown(engine, largest: try parseCells().max()!) {
            print("\nstage breakdown (one profiled evaluation of the largest system; the queue is synchronised per stage):")
            for (stage, t) in profiled {
                print("  " + stage.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%9.1f ms", t * 1000))
            }
            rows.append(["stages": Dictionary(uniqueKeysWithValues: profiled.map { ($0.stage, $0.seconds * 1000) })])
        }
        if let json {
            let doc: [String: Any] = ["engine": description, "model": model ?? "default-random", "system": "rocksalt NaCl",
                                      "results": rows]
            try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys])
                .write(to: URL(fileURLWithPath: json))
        }
    }

    /// Per-stage times of one extra evaluation, for engines that can report them.
    private func stageBreakdown(_ engine: any LoremEngine, largest n: Int) throws -> [(stage: String, seconds: Double)]? {
        guard let profiled = engine as? StageProfiling else { return nil }
        profiled.profiling = true
        defer { profiled.profiling = false }
        _ = try engine.evaluate(Self.rocksalt(repetitions: n), forces: true)
        return profiled.lastStageTimes
    }

    private func loadModel() throws -> (LoremConfig, LoremWeights) {
        if let model {
            let t = try TrainedModel.load(path: model)
            return (t.config, t.weights)
        }
        let c = LoremConfig()
        return (c, LoremWeights.random(config: c, seed: 1))
    }

    private func parseCells() throws -> [Int] {
        let values = cells.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--cells wants positive integers, e.g. 2,3,4") }
        return values
    }

    /// n×n×n conventional rocksalt cells (a = 5.64 Å), every atom displaced by a fixed pattern so
    /// no symmetry makes work vanish.
    static func rocksalt(repetitions n: Int) -> Structure {
        let a = 5.64
        let basis: [(SIMD3<Double>, Int)] = [
            (SIMD3(0, 0, 0), 11), (SIMD3(0.5, 0.5, 0), 11), (SIMD3(0.5, 0, 0.5), 11), (SIMD3(0, 0.5, 0.5), 11),
            (SIMD3(0.5, 0, 0), 17), (SIMD3(0, 0.5, 0), 17), (SIMD3(0, 0, 0.5), 17), (SIMD3(0.5, 0.5, 0.5), 17),
        ]
        var rng = SplitMix64(seed: 7)
        var positions: [SIMD3<Double>] = [], numbers: [Int] = []
        for i in 0..<n { for j in 0..<n { for k in 0..<n { for (b, z) in basis {
            let shift = SIMD3(rng.normal(), rng.normal(), rng.normal()) * 0.05
            positions.append(a * (SIMD3(Double(i), Double(j), Double(k)) + b) + shift)
            numbers.append(z)
        } } } }
        let L = a * Double(n)
        return Structure(numbers: numbers, positions: positions,
                         cell: [SIMD3(L, 0, 0), SIMD3(0, L, 0), SIMD3(0, 0, L)], pbc: [true, true, true])
    }
}
