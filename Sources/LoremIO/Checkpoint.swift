import Foundation

/// A trained LOREM model as written by lorem-train: hyper-parameters, per-element energy
/// baseline and the flax parameter tree.
///
/// This type only reads and structures the files; checking that the hyper-parameters and
/// array shapes make sense is the model layer's job.
public struct Checkpoint: Sendable {
    /// The `model/` folder the files were read from.
    public var directory: String
    /// Fully qualified Python class of the model (the single top-level key of model.yaml).
    public var modelClass: String
    public var hyperParameters: [String: ConfigValue]
    /// Energy offset per atomic number (eV), added per atom on top of the network output.
    public var baseline: [Int: Double]
    /// Weight arrays keyed by their "/"-joined path in the flax tree, every level kept.
    public var parameters: [String: ParamArray]

    public init(
        directory: String, modelClass: String, hyperParameters: [String: ConfigValue],
        baseline: [Int: Double], parameters: [String: ParamArray]
    ) {
        self.directory = directory
        self.modelClass = modelClass
        self.hyperParameters = hyperParameters
        self.baseline = baseline
        self.parameters = parameters
    }

    public static let modelFile = "model.yaml"
    public static let baselineFile = "baseline.yaml"
    public static let weightsFile = "model.msgpack"

    /// Loads from a lorem-train run folder (containing `model/`) or the `model/` folder itself.
    /// Throws `CheckpointError`.
    public static func load(path: String) throws -> Checkpoint {
        let directory = try modelDirectory(for: path)
        func file(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let (modelClass, hyperParameters) = try CheckpointYAML.model(
            try CheckpointYAML.read(file(modelFile)), file: file(modelFile))
        let baseline = try CheckpointYAML.baseline(
            try CheckpointYAML.read(file(baselineFile)), file: file(baselineFile))
        let parameters = try ParameterTree.load(file(weightsFile))
        return Checkpoint(
            directory: directory, modelClass: modelClass, hyperParameters: hyperParameters,
            baseline: baseline, parameters: parameters)
    }

    /// Decodes a checkpoint held in memory (the model embedded in the binary); `name` stands
    /// in for the folder in error messages and `directory`.
    public static func decode(modelYAML: Data, baselineYAML: Data, weights: Data, name: String) throws -> Checkpoint {
        let (modelClass, hyperParameters) = try CheckpointYAML.model(
            try CheckpointYAML.parse(modelYAML, name: name + "/" + modelFile), file: name + "/" + modelFile)
        let baseline = try CheckpointYAML.baseline(
            try CheckpointYAML.parse(baselineYAML, name: name + "/" + baselineFile), file: name + "/" + baselineFile)
        let parameters = try ParameterTree.decode(weights, name: name + "/" + weightsFile)
        return Checkpoint(
            directory: name, modelClass: modelClass, hyperParameters: hyperParameters,
            baseline: baseline, parameters: parameters)
    }

    /// `path/model` when it exists, else `path` itself; users pass either.
    static func modelDirectory(for path: String) throws(CheckpointError) -> String {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError(path: path, kind: .missingFolder, detail: "no such directory")
        }
        let nested = (path as NSString).appendingPathComponent("model")
        if fm.fileExists(atPath: nested, isDirectory: &isDirectory), isDirectory.boolValue {
            return nested
        }
        let hasModelFiles = [modelFile, baselineFile, weightsFile].contains {
            fm.fileExists(atPath: (path as NSString).appendingPathComponent($0))
        }
        guard hasModelFiles else {
            throw CheckpointError(
                path: path, kind: .missingFolder,
                detail: "neither a 'model/' folder nor \(modelFile)/\(weightsFile) found here")
        }
        return path
    }
}
