import XCTest
@testable import LoremIO

final class MsgPackTests: XCTestCase {
    func decode(_ bytes: [UInt8]) throws -> MsgPackValue { try MsgPack.decode(bytes) }

    func testScalars() throws {
        XCTAssertEqual(try decode([0xc0]), .null)
        XCTAssertEqual(try decode([0xc2]), .bool(false))
        XCTAssertEqual(try decode([0xc3]), .bool(true))
        XCTAssertEqual(try decode([0x00]), .uint(0))
        XCTAssertEqual(try decode([0x7f]), .uint(127))
        XCTAssertEqual(try decode([0xe0]), .int(-32))
        XCTAssertEqual(try decode([0xff]), .int(-1))
        XCTAssertEqual(try decode([0xcc, 0xff]), .uint(255))
        XCTAssertEqual(try decode([0xcd, 0x12, 0x34]), .uint(0x1234))
        XCTAssertEqual(try decode([0xce, 0x12, 0x34, 0x56, 0x78]), .uint(0x1234_5678))
        XCTAssertEqual(try decode([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), .uint(UInt64.max))
        XCTAssertEqual(try decode([0xd0, 0x80]), .int(-128))
        XCTAssertEqual(try decode([0xd1, 0xff, 0xfe]), .int(-2))
        XCTAssertEqual(try decode([0xd2, 0x80, 0, 0, 0]), .int(Int64(Int32.min)))
        XCTAssertEqual(try decode([0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]), .int(Int64.min))
        XCTAssertEqual(try decode([0xca, 0x3f, 0xc0, 0, 0]), .float32(1.5))
        XCTAssertEqual(try decode([0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]), .float64(3.141592653589793))
        XCTAssertEqual(try decode([0xd0, 0x80]).intValue, -128)
        XCTAssertEqual(try decode([0xcc, 0xff]).doubleValue, 255)
    }

    func testStringsAndBinary() throws {
        XCTAssertEqual(try decode([0xa0]), .string(""))
        XCTAssertEqual(try decode([0xa3, 0x61, 0x62, 0x63]), .string("abc"))
        XCTAssertEqual(try decode([0xd9, 2, 0xc3, 0xa9]), .string("é"))
        XCTAssertEqual(try decode([0xda, 0, 1, 0x7a]), .string("z"))
        XCTAssertEqual(try decode([0xdb, 0, 0, 0, 1, 0x7a]), .string("z"))
        XCTAssertEqual(try decode([0xc4, 2, 1, 2]), .binary([1, 2]))
        XCTAssertEqual(try decode([0xc5, 0, 1, 9]), .binary([9]))
        XCTAssertEqual(try decode([0xc6, 0, 0, 0, 0]), .binary([]))
        XCTAssertThrowsError(try decode([0xa2, 0xff, 0xfe])) { XCTAssertTrue("\($0)".contains("UTF-8")) }
    }

    func testContainers() throws {
        XCTAssertEqual(try decode([0x92, 0x01, 0xa1, 0x78]), .array([.uint(1), .string("x")]))
        XCTAssertEqual(try decode([0xdc, 0, 1, 0xc0]), .array([.null]))
        XCTAssertEqual(try decode([0xdd, 0, 0, 0, 0]), .array([]))
        let map: MsgPackValue = .map([
            MsgPackPair(key: .string("b"), value: .uint(2)), MsgPackPair(key: .string("a"), value: .uint(1)),
        ])
        XCTAssertEqual(try decode([0x82, 0xa1, 0x62, 0x02, 0xa1, 0x61, 0x01]), map)  // order kept
        XCTAssertEqual(try decode([0xde, 0, 2, 0xa1, 0x62, 0x02, 0xa1, 0x61, 0x01]), map)
        XCTAssertEqual(try decode([0xdf, 0, 0, 0, 2, 0xa1, 0x62, 0x02, 0xa1, 0x61, 0x01]), map)
        XCTAssertEqual(map["a"], .uint(1))
    }

    func testExtFamily() throws {
        XCTAssertEqual(try decode([0xd4, 5, 0xaa]), .ext(type: 5, data: [0xaa]))
        XCTAssertEqual(try decode([0xd5, 0xff, 1, 2]), .ext(type: -1, data: [1, 2]))
        XCTAssertEqual(try decode([0xd6, 1] + [UInt8](repeating: 7, count: 4)), .ext(type: 1, data: [7, 7, 7, 7]))
        XCTAssertEqual(try decode([0xd7, 1] + [UInt8](repeating: 7, count: 8)), .ext(type: 1, data: [UInt8](repeating: 7, count: 8)))
        XCTAssertEqual(try decode([0xd8, 1] + [UInt8](repeating: 7, count: 16)), .ext(type: 1, data: [UInt8](repeating: 7, count: 16)))
        XCTAssertEqual(try decode([0xc7, 1, 3, 9]), .ext(type: 3, data: [9]))
        XCTAssertEqual(try decode([0xc8, 0, 1, 3, 9]), .ext(type: 3, data: [9]))
        XCTAssertEqual(try decode([0xc9, 0, 0, 0, 1, 3, 9]), .ext(type: 3, data: [9]))
    }

    func testEncoderRoundTrip() throws {
        let value = TestMsgPack.map([
            ("n", .null), ("list", .array([.int(-5), .uint(300), .uint(70000), .uint(1 << 40), .float32(0.25)])),
            ("bin", .binary([1, 2, 3])), ("long", .string(String(repeating: "x", count: 40))),
            ("e", .ext(type: 9, data: [1])),
        ])
        XCTAssertEqual(try decode(TestMsgPack.encode(value)), value)
    }

    func testErrorsArePrecise() {
        XCTAssertThrowsError(try decode([0xc1])) { XCTAssertEqual("\($0)", "unknown type byte 0xc1 at byte 0") }
        XCTAssertThrowsError(try decode([0x91, 0xdb, 0, 0, 0, 99, 0x61])) {
            XCTAssertEqual("\($0)", "truncated at byte 1 while reading a str32 of length 99 (1 bytes remain)")
        }
        XCTAssertThrowsError(try decode([])) { XCTAssertTrue("\($0)".contains("truncated at byte 0")) }
        XCTAssertThrowsError(try decode([0xc0, 0xc0])) { XCTAssertTrue("\($0)".contains("trailing")) }
        // A huge declared count must fail fast instead of allocating.
        XCTAssertThrowsError(try decode([0xdd, 0xff, 0xff, 0xff, 0xff])) { XCTAssertTrue("\($0)".contains("array32")) }
        XCTAssertThrowsError(try decode([0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0])) { XCTAssertTrue("\($0)".contains("map32")) }
    }

    func testDepthIsCapped() {
        let deep = [UInt8](repeating: 0x91, count: 100_000) + [0xc0]
        XCTAssertThrowsError(try decode(deep)) { XCTAssertTrue("\($0)".contains("nesting")) }
        let ok = [UInt8](repeating: 0x91, count: 100) + [0xc0]
        XCTAssertNoThrow(try decode(ok))
    }

    func testEveryTruncationThrows() throws {
        let message = TestMsgPack.encode(TestMsgPack.map([
            ("params", TestMsgPack.map([
                ("kernel", TestMsgPack.float32Array([2, 2], [1, 2, 3, 4])),
                ("x", .array([.float64(1.5), .int(-7), .uint(200), .string("abc"), .bool(true), .null])),
            ])),
        ]))
        XCTAssertNoThrow(try decode(message))
        for length in 0..<message.count {
            XCTAssertThrowsError(try decode(Array(message[0..<length])), "prefix of length \(length)")
        }
    }
}
