import Foundation
import XCTest
@testable import LoremIO

/// A checkpoint decoded from memory (how the embedded default model is read) equals the same
/// files loaded from disk, and its errors carry the given name.
final class CheckpointDecodeTests: XCTestCase {
    static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models/mp1_L2/model")

    func read(_ name: String) throws -> Data { try Data(contentsOf: Self.model.appendingPathComponent(name)) }

    func testDecodeEqualsLoad() throws {
        let disk = try Checkpoint.load(path: Self.model.path)
        let memory = try Checkpoint.decode(modelYAML: read("model.yaml"), baselineYAML: read("baseline.yaml"),
                                           weights: read("model.msgpack"), name: "embedded")
        XCTAssertEqual(memory.modelClass, disk.modelClass)
        XCTAssertEqual(memory.hyperParameters, disk.hyperParameters)
        XCTAssertEqual(memory.baseline, disk.baseline)
        XCTAssertEqual(memory.parameters, disk.parameters)
        XCTAssertEqual(memory.directory, "embedded")
    }

    func testDecodeErrorsNameTheSource() throws {
        let weights = try read("model.msgpack")
        XCTAssertThrowsError(try Checkpoint.decode(modelYAML: read("model.yaml"), baselineYAML: read("baseline.yaml"),
                                                   weights: weights.prefix(100), name: "embedded")) { e in
            XCTAssertTrue("\(e)".contains("embedded/model.msgpack"), "\(e)")
        }
    }
}
