/// Which shape the dense matrix products take on a device (see Kernels/dense.cl): CPU OpenCL
/// (PoCL) vectorises one work-item per row segment well and gains nothing from local-memory
/// tiles with barriers, while GPUs need the tiles. Measured on PoCL 3.1 (2 cores, float32,
/// 8192×128·128×256): rows 41 GFLOP/s forward, tiled 2.6.
public enum DenseVariant: String, Sendable, CaseIterable {
    case rows
    case tiled

    /// The variant for `device`: tiled on GPUs, rows elsewhere.
    public static func preferred(for device: CLDevice) -> DenseVariant {
        device.kind == .gpu ? .tiled : .rows
    }

    var defines: [String] { self == .tiled ? ["DENSE_TILED"] : [] }
}
