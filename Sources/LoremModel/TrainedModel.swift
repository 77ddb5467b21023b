import LoremIO

/// A runnable model: hyper-parameters, shape-checked weights and the elemental baseline, read
/// from a lorem-train checkpoint (model.yaml, model.msgpack, baseline.yaml).
public struct TrainedModel: Sendable {
    public let config: LoremConfig
    public let weights: LoremWeights
    /// Atomic number → energy added per atom, as `LOREMCalculator.from_checkpoint` does.
    public let baseline: [Int: Double]
    /// The model/ folder it was read from.
    public let directory: String

    public init(config: LoremConfig, weights: LoremWeights, baseline: [Int: Double], directory: String) {
        self.config = config
        self.weights = weights
        self.baseline = baseline
        self.directory = directory
    }

    public static func load(path: String) throws -> TrainedModel {
        try TrainedModel(checkpoint: Checkpoint.load(path: path))
    }

    public init(checkpoint: Checkpoint) throws {
        let yaml = checkpoint.directory + "/" + Checkpoint.modelFile
        config = try LoremConfig(modelClass: checkpoint.modelClass, hyperParameters: checkpoint.hyperParameters, file: yaml)
        weights = try LoremWeights(
            config: config, parameters: checkpoint.parameters,
            file: checkpoint.directory + "/" + Checkpoint.weightsFile)
        baseline = checkpoint.baseline
        directory = checkpoint.directory
    }

    /// Why the model cannot evaluate a structure of these elements (the first element its
    /// baseline lacks), or nil when it can.
    public func unknownElement(in numbers: [Int]) -> String? {
        guard let z = Set(numbers).sorted().first(where: { baseline[$0] == nil }) else { return nil }
        return "element \(Elements.symbol(for: z) ?? "Z=\(z)") is not in the model's baseline (the model knows \(knownElements))"
    }

    /// Σ_i baseline(Z_i): the elemental energies added to the model's energy, as lorem-jax's
    /// calculator reports it. Every element must be known (`unknownElement(in:)` is nil).
    public func baselineEnergy(_ numbers: [Int]) -> Double {
        numbers.reduce(0.0) { $0 + baseline[$1]! }
    }

    /// Element symbols the baseline covers, for error messages.
    public var knownElements: String {
        baseline.keys.sorted().map { Elements.symbol(for: $0) ?? "Z=\($0)" }.joined(separator: ", ")
    }
}

extension LoremConfig {
    /// Reads model.yaml's hyper-parameters; absent keys keep lorem-jax's defaults, unknown keys and
    /// mistyped values are errors naming the file and key.
    public init(modelClass: String, hyperParameters hp: [String: ConfigValue], file: String) throws {
        switch modelClass {
        case LoremConfig.modelClass, "lorem.Lorem", "Lorem": self.init()
        case LoremConfig.bornEffectiveChargeClass, "lorem.LoremBEC": self = LoremConfig.bornEffectiveChargeDefaults()
        default:
            throw ModelError.badHyperParameter(file: file, name: "model class",
                                               reason: "'\(modelClass)' is neither \(LoremConfig.modelClass) nor \(LoremConfig.bornEffectiveChargeClass)")
        }
        for (key, value) in hp {
            func bad(_ expected: String) -> ModelError {
                .badHyperParameter(file: file, name: key, reason: "expected \(expected), found \(value)")
            }
            func int() throws -> Int { guard let v = value.intValue else { throw bad("an integer") }; return v }
            func bool() throws -> Bool { guard let v = value.boolValue else { throw bad("true or false") }; return v }
            func string() throws -> String { guard let v = value.stringValue else { throw bad("a string") }; return v }
            switch key {
            case "cutoff": guard let v = value.doubleValue else { throw bad("a number") }; cutoff = v
            case "max_degree": maxDegree = try int()
            case "max_degree_lr": maxDegreeLR = try int()
            case "num_features": numFeatures = try int()
            case "num_radial": numRadial = try int()
            case "num_species": numSpecies = try int()
            case "num_spherical_features": numSphericalFeatures = try int()
            case "cutoff_fn": cutoffFunction = try string()
            case "radial_basis": radialBasis = try string()
            case "lr": longRange = try bool()
            case "num_message_passing": numMessagePassing = try int()
            case "equivariant_message_passing": equivariantMessagePassing = try bool()
            case "initialize_node_features": initializeNodeFeatures = try bool()
            case "inputs":
                if let list = value.listValue, !list.isEmpty {
                    throw ModelError.unsupported("extra model inputs \(list) in \(file)")
                }
            default:
                throw ModelError.badHyperParameter(file: file, name: key, reason: "unknown hyper-parameter of Lorem")
            }
        }
        try validate(file: file)
    }
}
