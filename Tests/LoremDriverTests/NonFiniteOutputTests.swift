import Foundation
import XCTest
import LoremIO
import LoremModel
@testable import LoremEngineCore
import LoremReference
@testable import LoremDriver
@testable import lorem_gpu

/// A model whose numbers overflow (finite weights, 1e200 in two consecutive layers of the energy
/// MLP) must never hand on NaN or inf: predict fails naming the frame and writes nothing, and the
/// driver refuses to send the result to the server.
final class NonFiniteOutputTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func overflowingModel() throws -> TrainedModel {
        let checkpoint = try Checkpoint.load(path: Self.root.appendingPathComponent("Tests/Fixtures/models/mp1_L2").path)
        var parameters = checkpoint.parameters
        for name in ["params/MLP_0/Dense_0/kernel", "params/MLP_0/Dense_1/kernel"] {
            let a = try XCTUnwrap(parameters[name], name)
            parameters[name] = ParamArray(shape: a.shape, dtype: a.dtype, values: a.values.map { $0 * 1e200 })
        }
        let config = try LoremConfig(modelClass: checkpoint.modelClass, hyperParameters: checkpoint.hyperParameters, file: "model.yaml")
        return TrainedModel(config: config, weights: try LoremWeights(config: config, parameters: parameters, file: "model.msgpack"),
                            baseline: checkpoint.baseline, directory: "(overflowing)")
    }

    let water = Structure(numbers: [8, 1, 1], positions: [.zero, SIMD3(0.96, 0, 0), SIMD3(-0.24, 0.93, 0)])

    func testPredictRefusesNonFiniteResults() throws {
        let model = try overflowingModel()
        let engine = try ReferenceEngine(config: model.config, weights: model.weights)
        XCTAssertNotNil(try engine.evaluate(water).nonFiniteQuantity, "the model overflows")
        let predictor = Predictor(model: model, engine: engine, computeStress: false)
        let outcomes = predictor.predictEach([water, water], indices: [7, 8], file: "in.xyz")
        XCTAssertThrowsError(try outcomes[0].get()) { error in
            XCTAssertTrue("\(error)".hasPrefix("in.xyz, frame 7: the model gave a non-finite"), "\(error)")
        }
    }

    func testDriverRefusesNonFiniteResults() throws {
        let model = try overflowingModel()
        let field = try LoremForceField(model: model, engine: try ReferenceEngine(config: model.config, weights: model.weights),
                                        template: water)
        let s = IPIStructure(cell: [Double](repeating: 0, count: 9), positions: water.positions.flatMap { [$0.x, $0.y, $0.z] }.map { $0 / IPIUnits.bohr })
        XCTAssertThrowsError(try field.compute([s])) { error in
            XCTAssertTrue("\(error)".contains("the model gave a non-finite"), "\(error)")
        }
    }
}
