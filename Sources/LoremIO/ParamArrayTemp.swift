// TEMPORARY until the IO branch lands (its MsgPack.swift defines ParamArray).
public struct ParamArray: Sendable, Equatable {
    public var shape: [Int]
    public var dtype: String
    public var values: [Double]
    public init(shape: [Int], dtype: String, values: [Double]) { self.shape = shape; self.dtype = dtype; self.values = values }
}
