import Foundation
import XCTest
@testable import LoremIO

/// `ExtXYZFrames` reads a file a chunk at a time: frames, line numbers and errors must be the same
/// wherever the reads split lines, CRLF pairs or multi-byte characters, and a malformed frame can
/// be passed over when its extent is known.
final class ExtXYZStreamingTests: XCTestCase {
    func frames(of path: String, chunkSize: Int, maximumLineLength: Int = 1 << 20) throws -> [Structure] {
        var reader = try ExtXYZFrames(path: path, chunkSize: chunkSize, maximumLineLength: maximumLineLength)
        var out: [Structure] = []
        while let f = try reader.next() { out.append(f) }
        return out
    }

    /// Every chunk size from 1 byte up gives the frames the whole-text parser gives, with CRLF line
    /// ends, a BOM and a non-ASCII string value in the text.
    func testChunkBoundariesDoNotChangeTheFrames() throws {
        let dir = try TemporaryDirectory()
        let text = try ExtXYZ.format(ExtXYZRoundTripTests.sampleFrames())
            .replacingOccurrences(of: "config_type=\"bulk diamond\"", with: "config_type=\"Å-phase βα\"")
        let expected = try ExtXYZ.read(string: text)
        XCTAssertEqual(expected.count, 3)
        XCTAssertEqual(expected[0].info(named: "config_type"), .string("Å-phase βα"))
        let crlf = "\u{FEFF}" + text.replacingOccurrences(of: "\n", with: "\r\n")
        try crlf.write(toFile: dir.path("in.xyz"), atomically: true, encoding: .utf8)
        for chunk in [1, 2, 3, 5, 7, 64, 1 << 20] {
            XCTAssertEqual(try frames(of: dir.path("in.xyz"), chunkSize: chunk), expected, "chunk \(chunk)")
        }
    }

    /// A bad atom line or comment line names its frame and line; the reader then goes on with the
    /// next frame, and frame indices keep counting the file's frames.
    func testMalformedFrameIsPassedOver() throws {
        let good = "1\nProperties=species:S:1:pos:R:3\nH 0 0 0\n"
        let text = good + "2\n\nH 0 0 0\nH 0 x 0\n" + good + "1\nLattice=\"1 2\"\nH 0 0 0\n" + good
        var reader = ExtXYZFrames(string: text, name: "t.xyz")
        XCTAssertNotNil(try reader.next())
        XCTAssertEqual(reader.nextFrameIndex, 1)
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertEqual("\(error)", "t.xyz, frame 1, line 7: unparsable number: column 'pos' expects a real number, found 'x'")
        }
        XCTAssertTrue(reader.canContinue)
        XCTAssertEqual(reader.nextFrameIndex, 2)
        XCTAssertEqual(try reader.next()?.count, 1)
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertEqual((error as? StructureFileError)?.kind, .badLattice)
            XCTAssertEqual((error as? StructureFileError)?.line, 12)
            XCTAssertEqual((error as? StructureFileError)?.frame, 3)
        }
        XCTAssertTrue(reader.canContinue)
        XCTAssertEqual(reader.nextFrameIndex, 4)
        XCTAssertNotNil(try reader.next())
        XCTAssertNil(try reader.next())
    }

    /// Without a readable atom count the next frame cannot be found: reading stops there.
    func testUnreadableCountStopsTheReader() throws {
        let good = "1\nProperties=species:S:1:pos:R:3\nH 0 0 0\n"
        for bad in ["x\n" + good, "\n" + good, "-3\n" + good, "3\nProperties=species:S:1:pos:R:3\nH 0 0 0\n"] {
            var reader = ExtXYZFrames(string: good + bad, name: "t.xyz")
            XCTAssertNotNil(try reader.next())
            XCTAssertThrowsError(try reader.next(), bad.debugDescription)
            XCTAssertFalse(reader.canContinue, bad.debugDescription)
            XCTAssertNil(try reader.next(), "nothing after an unframeable error")
        }
    }

    /// An invalid UTF-8 byte is reported on its line; an atom line that is not UTF-8 is a bad frame
    /// like any other, passed over.
    func testInvalidUTF8IsReportedWithItsLine() throws {
        let dir = try TemporaryDirectory()
        var bytes = Array("1\nProperties=species:S:1:pos:R:3\nH 0 0 0\n1\n\n".utf8)
        bytes += [0x48, 0xFF, 0x20, 0x30, 0x20, 0x30, 0x20, 0x30, 0x0A]
        bytes += Array("1\n\nO 0 0 0\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path("in.xyz")))
        var reader = try ExtXYZFrames(path: dir.path("in.xyz"), chunkSize: 4, maximumLineLength: 100)
        XCTAssertNotNil(try reader.next())
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertEqual("\(error)", "\(dir.path("in.xyz")), frame 1, line 6: cannot read file: not UTF-8 text")
        }
        XCTAssertTrue(reader.canContinue)
        XCTAssertEqual(try reader.next()?.numbers, [8])
    }

    /// A file without newlines (a binary read by mistake) fails at the line-length bound instead of
    /// filling memory.
    func testOverlongLineIsAnError() throws {
        let dir = try TemporaryDirectory()
        try String(repeating: "9", count: 5000).write(toFile: dir.path("in.xyz"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try frames(of: dir.path("in.xyz"), chunkSize: 256, maximumLineLength: 1000)) { error in
            XCTAssertEqual((error as? StructureFileError)?.line, 1)
            XCTAssertTrue("\(error)".contains("a line longer than 1000 bytes"), "\(error)")
        }
    }

    /// An absurd atom count is not allocated up front: the file ends first and says so.
    func testAbsurdAtomCountIsTruncation() throws {
        XCTAssertThrowsError(try ExtXYZ.read(string: "999999999999999\n\nH 0 0 0\n")) { error in
            XCTAssertEqual((error as? StructureFileError)?.kind, .truncated)
            XCTAssertTrue("\(error)".contains("after 1 atom lines"), "\(error)")
        }
    }

    /// `AtomicFile` writes in pieces: nothing at the path until `commit`, nothing anywhere after a
    /// discard, and the old file untouched by an abandoned write.
    func testAtomicFileAppearsOnlyOnCommit() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("out.xyz")
        try "old".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            let file = try AtomicFile(path: path)
            try file.append("new ")
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).count, 2, "a temporary file beside it")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["out.xyz"], "dropped without commit")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        let file = try AtomicFile(path: path)
        try file.append("new ")
        try file.append("text")
        try file.commit()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new text")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["out.xyz"])
        XCTAssertThrowsError(try file.append("more"), "closed after commit")
    }
}
