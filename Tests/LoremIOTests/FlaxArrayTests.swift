import XCTest
@testable import LoremIO

final class FlaxArrayTests: XCTestCase {
    func array(_ value: MsgPackValue) throws -> ParamArray {
        guard case .ext(let type, let data) = value else { throw FlaxArrayError("not ext") }
        return try ParamArray(flaxExtType: type, payload: data)
    }

    func testFloat32() throws {
        let a = try array(TestMsgPack.float32Array([2, 3], [1, 2, 3, 4, 5, 0.1]))
        XCTAssertEqual(a.shape, [2, 3])
        XCTAssertEqual(a.dtype, "float32")
        XCTAssertEqual(a.values, [1, 2, 3, 4, 5, Double(Float(0.1))])
    }

    func testFloat64AndIntegers() throws {
        let f64 = try array(TestMsgPack.ndarray([2], "float64", TestMsgPack.littleEndianBytes([Double(1.25).bitPattern, Double(-0.1).bitPattern])))
        XCTAssertEqual(f64.values, [1.25, -0.1])
        let i32 = try array(TestMsgPack.ndarray([3], "int32", TestMsgPack.littleEndianBytes([Int32(-1), 2, Int32.max])))
        XCTAssertEqual(i32.values, [-1, 2, Double(Int32.max)])
        let i64 = try array(TestMsgPack.ndarray([1], "int64", TestMsgPack.littleEndianBytes([Int64(-9)])))
        XCTAssertEqual(i64.values, [-9])
        let b = try array(TestMsgPack.ndarray([2], "bool", [1, 0]))
        XCTAssertEqual(b.values, [1, 0])
    }

    func testFloat16() throws {
        // 1.0, -2.0, 65504 (max), smallest subnormal, +inf
        let a = try array(TestMsgPack.ndarray([5], "float16", TestMsgPack.littleEndianBytes([UInt16(0x3c00), 0xc000, 0x7bff, 0x0001, 0x7c00])))
        XCTAssertEqual(a.values, [1, -2, 65504, 0x1p-24, .infinity])
    }

    func testScalarsAndEmptyShapes() throws {
        let scalar = try array(TestMsgPack.ndarray([], "float32", TestMsgPack.littleEndianBytes([Float(2.5).bitPattern]), type: 3))
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.scalar, 2.5)
        let legacy = MsgPackValue.ext(type: 3, data: TestMsgPack.encode(.array([.string("int64"), .binary(TestMsgPack.littleEndianBytes([Int64(4)]))])))
        XCTAssertEqual(try array(legacy).values, [4])
        let empty = try array(TestMsgPack.ndarray([0, 4], "float32", []))
        XCTAssertEqual(empty.count, 0)
    }

    func testBadPayloads() {
        XCTAssertThrowsError(try array(TestMsgPack.ndarray([2, 3], "float32", [UInt8](repeating: 0, count: 20)))) {
            XCTAssertTrue("\($0)".contains("needs 6 × 4 bytes but has 20"), "\($0)")
        }
        XCTAssertThrowsError(try array(TestMsgPack.ndarray([1], "complex64", [UInt8](repeating: 0, count: 8)))) {
            XCTAssertTrue("\($0)".contains("unsupported dtype 'complex64'"), "\($0)")
        }
        XCTAssertThrowsError(try array(.ext(type: 1, data: [0x93, 0x91]))) {
            XCTAssertTrue("\($0)".contains("not valid msgpack"), "\($0)")
        }
        XCTAssertThrowsError(try array(.ext(type: 1, data: TestMsgPack.encode(.array([.uint(1), .string("x")]))))) {
            XCTAssertTrue("\($0)".contains("2 elements"), "\($0)")
        }
        XCTAssertThrowsError(try array(.ext(type: 2, data: []))) { XCTAssertTrue("\($0)".contains("complex")) }
        XCTAssertThrowsError(try array(.ext(type: 7, data: []))) { XCTAssertTrue("\($0)".contains("ext type 7")) }
        let negative = MsgPackValue.ext(type: 1, data: TestMsgPack.encode(.array([.array([.int(-1)]), .string("float32"), .binary([])])))
        XCTAssertThrowsError(try array(negative)) { XCTAssertTrue("\($0)".contains("non-negative")) }
    }
}
