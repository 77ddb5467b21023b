import Foundation
import XCTest
import LoremIO
@testable import lorem_gpu

/// `predict` streams: frames are read, evaluated in batches and written as they go. The batching
/// must not change any number, `--skip-bad-frames` writes exactly the good frames, and a run that
/// stops leaves no file.
final class PredictStreamingTests: XCTestCase {
    static let model = PredictCommandTests.model
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lorem-gpu-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func predict(_ args: [String]) throws {
        let command = try Predict.parseAsRoot(["--model", Self.model, "-q", "--device", "reference"] + args) as! Predict
        try command.run()
    }

    func water(_ k: Int) -> String {
        let a = 0.96 + 0.01 * Double(k % 7), b = 0.93 - 0.02 * Double(k % 5)
        return "3\nProperties=species:S:1:pos:R:3 step=\(k)\nO 0 0 0\nH \(a) 0 0\nH -0.24 \(b) 0.1\n"
    }

    let salt = """
        2
        Lattice="4.0 0.0 0.0 0.3 4.2 0.0 0.0 0.0 4.4" Properties=species:S:1:pos:R:3 pbc="T T T"
        Na 0.1 0.2 0.3
        Cl 2.1 1.9 2.05

        """

    /// 40 frames of two sizes through batches of every shape (one frame each, three frames, a
    /// 7-atom limit that carries a frame into the next batch, the default) give the same file.
    func testBatchingDoesNotChangeTheOutput() throws {
        let text = (0..<40).map { $0 % 9 == 4 ? salt : water($0) }.joined()
        try text.write(toFile: path("in.xyz"), atomically: true, encoding: .utf8)
        try predict([path("in.xyz"), "-o", path("default.xyz"), "--stress"])
        let expected = try String(contentsOfFile: path("default.xyz"), encoding: .utf8)
        let frames = try ExtXYZ.read(path: path("default.xyz"))
        XCTAssertEqual(frames.count, 40)
        XCTAssertEqual(frames.map { $0.info(named: "step")?.asDouble }, (0..<40).map { $0 % 9 == 4 ? nil : Double($0) }, "input order kept")
        for (frames, atoms) in [(1, 4096), (3, 4096), (256, 7), (2, 1)] {
            let out = path("out-\(frames)-\(atoms).xyz")
            try predict([path("in.xyz"), "-o", out, "--stress", "--batch-frames", "\(frames)", "--batch-atoms", "\(atoms)"])
            XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), expected, "batches of \(frames) frames / \(atoms) atoms")
        }
        XCTAssertThrowsError(try predict([path("in.xyz"), "-o", path("x.xyz"), "--batch-atoms", "0"]))
    }

    /// A malformed frame, an element the model lacks and a good frame between them: without the
    /// flag the run stops at the first and writes nothing; with it the good frames are written,
    /// each as it would be alone.
    func testSkipBadFrames() throws {
        let bad = "3\nProperties=species:S:1:pos:R:3\nO 0 0 0\nH 0.9 zero 0\nH 0 0.9 0\n"
        let alien = "2\nProperties=species:S:1:pos:R:3\nXe 0 0 0\nH 1.5 0 0\n"
        try (water(0) + bad + water(1) + alien + water(2)).write(toFile: path("in.xyz"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try predict([path("in.xyz"), "-o", path("out.xyz")])) { error in
            XCTAssertTrue("\(error)".contains("frame 1, line 9"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["in.xyz"])

        try predict([path("in.xyz"), "-o", path("out.xyz"), "--skip-bad-frames"])
        let out = try ExtXYZ.read(path: path("out.xyz"))
        XCTAssertEqual(out.map { $0.info(named: "step")?.asDouble }, [0, 1, 2])
        try (water(0) + water(1) + water(2)).write(toFile: path("good.xyz"), atomically: true, encoding: .utf8)
        try predict([path("good.xyz"), "-o", path("good-out.xyz")])
        XCTAssertEqual(try String(contentsOfFile: path("out.xyz"), encoding: .utf8),
                       try String(contentsOfFile: path("good-out.xyz"), encoding: .utf8))
    }

    /// Skipping cannot go past a frame whose atom count is unreadable, and a file with no good
    /// frame is an error: either way nothing is written.
    func testSkipStopsWhereFramesCannotBeFound() throws {
        for text in [water(0) + "three\n" + water(1), "2\n\nXe 0 0 0\nXe 3 0 0\n"] {
            try text.write(toFile: path("in.xyz"), atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try predict([path("in.xyz"), "-o", path("out.xyz"), "--skip-bad-frames"]))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["in.xyz"], text)
        }
    }
}
