import Foundation
import XCTest
@testable import LoremIO

final class CheckpointTests: XCTestCase {
    let modelYAML = """
        lorem.models.mlip.Lorem:
          cutoff: 5.0
          max_degree: 4
          num_features: 64
          num_spherical_features: 4
          num_radial: 32
          use_sph_features: true
          cutoff_fn: cosine
          ewald: null
          hidden_sizes: [128, 128]
          nested: [[1, 2], [3.5]]
          options: {a: 1, b: two}
          tuple: !!python/tuple [1, 2]

        """
    let baselineYAML = """
        elemental:
          1: -13.6
          8: -2041
          29: -45.25e1

        """

    func parameterTree() -> MsgPackValue {
        TestMsgPack.map([
            ("params", TestMsgPack.map([
                ("Initial_0", TestMsgPack.map([
                    ("ChemicalEmbedding_0", TestMsgPack.map([
                        ("Embed_0", TestMsgPack.map([("embedding", TestMsgPack.float32Array([2, 3], [1, 2, 3, 4, 5, 6]))])),
                    ])),
                ])),
                ("Dense_0", TestMsgPack.map([
                    ("kernel", TestMsgPack.float32Array([3, 1], [0.5, -0.5, 2])),
                    ("bias", TestMsgPack.float32Array([1], [0.25])),
                ])),
                ("Empty_0", TestMsgPack.map([])),
            ])),
        ])
    }

    /// Writes a checkpoint in the layout lorem-train produces: run/model/{model.yaml,...}.
    func makeCheckpoint(
        model: String? = nil, baseline: String? = nil, weights: [UInt8]? = nil, skip: String? = nil
    ) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        let modelDir = dir.url.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: modelDir, withIntermediateDirectories: true)
        let files: [(String, [UInt8])] = [
            ("model.yaml", Array((model ?? modelYAML).utf8)),
            ("baseline.yaml", Array((baseline ?? baselineYAML).utf8)),
            ("model.msgpack", weights ?? TestMsgPack.encode(parameterTree())),
        ]
        for (name, bytes) in files where name != skip {
            try Data(bytes).write(to: modelDir.appendingPathComponent(name))
        }
        return dir
    }

    func testLoadFromRunFolderAndModelFolder() throws {
        let dir = try makeCheckpoint()
        for path in [dir.url.path, dir.path("model")] {
            let c = try Checkpoint.load(path: path)
            XCTAssertEqual(c.directory, dir.path("model"))
            XCTAssertEqual(c.modelClass, "lorem.models.mlip.Lorem")
            XCTAssertEqual(c.hyperParameters["cutoff"]?.doubleValue, 5)
            XCTAssertEqual(c.hyperParameters["max_degree"], .int(4))
            XCTAssertEqual(c.hyperParameters["max_degree"]?.doubleValue, 4)
            XCTAssertEqual(c.hyperParameters["use_sph_features"]?.boolValue, true)
            XCTAssertEqual(c.hyperParameters["cutoff_fn"]?.stringValue, "cosine")
            XCTAssertEqual(c.hyperParameters["ewald"], .null)
            XCTAssertEqual(c.hyperParameters["hidden_sizes"], .list([.int(128), .int(128)]))
            XCTAssertEqual(c.hyperParameters["nested"]?[1]?[0], .double(3.5))
            XCTAssertEqual(c.hyperParameters["options"]?["b"], .string("two"))
            XCTAssertEqual(c.hyperParameters["tuple"], .list([.int(1), .int(2)]))
            XCTAssertEqual(c.baseline, [1: -13.6, 8: -2041, 29: -452.5])
            XCTAssertEqual(Set(c.parameters.keys), [
                "params/Initial_0/ChemicalEmbedding_0/Embed_0/embedding", "params/Dense_0/kernel", "params/Dense_0/bias",
            ])
            let embedding = try XCTUnwrap(c.parameters["params/Initial_0/ChemicalEmbedding_0/Embed_0/embedding"])
            XCTAssertEqual(embedding.shape, [2, 3])
            XCTAssertEqual(embedding.values, [1, 2, 3, 4, 5, 6])
            XCTAssertEqual(c.parameters["params/Dense_0/bias"]?.values, [0.25])
        }
    }

    func assertLoadFails(
        _ dir: TemporaryDirectory, path: String? = nil, _ kind: CheckpointError.Kind, mentions: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try Checkpoint.load(path: path ?? dir.url.path), file: file, line: line) { error in
            guard let e = error as? CheckpointError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            for m in mentions {
                XCTAssertTrue("\(e)".contains(m), "'\(e)' should mention '\(m)'", file: file, line: line)
            }
        }
    }

    func testMissingFolderAndFiles() throws {
        let dir = try makeCheckpoint()
        assertLoadFails(dir, path: dir.path("nope"), .missingFolder, mentions: ["nope"])
        let empty = try TemporaryDirectory()
        assertLoadFails(empty, .missingFolder, mentions: [empty.url.path, "model/"])
        for name in ["model.yaml", "baseline.yaml", "model.msgpack"] {
            assertLoadFails(try makeCheckpoint(skip: name), .missingFile, mentions: ["model/" + name])
        }
    }

    func testTruncatedMsgPack() throws {
        let full = TestMsgPack.encode(parameterTree())
        let dir = try makeCheckpoint(weights: Array(full.prefix(full.count - 5)))
        assertLoadFails(dir, .corruptMsgPack, mentions: ["model.msgpack", "truncated at byte"])
    }

    func testNonArrayLeaf() throws {
        let tree = TestMsgPack.map([("params", TestMsgPack.map([("scale", .float64(1))]))])
        let dir = try makeCheckpoint(weights: TestMsgPack.encode(tree))
        assertLoadFails(dir, .badParameter, mentions: ["model.msgpack", "params/scale", "float64"])
        let badArray = TestMsgPack.map([("w", TestMsgPack.ndarray([4], "float32", [0, 0]))])
        assertLoadFails(try makeCheckpoint(weights: TestMsgPack.encode(badArray)), .badParameter, mentions: ["'w'", "bytes"])
    }

    func testYAMLErrors() throws {
        assertLoadFails(try makeCheckpoint(model: "a: [1, 2\nb: :"), .yamlSyntax, mentions: ["model.yaml"])
        assertLoadFails(try makeCheckpoint(model: "- 1\n- 2\n"), .badLayout, mentions: ["model.yaml", "single key"])
        assertLoadFails(try makeCheckpoint(model: "a: {x: 1}\nb: {y: 2}\n"), .badLayout, mentions: ["model.yaml"])
        assertLoadFails(try makeCheckpoint(model: "a: 3\n"), .badLayout, mentions: ["model.yaml", "'a'"])
        assertLoadFails(try makeCheckpoint(baseline: "other: 1\n"), .badLayout, mentions: ["baseline.yaml", "elemental"])
        assertLoadFails(try makeCheckpoint(baseline: "elemental:\n  H: 1.0\n"), .badLayout, mentions: ["baseline.yaml", "'H'"])
        assertLoadFails(try makeCheckpoint(baseline: "elemental:\n  1: abc\n"), .badLayout, mentions: ["Z=1"])
    }
}
