/// The per-pair outputs of `FeatureKernels.forward` (docs/MATH.md §1, §2), kept on the device:
/// the edge inputs of the model and what the backward through the pair vectors needs (§10.2 G1).
public struct CLPairFeatures<T: CLReal> {
    public let count: Int
    public let radialCount: Int
    public let harmonicsCount: Int
    /// R_p = R_o − R_c + S_p·h, [P, 3].
    public let vectors: CLBuffer<T>
    /// r_p = |R_p|, [P].
    public let distances: CLBuffer<T>
    /// B_k(r_p/c)·fc(r_p), [P, K].
    public let radial: CLBuffer<T>
    /// d(B_k·fc)/dr with e3x's custom Bernstein rule (§2.3), [P, K]; nil unless the forward was
    /// asked to keep the derivatives, for inspection (the backward recomputes them from the pair
    /// vector).
    public let radialDerivative: CLBuffer<T>?
    /// Y_a(u_p) in e3x's slot order, [P, (L+1)²].
    public let harmonics: CLBuffer<T>
    /// ∂Y_a/∂u (tangential part meaningful), [P, (L+1)², 3]; nil unless kept, like
    /// `radialDerivative`.
    public let harmonicGradients: CLBuffer<T>?

    /// The same features with the radial basis values given back: for an engine whose last use
    /// of them is behind it (the backward of the pair features recomputes them from the pair
    /// vectors). `radial` becomes a one-element buffer that every size check refuses.
    public func droppingRadial() throws -> CLPairFeatures<T> {
        CLPairFeatures(count: count, radialCount: radialCount, harmonicsCount: harmonicsCount, vectors: vectors,
                       distances: distances, radial: try CLBuffer<T>(radial.context, count: 0), radialDerivative: nil,
                       harmonics: harmonics, harmonicGradients: harmonicGradients)
    }
}
