import Foundation
import XCTest
import LoremIO
import LoremModel
@testable import LoremEngineCore
import LoremReference
@testable import lorem_gpu

/// The default model compiled into the binary is exactly models/default (the generated Swift
/// file is not stale), and predict uses it when --model is absent.
final class DefaultModelTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("models/default")

    func testEmbeddedCopyEqualsTheFiles() throws {
        let embedded = try DefaultModel.load()
        let files = try TrainedModel.load(path: Self.folder.path)
        XCTAssertEqual(embedded.config, files.config)
        XCTAssertEqual(embedded.baseline, files.baseline)
        let disk = try Checkpoint.load(path: Self.folder.path)
        let weights = Data(base64Encoded: EmbeddedDefaultModel.weightsBase64, options: .ignoreUnknownCharacters)!
        XCTAssertEqual(weights, try Data(contentsOf: Self.folder.appendingPathComponent("model/model.msgpack")),
                       "run scripts/embed_default_model.py")
        XCTAssertEqual(Set(disk.parameters.keys).count, disk.parameters.count)
    }

    func testPredictWithoutModelUsesTheDefault() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("default-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.xyz").path, output = dir.appendingPathComponent("out.xyz").path
        try "2\nProperties=species:S:1:pos:R:3\nNa 0 0 0\nCl 2.4 0 0\n".write(toFile: input, atomically: true, encoding: .utf8)
        var command = try Predict.parseAsRoot([input, "-o", output, "-q", "--device", "reference"]) as! Predict
        try command.run()
        let model = try DefaultModel.load()
        let s = try ExtXYZ.read(path: input)[0]
        let engine = try ReferenceEngine(config: model.config, weights: model.weights)
        let expected = try engine.evaluate(s, forces: false).energy + s.numbers.reduce(0.0) { $0 + model.baseline[$1]! }
        XCTAssertEqual(try ExtXYZ.read(path: output)[0].info(named: "energy")?.asDouble ?? .nan, expected, accuracy: 1e-9)
    }
}
