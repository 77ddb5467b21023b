import Foundation
import XCTest
@testable import LoremIO

final class ExtXYZRoundTripTests: XCTestCase {
    static func sampleFrames() -> [Structure] {
        var bulk = Structure(
            numbers: [14, 14],
            positions: [SIMD3(0, 0, 0), SIMD3(1.3575, 1.3575, 1.3575)],
            cell: [SIMD3(0, 2.715, 2.715), SIMD3(2.715, 0, 2.715), SIMD3(2.715, 2.715, 0)],
            pbc: [true, true, true],
            info: [
                InfoEntry(key: "config_type", value: .string("bulk diamond")),
                InfoEntry(key: "step", value: .int(7)),
                InfoEntry(key: "converged", value: .bool(false)),
                InfoEntry(key: "virial", value: .doubles([0.1, -2.5e-7, 1 / 3.0, 4, 5, 6, 7, 8, 9])),
                InfoEntry(key: "tags", value: .ints([1, -2, 3])),
            ],
            arrays: [
                AtomColumn(name: "tag_int", width: 1, values: .int([[1], [2]])),
                AtomColumn(name: "fixed", width: 3, values: .bool([[true, false, true], [false, false, false]])),
                AtomColumn(name: "label", width: 1, values: .string([["a"], ["b"]])),
            ])
        bulk.setCalculatorResults(
            energy: -10.123456789012345, forces: [SIMD3(0.1, -0.2, 0.3), SIMD3(-0.1, 0.2, -0.3)],
            stress: [0.01, 0.02, 0.03, 0.001, 0.002, 0.003])
        let slab = Structure(
            numbers: [29, 29, 8],
            positions: [SIMD3(0, 0, 10), SIMD3(1.8, 0, 10), SIMD3(0.9, 0.9, 11.7)],
            cell: [SIMD3(3.6, 0, 0), SIMD3(0, 3.6, 0), SIMD3(0, 0, 25)],
            pbc: [true, true, false])
        let molecule = Structure(
            numbers: [8, 1, 1],
            positions: [SIMD3(0, 0, 0.119262), SIMD3(0, 0.763239, -0.477047), SIMD3(0, -0.763239, -0.477047)],
            info: [InfoEntry(key: "energy", value: .double(-14.2))])
        return [bulk, slab, molecule]
    }

    func testWriteReadRoundTripIsExact() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("frames.extxyz")
        let frames = Self.sampleFrames()
        try ExtXYZ.write(frames, to: path)
        let back = try ExtXYZ.read(path: path)
        XCTAssertEqual(back, frames)
        XCTAssertEqual(back[1].periodicDimensions, 2)
        XCTAssertEqual(back[2].cell, [.zero, .zero, .zero])
        XCTAssertEqual(back[2].pbc, [false, false, false])
    }

    func testFormatLayoutMatchesASE() throws {
        let text = try ExtXYZ.format(Self.sampleFrames())
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines[0], "2")
        XCTAssertTrue(lines[1].hasPrefix("Lattice=\"0.0 2.715 2.715 2.715 0.0 2.715 2.715 2.715 0.0\" "))
        XCTAssertTrue(lines[1].contains(
            "Properties=species:S:1:pos:R:3:tag_int:I:1:fixed:L:3:label:S:1:forces:R:3 "))
        XCTAssertTrue(lines[1].contains("config_type=\"bulk diamond\""))
        XCTAssertTrue(lines[1].contains("energy=-10.1234567890123"), String(lines[1]))
        // ASE only reads stress as a 9-value matrix.
        XCTAssertTrue(lines[1].contains("stress=\"0.01 0.003 0.002 0.003 0.02 0.001 0.002 0.001 0.03\""), String(lines[1]))
        XCTAssertTrue(lines[1].hasSuffix("pbc=\"T T T\""))
        XCTAssertEqual(lines[2], "Si 0.0 0.0 0.0 1 T F T a 0.1 -0.2 0.3")
        // Molecule: no Lattice, but pbc is written as ASE does.
        XCTAssertEqual(lines[10], "Properties=species:S:1:pos:R:3 energy=-14.2 pbc=\"F F F\"")
    }

    func testVoigtStressInfoIsWrittenAsMatrix() throws {
        let s = Structure(numbers: [1], positions: [.zero], info: [InfoEntry(key: "stress", value: .doubles([1, 2, 3, 4, 5, 6]))])
        let text = try ExtXYZ.format([s])
        XCTAssertTrue(text.contains("stress=\"1.0 6.0 5.0 6.0 2.0 4.0 5.0 4.0 3.0\""), text)
        XCTAssertEqual(try ExtXYZ.read(string: text)[0].stressVoigt, [1, 2, 3, 4, 5, 6])
    }

    func testWriteIsAtomicAndLeavesNoTemporaryFiles() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("out.xyz")
        try ExtXYZ.write(Self.sampleFrames(), to: path)
        let before = try String(contentsOfFile: path, encoding: .utf8)
        var broken = Self.sampleFrames()
        broken[0].arrays[0] = AtomColumn(name: "tag_int", width: 1, values: .int([[1]]))  // 1 row for 2 atoms
        XCTAssertThrowsError(try ExtXYZ.write(broken, to: path)) { error in
            XCTAssertTrue("\(error)".contains("frame 0"), "\(error)")
            XCTAssertTrue("\(error)".contains("tag_int"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["out.xyz"])
        XCTAssertThrowsError(try ExtXYZ.write(Self.sampleFrames(), to: dir.path("missing/dir/out.xyz"))) { error in
            XCTAssertEqual((error as? StructureFileError)?.kind, .writeFailed)
        }
    }

    func testCalculatorResultsReplaceExistingEntriesInPlace() {
        var s = Structure(
            numbers: [1], positions: [.zero],
            info: [InfoEntry(key: "a", value: .int(1)), InfoEntry(key: "energy", value: .double(0)),
                   InfoEntry(key: "b", value: .int(2))],
            arrays: [AtomColumn(name: "forces", width: 3, values: .real([[0, 0, 0]])),
                     AtomColumn(name: "q", width: 1, values: .real([[0.5]]))])
        s.setCalculatorResults(energy: -3, forces: [SIMD3(1, 2, 3)], stress: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(s.info(named: "stress"), .doubles([1, 6, 5, 6, 2, 4, 5, 4, 3]))
        XCTAssertEqual(s.stressVoigt, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(s.info.map(\.key), ["a", "energy", "b", "stress"])
        XCTAssertEqual(s.info(named: "energy"), .double(-3))
        XCTAssertEqual(s.arrays.map(\.name), ["forces", "q"])
        XCTAssertEqual(s.realColumn(named: "forces"), [[1, 2, 3]])
        XCTAssertEqual(s.array(named: "forces")?.width, 3)
        XCTAssertEqual(s.removeInfo(key: "a"), .int(1))
        XCTAssertNil(s.info(named: "a"))
    }
}

/// A fresh directory under the system temporary folder, removed when the test ends.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("loremio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}
