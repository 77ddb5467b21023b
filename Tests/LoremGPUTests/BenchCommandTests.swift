import Foundation
import XCTest
import LoremIO
@testable import lorem_gpu

/// `bench`: its system builders (rocksalt, water boxes and clusters, small-molecule batches), its
/// JSON with the numbers it printed, --structures with the energies and forces of the last
/// evaluation, --save-structures, and the built-in models.
final class BenchCommandTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func runBench(_ args: [String]) throws -> [String: Any] {
        let json = dir.appendingPathComponent("bench.json")
        let command = try Bench.parseAsRoot(args + ["-q", "--json", json.path]) as! Bench
        try command.run()
        return try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
    }

    func testRocksaltBuilder() {
        let s = BenchSystems.rocksalt(repetitions: 2)
        XCTAssertEqual(s.count, 64)
        XCTAssertEqual(s.numbers.filter { $0 == 11 }.count, 32)
        XCTAssertEqual(s.periodicDimensions, 3)
    }

    /// Liquid density, rigid molecules, no two molecules closer than a hydrogen bond allows.
    func testWaterBox() {
        for n in [64, 100] {
            let s = BenchSystems.waterBox(molecules: n)
            XCTAssertEqual(s.count, 3 * n)
            XCTAssertEqual(s.numbers.filter { $0 == 8 }.count, n)
            let L = s.cell[0].x
            let density = Double(n) * 18.015 / 6.02214076e23 / (L * L * L * 1e-24)
            XCTAssertEqual(density, 0.997, accuracy: 1e-6)
            var closest = Double.infinity
            for i in 0..<s.count {
                for j in (i + 1)..<s.count {
                    var d = s.positions[i] - s.positions[j]
                    d -= L * (d / L).rounded(.toNearestOrEven)
                    let r = (d * d).sum().squareRoot()
                    if i / 3 == j / 3 {
                        if s.numbers[i] == 8 { XCTAssertEqual(r, 0.9572, accuracy: 1e-9) }
                    } else {
                        closest = min(closest, r)
                    }
                }
            }
            XCTAssertGreaterThan(closest, 1.4, "molecules overlap in the \(n)-molecule box")
        }
    }

    func testWaterClusterAndMoleculeBatch() {
        let cluster = BenchSystems.waterCluster(molecules: 36)
        XCTAssertEqual(cluster.count, 108)
        XCTAssertEqual(cluster.periodicDimensions, 0)
        let batch = BenchSystems.moleculeBatch(count: 20)
        XCTAssertEqual(batch.count, 20)
        XCTAssertTrue(batch.allSatisfy { $0.periodicDimensions == 0 && $0.count >= 2 })
        XCTAssertTrue(Set(batch.flatMap(\.numbers)).isSubset(of: [1, 6, 8, 11, 17]))
        XCTAssertEqual(BenchSystems.moleculeBatch(count: 20), batch, "deterministic")
    }

    func testBenchWritesJSON() throws {
        let doc = try runBench(["--model", PredictCommandTests.model, "--cells", "1", "--repeats", "1"])
        let results = doc["results"] as! [[String: Any]]
        XCTAssertEqual(results.count, 1)
        XCTAssertEqual(results.first?["atoms"] as? Int, 8)
        XCTAssertGreaterThan((results.first?["pairs"] as? Int) ?? 0, 0)
        XCTAssertGreaterThan((results.first?["k_vectors"] as? Int) ?? 0, 0)
        XCTAssertGreaterThan((results.first?["median_ms"] as? Double) ?? 0, 0)
        XCTAssertGreaterThan((results.first?["peak_rss_mib"] as? Double) ?? 0, 1)
        XCTAssertGreaterThan((results.first?["cpu_ms_per_eval"] as? Double) ?? 0, 0)
        XCTAssertNotNil(results.first?["stages"], "the OpenCL engine reports a stage breakdown")
        // ... and the device time of every kernel it launched in that evaluation.
        let kernels = try XCTUnwrap(results.first?["kernels"] as? [[String: Any]])
        let names = kernels.compactMap { $0["kernel"] as? String }
        for kernel in ["dense_forward", "pair_features", "ewald_potentials"] { XCTAssertTrue(names.contains(kernel), "\(names)") }
        let times = kernels.compactMap { $0["ms"] as? Double }
        XCTAssertEqual(times, times.sorted(by: >), "largest first")
        XCTAssertTrue(kernels.allSatisfy { ($0["launches"] as? Int ?? 0) >= 1 })
        // 8 atoms of mp1_L2 hold at least their positions, pair list and features on the device.
        XCTAssertGreaterThan((results.first?["peak_device_mib"] as? Double) ?? 0, 0, "the OpenCL engine reports device memory")
        XCTAssertNotNil((doc["machine"] as? [String: Any])?["cores"])
    }

    /// With PME the table counts mesh points instead of k-vectors.
    func testBenchWithPMEReportsMeshPoints() throws {
        let doc = try runBench(["--model", PredictCommandTests.model, "--cells", "1", "--repeats", "1", "--long-range", "pme", "--no-stages"])
        let row = try XCTUnwrap((doc["results"] as? [[String: Any]])?.first)
        XCTAssertNil(row["k_vectors"])
        XCTAssertGreaterThan((row["mesh_points"] as? Int) ?? 0, 0)
    }

    /// Water boxes, clusters and molecule batches run; a batch counts all its molecules' atoms.
    func testBenchSystems() throws {
        let doc = try runBench(["--model", PredictCommandTests.model, "--device", "reference", "--water", "8",
                                "--water-clusters", "4", "--molecules", "5", "--repeats", "1"])
        let results = doc["results"] as! [[String: Any]]
        XCTAssertEqual(results.map { $0["kind"] as? String }, ["water", "water-cluster", "molecules"])
        XCTAssertEqual(results.map { $0["atoms"] as? Int }, [24, 12, BenchSystems.moleculeBatch(count: 5).reduce(0) { $0 + $1.count }])
        XCTAssertEqual(results[2]["structures"] as? Int, 5)
        XCTAssertNil(results[1]["k_vectors"], "no k-vectors for a molecule")
    }

    /// --save-structures writes the systems; --structures benchmarks them and reports the energy
    /// (baseline included, as predict writes it) and forces of the last evaluation.
    func testSaveAndBenchStructures() throws {
        let xyz = dir.appendingPathComponent("systems.xyz").path
        let save = try Bench.parseAsRoot(["--cells", "1", "--water-clusters", "3", "--save-structures", xyz]) as! Bench
        try save.run()
        let frames = try ExtXYZ.read(path: xyz)
        XCTAssertEqual(frames.map(\.count), [8, 9])
        XCTAssertEqual(frames[0].info(named: "system"), .string("NaCl rocksalt 1x1x1"))

        let doc = try runBench(["--model", PredictCommandTests.model, "--device", "reference", "--structures", xyz,
                                "--repeats", "2", "--no-stages"])
        let results = doc["results"] as! [[String: Any]]
        XCTAssertEqual(results.map { $0["system"] as? String }, ["NaCl rocksalt 1x1x1", "water cluster 3 molecules"])
        let out = dir.appendingPathComponent("predicted.xyz").path
        let predict = try Predict.parseAsRoot(["--model", PredictCommandTests.model, "--device", "reference", "-q", xyz,
                                               "-o", out]) as! Predict
        try predict.run()
        for (row, frame) in zip(results, try ExtXYZ.read(path: out)) {
            XCTAssertNil(row["stages"])
            XCTAssertEqual((row["times_ms"] as? [Double])?.count, 2)
            let energy = (row["energies"] as! [Double])[0]
            XCTAssertEqual(energy, frame.info(named: "energy")!.asDouble!, accuracy: 1e-9)
            let forces = (row["forces"] as! [[[Double]]])[0]
            XCTAssertEqual(forces.count, frame.count)
            for (f, g) in zip(forces, frame.realColumn(named: "forces")!) {
                for a in 0..<3 { XCTAssertEqual(f[a], g[a], accuracy: 1e-9) }
            }
        }
    }

    /// Without --model: the built-in default model, then lorem-jax's default hyper-parameters with
    /// random weights.
    func testDefaultModels() throws {
        let doc = try runBench(["--device", "reference", "--cells", "1", "--repeats", "1", "--no-stages"])
        let results = doc["results"] as! [[String: Any]]
        XCTAssertEqual(results.map { $0["model"] as? String }, ["default", "random"])
    }

    /// The named random models and their hyper-parameters.
    func testRandomModels() throws {
        let plain = try Bench.loadModel("random").0.config, mp1 = try Bench.loadModel("random-mp1").0.config
        XCTAssertEqual(plain.numMessagePassing, 0)
        XCTAssertEqual(mp1.numMessagePassing, 1)
        XCTAssertEqual([mp1.maxDegree, mp1.numFeatures, mp1.numRadial, mp1.numSphericalFeatures], [6, 128, 32, 8])
        XCTAssertTrue(try Bench.loadModel("random-bec").0.config.bornEffectiveCharges)
    }

    func testBadSizes() {
        XCTAssertThrowsError(try Bench.parseAsRoot(["--repeats", "0"]))
        for bad in [["--water", "0"], ["--cells", "2,x"], ["--cells", "2,,3"], ["--molecules", "1,-1"]] {
            XCTAssertThrowsError(try Bench.parseAsRoot(bad), "\(bad)") { error in
                XCTAssertTrue(Bench.message(for: error).contains("'\(bad[1])' is invalid"), Bench.message(for: error))
            }
        }
    }

    /// Size lists are arrays: commas, spaces and repeated options give the same systems.
    func testSizeListsAreArrays() throws {
        for args in [["--cells", "2,3", "--water", "8"], ["--cells", "2", "3", "--water", "8"], ["--cells", "2", "--water", "8", "--cells", "3"]] {
            let command = try Bench.parseAsRoot(args) as! Bench
            XCTAssertEqual(try command.makeSystems().map(\.name), ["NaCl rocksalt 2x2x2", "NaCl rocksalt 3x3x3", "water box 8 molecules"], "\(args)")
        }
    }
}
