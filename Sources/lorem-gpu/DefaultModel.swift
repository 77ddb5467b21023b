import Foundation
import LoremIO
import LoremModel

/// The model `predict`, `verify` and `bench` use without --model: models/default (its card is
/// models/default/MODEL_CARD.md), compiled into the binary by scripts/embed_default_model.py so
/// an installed lorem-gpu needs no files beside it.
enum DefaultModel {
    static let name = "built-in default model (models/default)"

    static func load() throws -> TrainedModel {
        guard let weights = Data(base64Encoded: EmbeddedDefaultModel.weightsBase64, options: .ignoreUnknownCharacters) else {
            throw CheckpointError(path: name, kind: .corruptMsgPack, detail: "embedded weights are not valid base64")
        }
        return try TrainedModel(checkpoint: Checkpoint.decode(
            modelYAML: Data(EmbeddedDefaultModel.modelYAML.utf8), baselineYAML: Data(EmbeddedDefaultModel.baselineYAML.utf8),
            weights: weights, name: name))
    }

    /// The checkpoint at `path`, or the default model when `path` is nil.
    static func resolve(_ path: String?) throws -> TrainedModel {
        try path.map { try TrainedModel.load(path: $0) } ?? load()
    }
}
