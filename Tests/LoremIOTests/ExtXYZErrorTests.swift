import XCTest
@testable import LoremIO

/// Each malformed input must be reported with file, frame (0-based) and line (1-based).
final class ExtXYZErrorTests: XCTestCase {
    let goodFrame = "1\nProperties=species:S:1:pos:R:3\nH 0 0 0\n"

    func assertError(
        _ text: String, _ kind: StructureFileError.Kind, frame: Int?, line: Int?, mentions: String = "",
        file: StaticString = #filePath, sourceLine: UInt = #line
    ) {
        XCTAssertThrowsError(try ExtXYZ.read(string: text, name: "data.xyz"), file: file, line: sourceLine) { error in
            guard let e = error as? StructureFileError else {
                return XCTFail("unexpected error type \(error)", file: file, line: sourceLine)
            }
            let message = "\(e)"
            XCTAssertEqual(e.kind, kind, message, file: file, line: sourceLine)
            XCTAssertTrue(message.hasPrefix("data.xyz"), message, file: file, line: sourceLine)
            if let frame {
                XCTAssertTrue(message.contains("frame \(frame),"), message, file: file, line: sourceLine)
            }
            if let line {
                XCTAssertTrue(message.contains("line \(line):"), message, file: file, line: sourceLine)
            }
            if !mentions.isEmpty {
                XCTAssertTrue(message.contains(mentions), message, file: file, line: sourceLine)
            }
        }
    }

    func testBadAtomCount() {
        assertError(goodFrame + "two\nx\n", .badAtomCount, frame: 1, line: 4, mentions: "'two'")
        assertError("-1\n\n", .badAtomCount, frame: 0, line: 1)
    }

    func testTruncated() {
        assertError(goodFrame + goodFrame + "3\nProperties=species:S:1:pos:R:3\nH 0 0 0\n", .truncated,
                    frame: 2, line: 10, mentions: "3 atoms")
        assertError("5\n", .truncated, frame: 0, line: 2)
    }

    func testWrongColumnCount() {
        assertError(goodFrame + "2\npbc=\"F F F\"\nH 0 0 0\nH 0 0\n", .wrongColumnCount,
                    frame: 1, line: 7, mentions: "expected 4 columns")
    }

    func testUnparsableNumber() {
        assertError("1\n\nH 0 zero 0\n", .badNumber, frame: 0, line: 3, mentions: "'zero'")
        assertError("1\nProperties=species:S:1:pos:R:3:n:I:1\nH 0 0 0 1.5\n", .badNumber, frame: 0, line: 3,
                    mentions: "'n'")
    }

    func testUnknownElement() {
        assertError(goodFrame + goodFrame + "1\n\nQq 0 0 0\n", .unknownElement, frame: 2, line: 9, mentions: "'Qq'")
        assertError("1\nProperties=Z:I:1:pos:R:3\n200 0 0 0\n", .unknownElement, frame: 0, line: 3)
    }

    func testMalformedLattice() {
        assertError("1\nLattice=\"1 0 0 0 1 0 0 0\"\nH 0 0 0\n", .badLattice, frame: 0, line: 2, mentions: "found 8")
        assertError("1\nLattice=\"1 0 0 0 1 0 0 0 x\"\nH 0 0 0\n", .badLattice, frame: 0, line: 2, mentions: "'x'")
    }

    func testMalformedProperties() {
        assertError("1\nProperties=species:S:1:pos:R\nH 0 0 0\n", .badProperties, frame: 0, line: 2)
        assertError("1\nProperties=species:S:1:pos:Q:3\nH 0 0 0\n", .badProperties, frame: 0, line: 2, mentions: "'Q'")
        assertError("1\nProperties=species:S:1:pos:R:x\nH 0 0 0\n", .badProperties, frame: 0, line: 2)
        assertError("1\nProperties=species:S:1:pos:R:2\nH 0 0\n", .badProperties, frame: 0, line: 2)
        assertError("1\nProperties=species:S:1\nH\n", .badProperties, frame: 0, line: 2, mentions: "no 'pos'")
    }

    func testBadPBC() {
        assertError("1\npbc=\"T T maybe\"\nH 0 0 0\n", .badPBC, frame: 0, line: 2, mentions: "'maybe'")
        assertError("1\npbc=\"T T\"\nH 0 0 0\n", .badPBC, frame: 0, line: 2)
    }

    func testUnterminatedQuote() {
        assertError(goodFrame + "1\nname=\"open Properties=species:S:1:pos:R:3\nH 0 0 0\n", .unterminatedQuote,
                    frame: 1, line: 5)
    }

    func testEmptyAndMissingFile() {
        assertError("", .emptyFile, frame: nil, line: nil)
        assertError("\n  \n", .emptyFile, frame: nil, line: nil)
        XCTAssertThrowsError(try ExtXYZ.read(path: "/nonexistent/frames.xyz")) { error in
            XCTAssertEqual((error as? StructureFileError)?.kind, .fileNotFound)
            XCTAssertTrue("\(error)".contains("/nonexistent/frames.xyz"))
        }
    }

    func testMessageFormat() {
        let e = StructureFileError(file: "a.xyz", frame: 3, line: 17, kind: .badNumber, detail: "found 'x'")
        XCTAssertEqual(e.description, "a.xyz, frame 3, line 17: unparsable number: found 'x'")
        XCTAssertEqual(e.localizedDescription, e.description)
    }
}
