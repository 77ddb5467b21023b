import Foundation

/// Reading of the two YAML files of a checkpoint into their typed content.
enum CheckpointYAML {
    /// Reads and parses `path`, turning absence and syntax errors into `CheckpointError`s.
    static func read(_ path: String) throws(CheckpointError) -> ConfigValue {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CheckpointError(path: path, kind: .missingFile, detail: "file does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, kind: .unreadable, detail: "cannot read file")
        }
        return try parse(data, name: path)
    }

    /// Parses YAML bytes; `name` labels errors (a path, or what the bytes came from).
    static func parse(_ data: Data, name path: String) throws(CheckpointError) -> ConfigValue {
        guard let text = String(data: data, encoding: .utf8) else {
            throw CheckpointError(path: path, kind: .unreadable, detail: "cannot read as UTF-8 text")
        }
        do {
            return try ConfigYAML.parse(text)
        } catch {
            throw CheckpointError(path: path, kind: .yamlSyntax, detail: "\(error)")
        }
    }

    /// model.yaml is `{fully.qualified.Class: {hyper: parameters}}`, mirroring how lorem
    /// serialises a model spec.
    static func model(_ root: ConfigValue, file: String) throws(CheckpointError) -> (String, [String: ConfigValue]) {
        guard case .map(let top) = root, top.count == 1, let (name, body) = top.first else {
            throw CheckpointError(
                path: file, kind: .badLayout,
                detail: "expected a mapping with a single key naming the model class, e.g. 'lorem.models.mlip.Lorem:'")
        }
        switch body {
        case .map(let hyper): return (name, hyper)
        case .null: return (name, [:])
        default:
            throw CheckpointError(
                path: file, kind: .badLayout,
                detail: "the value of '\(name)' must be a mapping of hyper-parameters")
        }
    }

    /// baseline.yaml holds `elemental: {Z: energy}`. A wrapper key (class name) around it
    /// is tolerated, in the same style as model.yaml.
    static func baseline(_ root: ConfigValue, file: String) throws(CheckpointError) -> [Int: Double] {
        var elemental = root["elemental"]
        if elemental == nil, case .map(let top) = root, top.count == 1 {
            elemental = top.first?.value["elemental"]
        }
        guard let elemental else {
            throw CheckpointError(path: file, kind: .badLayout, detail: "no 'elemental' mapping")
        }
        if elemental.isNull { return [:] }
        guard case .map(let entries) = elemental else {
            throw CheckpointError(
                path: file, kind: .badLayout, detail: "'elemental' must map atomic numbers to energies")
        }
        var baseline: [Int: Double] = [:]
        for (key, value) in entries {
            guard let z = Int(key.trimmingCharacters(in: .whitespaces)), (0...Elements.maxAtomicNumber).contains(z)
            else {
                throw CheckpointError(
                    path: file, kind: .badLayout, detail: "'elemental' key '\(key)' is not an atomic number")
            }
            guard let energy = value.doubleValue else {
                throw CheckpointError(
                    path: file, kind: .badLayout, detail: "'elemental' energy for Z=\(z) is not a number: \(value)")
            }
            baseline[z] = energy
        }
        return baseline
    }
}
