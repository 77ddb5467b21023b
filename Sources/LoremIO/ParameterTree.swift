import Foundation

/// Flattens a flax msgpack parameter tree into "/"-joined paths → arrays.
///
/// Every map level is kept as found (`params/...`, module names with `_0` suffixes), so the
/// model layer can match names exactly against what lorem-jax produced.
enum ParameterTree {
    static func load(_ path: String) throws(CheckpointError) -> [String: ParamArray] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CheckpointError(path: path, kind: .missingFile, detail: "file does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, kind: .unreadable, detail: "cannot read file")
        }
        return try decode(data, name: path)
    }

    /// Decodes msgpack bytes; `name` labels errors.
    static func decode(_ data: Data, name path: String) throws(CheckpointError) -> [String: ParamArray] {
        let root: MsgPackValue
        do {
            root = try MsgPack.decode([UInt8](data))
        } catch {
            throw CheckpointError(path: path, kind: .corruptMsgPack, detail: "\(error)")
        }
        guard case .map = root else {
            throw CheckpointError(path: path, kind: .badParameter, detail: "top level is a \(root.kindName), expected a map")
        }
        var out: [String: ParamArray] = [:]
        try flatten(root, prefix: "", into: &out, file: path)
        return out
    }

    static func flatten(
        _ value: MsgPackValue, prefix: String, into out: inout [String: ParamArray], file: String
    ) throws(CheckpointError) {
        switch value {
        case .map(let pairs):
            if pairs.contains(where: { $0.key == .string("__msgpack_chunked_array__") }) {
                throw CheckpointError(
                    path: file, kind: .badParameter,
                    detail: "'\(prefix)' is a chunked array (over 1 GiB), which is not supported")
            }
            for pair in pairs {
                let key: String
                switch pair.key {
                case .string(let s): key = s
                case .int, .uint: key = "\(pair.key.intValue.map(String.init) ?? "\(pair.key)")"
                default:
                    throw CheckpointError(
                        path: file, kind: .badParameter,
                        detail: "map key of kind \(pair.key.kindName) under '\(prefix)' is not a string")
                }
                let path = prefix.isEmpty ? key : prefix + "/" + key
                try flatten(pair.value, prefix: path, into: &out, file: file)
            }
        case .ext(let type, let payload):
            do {
                out[prefix] = try ParamArray(flaxExtType: type, payload: payload)
            } catch {
                throw CheckpointError(path: file, kind: .badParameter, detail: "'\(prefix)': \(error)")
            }
        default:
            throw CheckpointError(
                path: file, kind: .badParameter,
                detail: "'\(prefix)' is a \(value.kindName), expected an array (msgpack ext type 1)")
        }
    }
}
