import Foundation
import XCTest
@testable import lorem_gpu

/// `bench` on a tiny system: it runs, writes its JSON with the numbers it printed, and its
/// rocksalt builder makes n³·8 atoms with the NaCl composition.
final class BenchCommandTests: XCTestCase {
    func testRocksaltBuilder() {
        let s = Bench.rocksalt(repetitions: 2)
        XCTAssertEqual(s.count, 64)
        XCTAssertEqual(s.numbers.filter { $0 == 11 }.count, 32)
        XCTAssertEqual(s.periodicDimensions, 3)
    }

    func testBenchWritesJSON() throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: json) }
        var command = try Bench.parseAsRoot(["--model", PredictCommandTests.model, "--cells", "1", "--repeats", "1",
                                             "--json", json.path]) as! Bench
        try command.run()
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let results = doc["results"] as! [[String: Any]]
        XCTAssertEqual(results.first?["atoms"] as? Int, 8)
        XCTAssertGreaterThan((results.first?["pairs"] as? Int) ?? 0, 0)
        XCTAssertGreaterThan((results.first?["median_ms"] as? Double) ?? 0, 0)
        XCTAssertNotNil(results.last?["stages"], "the OpenCL engine reports a stage breakdown")
    }
}
