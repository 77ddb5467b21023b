/// What an extxyz comment line says about its frame: cell, periodicity, column layout and
/// the remaining per-frame info, with ASE's defaults filled in.
struct ExtXYZHeader {
    var cell: [SIMD3<Double>] = [.zero, .zero, .zero]
    var pbc: [Bool] = [false, false, false]
    var columns: [ExtXYZColumnSpec] = ExtXYZColumnSpec.plainXYZ
    var info: [InfoEntry] = []

    /// ASE's rules: `Lattice` rows are the cell vectors; a `Lattice` without `pbc` means
    /// periodic in all three directions; no `Lattice` means a zero cell and, unless `pbc`
    /// says otherwise, no periodicity.
    static func parse(_ line: Substring) throws(LineProblem) -> ExtXYZHeader {
        var header = ExtXYZHeader()
        if ExtXYZCommentLine.isPlainComment(line) {
            let text = line.trimmingWhitespace()
            if !text.isEmpty { header.info.append(InfoEntry(key: "comment", value: .string(text))) }
            return header
        }
        var sawLattice = false
        var sawPBC = false
        for pair in try ExtXYZCommentLine.parse(line) {
            switch pair.key {
            case "Lattice":
                header.cell = try lattice(pair.value)
                sawLattice = true
            case "pbc":
                header.pbc = try pbc(pair.value)
                sawPBC = true
            case "Properties":
                guard case .text(let spec) = pair.value else {
                    throw LineProblem(kind: .badProperties, detail: "Properties must be a name:type:count list")
                }
                header.columns = try ExtXYZColumnSpec.parse(spec)
            default:
                header.info.setEntry(InfoEntry(key: pair.key, value: ExtXYZScalars.infoValue(pair.value)))
            }
        }
        if sawLattice && !sawPBC { header.pbc = [true, true, true] }
        return header
    }

    private static func lattice(_ raw: ExtXYZCommentLine.RawValue) throws(LineProblem) -> [SIMD3<Double>] {
        let text: String
        switch raw {
        case .flag: text = ""
        case .text(let t): text = t
        case .bracketed(let t): text = String(t.map { $0 == "," ? " " : $0 })
        }
        let words = ExtXYZScalars.words(text)
        guard words.count == 9 else {
            throw LineProblem(
                kind: .badLattice,
                detail: "expected 9 numbers (three cell vectors), found \(words.count) in \"\(text)\"")
        }
        var v: [Double] = []
        for word in words {
            guard let x = ExtXYZScalars.double(word) else {
                throw LineProblem(kind: .badLattice, detail: "'\(word)' is not a number")
            }
            v.append(x)
        }
        return [SIMD3(v[0], v[1], v[2]), SIMD3(v[3], v[4], v[5]), SIMD3(v[6], v[7], v[8])]
    }

    private static func pbc(_ raw: ExtXYZCommentLine.RawValue) throws(LineProblem) -> [Bool] {
        let text: String
        switch raw {
        case .flag: return [true, true, true]
        case .text(let t): text = t
        case .bracketed(let t): text = String(t.map { $0 == "," ? " " : $0 })
        }
        let words = ExtXYZScalars.words(text)
        var flags: [Bool] = []
        for word in words {
            guard let flag = ExtXYZScalars.bool(word) ?? (word == "1" ? true : word == "0" ? false : nil) else {
                throw LineProblem(kind: .badPBC, detail: "'\(word)' is not T or F in pbc=\"\(text)\"")
            }
            flags.append(flag)
        }
        switch flags.count {
        case 3: return flags
        case 1: return [flags[0], flags[0], flags[0]]
        default:
            throw LineProblem(kind: .badPBC, detail: "expected 3 flags like \"T T F\", found \"\(text)\"")
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
