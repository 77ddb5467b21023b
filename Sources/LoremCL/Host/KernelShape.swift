/// Which shape a kernel family's loops take on a device. CPU OpenCL (PoCL) vectorises one
/// work-item per row well and gains nothing from local-memory tiles with barriers (each barrier
/// splits the work-group loop and spills per-item state), while GPUs need the tiles. The dense
/// shapes sum in the same order (the rows shape's backward is its forward on Wᵀ); the direct
/// sum's two shapes, and the tensor products' (rows: 8 features per work-item with vector loads;
/// tiled: one feature per work-item, no tiles), run the same sums in the same order and agree
/// bit for bit (tested on PoCL).
///
/// Measured on PoCL 3.1 (2 cores, float32): dense 8192×128·128×256, rows 41 GFLOP/s forward,
/// tiled 2.6; the molecules' direct 1/r sum (Kernels/ewald.cl) on an 18,000-atom water cluster
/// with 50 channels, rows 0.33 s per potentials pass, tiled 0.44 s; the degree-6 tensor
/// products of NaCl evaluations, ~25% of the time with one feature per work-item and 6.5% with
/// 8 (a 4,096-atom evaluation 1.10 → 0.84 s in all).
public enum KernelShape: String, Sendable, CaseIterable {
    case rows
    case tiled

    /// The shape for `device`: tiled on GPUs, rows elsewhere.
    public static func preferred(for device: CLDevice) -> KernelShape {
        device.kind == .gpu ? .tiled : .rows
    }
}
