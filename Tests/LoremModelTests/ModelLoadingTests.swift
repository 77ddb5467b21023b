import XCTest
import LoremIO
@testable import LoremModel

/// model.yaml and weight errors must name the file and the problem.
final class ModelLoadingTests: XCTestCase {
    let file = "/ckpt/model/model.yaml"

    func parse(_ hp: [String: ConfigValue], modelClass: String = LoremConfig.modelClass) throws -> LoremConfig {
        try LoremConfig(modelClass: modelClass, hyperParameters: hp, file: file)
    }

    func assertError(_ body: @autoclosure () throws -> Any, contains parts: [String], line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            let text = "\(error)"
            for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' lacks '\(p)'", line: line) }
        }
    }

    func testDefaultsAndOverrides() throws {
        let c = try parse(["cutoff": .double(4.5), "max_degree": .int(3), "lr": .bool(false), "num_message_passing": .int(2)])
        XCTAssertEqual(c.cutoff, 4.5)
        XCTAssertEqual(c.maxDegree, 3)
        XCTAssertFalse(c.longRange)
        XCTAssertEqual(c.numMessagePassing, 2)
        XCTAssertEqual(c.numFeatures, 128)  // lorem-jax default
        XCTAssertEqual(c.chargeChannels, 10)
    }

    /// LoremBEC (docs/MATH.md §12.1): the energy model's hyper-parameters with two defaults
    /// turned off, and L ≥ 1 for its tensor heads.
    func testBECDefaultsAndDegree() throws {
        for name in ["lorem.models.bec.LoremBEC", "lorem.LoremBEC"] {
            let c = try parse([:], modelClass: name)
            XCTAssertTrue(c.bornEffectiveCharges)
            XCTAssertFalse(c.equivariantMessagePassing)
            XCTAssertFalse(c.initializeNodeFeatures)
        }
        XCTAssertTrue(try parse(["equivariant_message_passing": .bool(true)], modelClass: "lorem.LoremBEC").equivariantMessagePassing)
        XCTAssertFalse(try parse([:]).bornEffectiveCharges)
        assertError(try parse(["max_degree": .int(0), "max_degree_lr": .int(0)], modelClass: "lorem.LoremBEC"),
                    contains: ["max_degree", "LoremBEC", file])
        assertError(try parse([:], modelClass: "LoremBEC"), contains: ["LoremBEC", file])
    }

    func testUnknownClassAndKey() {
        assertError(try parse([:], modelClass: "something.Else"), contains: ["something.Else", file])
        assertError(try parse(["num_layers": .int(3)]), contains: ["num_layers", "unknown", file])
    }

    func testMistypedValue() {
        assertError(try parse(["max_degree": .string("six")]), contains: ["max_degree", "integer", file])
    }

    func testUnsupportedCutoffAndBasis() {
        assertError(try parse(["cutoff_fn": .string("smooth_cutoff")]), contains: ["not supported yet", "smooth_cutoff"])
        assertError(try parse(["radial_basis": .string("reciprocal_bernstein")]), contains: ["not supported yet", "reciprocal_bernstein"])
    }

    func testLongRangeDegreeAboveShortRange() {
        assertError(try parse(["max_degree": .int(1), "max_degree_lr": .int(2)]), contains: ["max_degree_lr", file])
    }

    /// A complete parameter set made by the random initialiser, then broken on purpose.
    func parameters(_ c: LoremConfig) -> [String: ParamArray] {
        var out: [String: ParamArray] = [:]
        _ = try? LoremWeights(config: c, reader: ParameterReader { name, shape in
            let v = [Double](repeating: 0.1, count: shape.reduce(1, *))
            out["params/" + name] = ParamArray(shape: shape, dtype: "float32", values: v)
            return v
        })
        return out
    }

    func smallConfig() -> LoremConfig {
        var c = LoremConfig()
        (c.numFeatures, c.numRadial, c.numSpecies, c.numSphericalFeatures, c.maxDegree, c.numMessagePassing) = (4, 4, 2, 2, 2, 1)
        return c
    }

    func testCompleteParametersLoad() throws {
        let c = smallConfig()
        let p = parameters(c)
        XCTAssertNotNil(p["params/Initial_0/ChemicalEmbedding_0/Embed_0/embedding"])
        XCTAssertNotNil(p["params/MessagePass_0/filter/1-/kernel"])
        XCTAssertNotNil(p["params/Tensor_1/kernel"])
        XCTAssertNoThrow(try LoremWeights(config: c, parameters: p, file: "w.msgpack"))
    }

    func testMissingParameter() {
        let c = smallConfig()
        var p = parameters(c)
        p["params/Update_1/LayerNorm_0/scale"] = nil
        assertError(try LoremWeights(config: c, parameters: p, file: "w.msgpack"),
                    contains: ["w.msgpack", "Update_1/LayerNorm_0/scale", "missing"])
    }

    func testMisshapedParameter() {
        let c = smallConfig()
        var p = parameters(c)
        p["params/Dense_1/kernel"] = ParamArray(shape: [4, 5], dtype: "float32", values: .init(repeating: 0, count: 20))
        assertError(try LoremWeights(config: c, parameters: p, file: "w.msgpack"),
                    contains: ["w.msgpack", "Dense_1/kernel", "[4, 5]", "[4, 4]"])
    }

    /// NaN or inf in any weight is refused at load, naming the parameter (issue: a corrupted
    /// model.msgpack loaded and predicted non-finite energies).
    func testNonFiniteParameter() {
        let c = smallConfig()
        for bad in [Double.nan, .infinity, -.infinity] {
            var p = parameters(c)
            var values = [Double](repeating: 0.1, count: 16)
            values[5] = bad
            p["params/Dense_1/kernel"] = ParamArray(shape: [4, 4], dtype: "float32", values: values)
            assertError(try LoremWeights(config: c, parameters: p, file: "w.msgpack"),
                        contains: ["w.msgpack", "Dense_1/kernel", "non-finite", "index 5"])
        }
    }
}
