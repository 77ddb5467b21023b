/// Which atoms belong to which structure when several structures are evaluated together as one
/// batch (atoms concatenated in order): the per-structure kernels (cell lookup, virial sums)
/// read it. A single structure is the batch of one.
public struct CLStructureLayout {
    public let structures: Int
    public let atoms: Int
    /// [atoms]: the structure of each atom.
    public let atomStructure: CLBuffer<Int32>
    /// [structures + 1]: first atom of each structure, then the total.
    public let structureStart: CLBuffer<Int32>
    public let hostStart: [Int]

    public init(_ context: CLContext, atomCounts: [Int]) throws {
        structures = atomCounts.count
        var start = [0]
        for n in atomCounts { start.append(start.last! + n) }
        atoms = start.last!
        hostStart = start
        var owner: [Int32] = []
        owner.reserveCapacity(atoms)
        for (s, n) in atomCounts.enumerated() { owner += [Int32](repeating: Int32(s), count: n) }
        // OpenCL buffers cannot be empty; a zero-atom batch gets a one-element placeholder.
        atomStructure = try CLBuffer(context, owner.isEmpty ? [0] : owner)
        structureStart = try CLBuffer(context, start.map { Int32($0) })
    }
}
