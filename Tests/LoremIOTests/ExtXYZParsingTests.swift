import XCTest
@testable import LoremIO

final class ExtXYZParsingTests: XCTestCase {
    /// Mirrors what `ase.io.write(..., format="extxyz")` produces for a frame with a
    /// SinglePointCalculator, followed by a molecule frame.
    let aseStyle = """
        2
        Lattice="5.0 0.0 0.0 0.0 5.0 0.0 0.0 0.0 5.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.5 stress="0.1 0.6 0.5 0.6 0.2 0.4 0.5 0.4 0.3" free_energy=-1.5 pbc="T T T"
        Na       0.00000000       0.00000000       0.00000000       0.01000000      -0.02000000       0.03000000
        Cl       2.50000000       2.50000000       2.50000000      -0.01000000       0.02000000      -0.03000000
        3
        Properties=species:S:1:pos:R:3 pbc="F F F"
        O        0.00000000       0.00000000       0.11926200
        H        0.00000000       0.76323900      -0.47704700
        H        0.00000000      -0.76323900      -0.47704700

        """

    func testASEStyleFile() throws {
        let frames = try ExtXYZ.read(string: aseStyle, name: "ase.extxyz")
        XCTAssertEqual(frames.count, 2)
        let nacl = frames[0]
        XCTAssertEqual(nacl.numbers, [11, 17])
        XCTAssertEqual(nacl.cell, [SIMD3(5, 0, 0), SIMD3(0, 5, 0), SIMD3(0, 0, 5)])
        XCTAssertEqual(nacl.pbc, [true, true, true])
        XCTAssertEqual(nacl.positions[1], SIMD3(2.5, 2.5, 2.5))
        XCTAssertEqual(nacl.info(named: "energy"), .double(-1.5))
        XCTAssertEqual(nacl.info(named: "stress"), .doubles([0.1, 0.6, 0.5, 0.6, 0.2, 0.4, 0.5, 0.4, 0.3]))
        XCTAssertEqual(nacl.stressVoigt, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        XCTAssertEqual(nacl.info.map(\.key), ["energy", "stress", "free_energy"])
        XCTAssertEqual(nacl.realColumn(named: "forces"), [[0.01, -0.02, 0.03], [-0.01, 0.02, -0.03]])
        XCTAssertEqual(frames[1].numbers, [8, 1, 1])
        XCTAssertEqual(frames[1].pbc, [false, false, false])
        XCTAssertEqual(frames[1].cell, [.zero, .zero, .zero])
    }

    func testQuotedAndTypedInfoValues() throws {
        let text = """
            1
            a=1 b=2.5 c=T d=False e="hello world" f="1 2 3" g="1.5 2 3" h={4 5 6} i=[1.0, 2.0] flag k = 7 esc="say \\"hi\\"" s=word q='single quoted' c1="1,2,3" Lattice="1 0 0 0 1 0 0 0 1"
            H 0 0 0
            """
        let s = try ExtXYZ.read(string: text)[0]
        XCTAssertEqual(s.info(named: "a"), .int(1))
        XCTAssertEqual(s.info(named: "b"), .double(2.5))
        XCTAssertEqual(s.info(named: "c"), .bool(true))
        XCTAssertEqual(s.info(named: "d"), .bool(false))
        XCTAssertEqual(s.info(named: "e"), .string("hello world"))
        XCTAssertEqual(s.info(named: "f"), .ints([1, 2, 3]))
        XCTAssertEqual(s.info(named: "g"), .doubles([1.5, 2, 3]))
        XCTAssertEqual(s.info(named: "h"), .ints([4, 5, 6]))
        XCTAssertEqual(s.info(named: "i"), .doubles([1, 2]))
        XCTAssertEqual(s.info(named: "flag"), .bool(true))
        XCTAssertEqual(s.info(named: "k"), .int(7))
        XCTAssertEqual(s.info(named: "esc"), .string("say \"hi\""))
        XCTAssertEqual(s.info(named: "s"), .string("word"))
        XCTAssertEqual(s.info(named: "q"), .string("single quoted"))
        XCTAssertEqual(s.info(named: "c1"), .ints([1, 2, 3]))
        // Lattice without pbc means periodic, as in ASE; Lattice is not kept in info.
        XCTAssertEqual(s.pbc, [true, true, true])
        XCTAssertNil(s.info(named: "Lattice"))
        // Keys are case-sensitive: `lattice` is ordinary info.
        let lower = try ExtXYZ.read(string: "1\nlattice=\"1 0 0 0 1 0 0 0 1\"\nH 0 0 0\n")[0]
        XCTAssertEqual(lower.cell, [.zero, .zero, .zero])
        XCTAssertEqual(lower.info(named: "lattice"), .ints([1, 0, 0, 0, 1, 0, 0, 0, 1]))
    }

    func testPlainXYZAndSpeciesForms() throws {
        let text = "3\nwater molecule\nO 0 0 0\nh 0 0.76 -0.47\n1 0 -0.76 -0.47\n2\n\nCL 0 0 0\nna 1 1 1\n"
        let frames = try ExtXYZ.read(string: text)
        XCTAssertEqual(frames[0].numbers, [8, 1, 1])
        XCTAssertEqual(frames[0].info, [InfoEntry(key: "comment", value: .string("water molecule"))])
        XCTAssertEqual(frames[0].pbc, [false, false, false])
        XCTAssertEqual(frames[1].numbers, [17, 11])
        XCTAssertEqual(frames[1].info, [])
    }

    func testZColumnWinsOverSpeciesAndWindowsLineEndings() throws {
        let text = "2\r\nProperties=species:S:1:pos:R:3:Z:I:1:charge:R:1 pbc=\"T T F\" Lattice=\"3 0 0 0 3 0 0 0 9\"\r\nXx 0 0 0 6 0.5\r\nYy 1 1 1 8 -0.5\r\n"
        let s = try ExtXYZ.read(string: text)[0]
        XCTAssertEqual(s.numbers, [6, 8])
        XCTAssertEqual(s.pbc, [true, true, false])
        XCTAssertEqual(s.arrays.map(\.name), ["charge"])
        XCTAssertEqual(s.realColumn(named: "charge"), [[0.5], [-0.5]])
    }

    /// Words split on ASCII bytes equal words split on Characters, including "\r\n" (one
    /// Character), vertical tab and form feed; a non-ASCII space still separates.
    func testWordsOnBytesMatchWordsOnCharacters() {
        let lines = ["  Na 0.5\t-1e-3  \r\n", "a\u{0B}b\u{0C}c\rd", "", "   ", "x", "H 1 2 3\n"]
        for line in lines {
            XCTAssertEqual(ExtXYZScalars.words(line), line.split(whereSeparator: { $0.isWhitespace }), line.debugDescription)
        }
        XCTAssertEqual(ExtXYZScalars.words("O\u{00A0}1.5 é"), ["O", "1.5", "é"])
        XCTAssertEqual(ExtXYZScalars.words(" Na  0.5 ").map(String.init), ["Na", "0.5"])
        XCTAssertNil(ExtXYZScalars.double("0x1p3"))
        XCTAssertEqual(ExtXYZScalars.double("-1.5e-3"), -1.5e-3)
    }

    func testElementTable() {
        XCTAssertEqual(Elements.symbols.count, 119)
        XCTAssertEqual(Elements.symbol(for: 1), "H")
        XCTAssertEqual(Elements.symbol(for: 26), "Fe")
        XCTAssertEqual(Elements.symbol(for: 79), "Au")
        XCTAssertEqual(Elements.symbol(for: 118), "Og")
        XCTAssertNil(Elements.symbol(for: 119))
        XCTAssertEqual(Elements.atomicNumber(for: "cl"), 17)
        XCTAssertEqual(Elements.atomicNumber(for: "8"), 8)
        XCTAssertNil(Elements.atomicNumber(for: "Qq"))
        for (z, symbol) in Elements.symbols.enumerated() {
            XCTAssertEqual(Elements.atomicNumber(for: symbol), z)
        }
    }
}
