/// The `Properties=name:T:n:...` column specification of an extxyz frame.
///
/// It tells how each atom line splits into named columns; without it ASE assumes
/// `species:S:1:pos:R:3`, i.e. a plain xyz file.
struct ExtXYZColumnSpec: Equatable {
    enum ValueType: Character {
        case real = "R"
        case integer = "I"
        case string = "S"
        case logical = "L"
    }

    var name: String
    var type: ValueType
    var width: Int

    static let plainXYZ = [
        ExtXYZColumnSpec(name: "species", type: .string, width: 1),
        ExtXYZColumnSpec(name: "pos", type: .real, width: 3),
    ]

    static func parse(_ spec: String) throws(LineProblem) -> [ExtXYZColumnSpec] {
        let fields = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard !spec.isEmpty, fields.count % 3 == 0 else {
            throw LineProblem(
                kind: .badProperties,
                detail: "'\(spec)' is not a list of name:type:count triples")
        }
        var columns: [ExtXYZColumnSpec] = []
        var seen = Set<String>()
        for start in stride(from: 0, to: fields.count, by: 3) {
            let name = String(fields[start])
            let typeField = fields[start + 1]
            guard !name.isEmpty else {
                throw LineProblem(kind: .badProperties, detail: "empty column name in '\(spec)'")
            }
            guard typeField.count == 1, let type = ValueType(rawValue: typeField.first!) else {
                throw LineProblem(
                    kind: .badProperties,
                    detail: "column '\(name)' has type '\(typeField)'; expected one of R, I, S, L")
            }
            guard let width = Int(fields[start + 2]), width > 0 else {
                throw LineProblem(
                    kind: .badProperties,
                    detail: "column '\(name)' has count '\(fields[start + 2])'; expected a positive integer")
            }
            guard seen.insert(name).inserted else {
                throw LineProblem(kind: .badProperties, detail: "column '\(name)' appears twice")
            }
            columns.append(ExtXYZColumnSpec(name: name, type: type, width: width))
        }
        return columns
    }

    var specText: String { "\(name):\(type.rawValue):\(width)" }
}
