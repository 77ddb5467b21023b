// TEMPORARY until the ewald branch lands (NeighborList.swift defines PairList).
public struct PairList: Sendable {
    public var centers: [Int]
    public var others: [Int]
    public var shifts: [SIMD3<Double>]
    public var count: Int { centers.count }
}
