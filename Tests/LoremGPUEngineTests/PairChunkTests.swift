import LoremCL
@testable import LoremGPU
import LoremEngineCore
import LoremIO
import LoremModel
import XCTest

/// Message passing in chunks of whole centres (`DevicePairChunks`): the chunks tile the pair
/// list, and any chunking gives the whole batch's numbers bit for bit (the sums over pairs
/// continue from chunk to chunk in pair order, and a chunk's backward recomputes exactly what
/// its forward did).
final class PairChunkTests: XCTestCase {
    static func assertIdentical(_ a: EngineResult, _ b: EngineResult, _ what: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.energy, b.energy, "\(what): energy", file: file, line: line)
        XCTAssertEqual(a.perAtomEnergies, b.perAtomEnergies, "\(what): per-atom energies", file: file, line: line)
        XCTAssertEqual(a.forces, b.forces, "\(what): forces", file: file, line: line)
        XCTAssertEqual(a.virial, b.virial, "\(what): virial", file: file, line: line)
        XCTAssertEqual(a.charges, b.charges, "\(what): charges", file: file, line: line)
        XCTAssertEqual(a.bornEffectiveCharges, b.bornEffectiveCharges, "\(what): Born charges", file: file, line: line)
    }

    func testChunksAreWholeCentresInPairOrder() throws {
        let m = try DeviceEngineTests.model("mp1_L2")
        let context = try CLContext(device: DeviceEngineTests.device())
        let k = try DeviceKernels<Float>(context: context, cutoff: m.config.cutoff, radialCount: m.config.numRadial,
                                         maxDegree: m.config.maxDegree)
        let frames = try DeviceEngineTests.structures("bulk_triclinic") + DeviceEngineTests.structures("molecule")
        let g = try DeviceGeometry<Float>(frames, cutoff: m.config.cutoff, k)
        let centers = g.hostCenters
        XCTAssertGreaterThan(g.pairCount, 100)
        for maxPairs in [1, 5, 26, 27, 100, g.pairCount - 1, g.pairCount, g.pairCount + 1] {
            let chunks = try DevicePairChunks(g, maxPairs: maxPairs, k)
            XCTAssertEqual(chunks.isWhole, maxPairs >= g.pairCount, "maxPairs \(maxPairs)")
            var next = 0
            for c in chunks.chunks {
                XCTAssertEqual(c.pairs.lowerBound, next, "chunks tile the pairs in order")
                XCTAssertFalse(c.pairs.isEmpty)
                next = c.pairs.upperBound
                if c.pairs.lowerBound > 0 {
                    XCTAssertNotEqual(centers[c.pairs.lowerBound - 1], centers[c.pairs.lowerBound], "a chunk starts a centre")
                }
                XCTAssertTrue(c.pairs.count <= maxPairs || Set(centers[c.pairs]).count == 1,
                              "over \(maxPairs) pairs only for a single centre")
                XCTAssertEqual(c.centers.rows, c.pairs.count)
                XCTAssertEqual(c.centers.sources, g.atoms)
                XCTAssertEqual(c.others.rows, c.pairs.count)
                XCTAssertEqual(try c.others.index.download().map(Int.init), Array(g.hostOthers[c.pairs]))
                let (first, last) = (centers[c.pairs.lowerBound], centers[c.pairs.upperBound - 1])
                XCTAssertEqual(c.centers.mappedSources, first..<(last + 1), "the sums launch over the chunk's centres")
            }
            XCTAssertEqual(next, g.pairCount)
            if maxPairs == 1 { XCTAssertEqual(chunks.chunks.count, Set(centers).count, "one chunk per centre") }
        }
    }

    /// Models with one and two message-passing steps, with and without the equivariant half, on a
    /// batch of bulk, slab and molecules, in float32 and float64: chunks of one centre, a few
    /// centres and many give the whole batch's energies, forces, virials and charges exactly.
    func testChunkedEqualsWholeBitForBit() throws {
        let frames = try DeviceEngineTests.structures("bulk_triclinic") + DeviceEngineTests.structures("slab")
            + DeviceEngineTests.structures("molecule")
        for name in ["mp1_L2", "mp2_L3_noinit", "mp1_noneq"] {
            let m = try DeviceEngineTests.model(name)
            XCTAssertGreaterThan(m.config.numMessagePassing, 0, name)
            try check(Float.self, m, frames, name)
            try check(Double.self, m, frames, name)
        }
    }

    /// Without message passing the initial layers' pair-sized forward runs in chunks (the radial
    /// basis, harmonics and coefficients of one chunk at a time): the same bits for any chunking,
    /// for MACE-like LOREM and for LoremBEC (its Born-charge heads included).
    func testInitialLayersInChunksEqualWholeBitForBit() throws {
        let frames = try DeviceEngineTests.structures("bulk_triclinic") + DeviceEngineTests.structures("slab")
            + DeviceEngineTests.structures("molecule")
        for name in ["mp0_L6", "bec"] {
            let m = try DeviceEngineTests.model(name)
            XCTAssertEqual(m.config.numMessagePassing, 0, name)
            try check(Float.self, m, frames, name)
            try check(Double.self, m, frames, name)
        }
    }

    private func check<T: CLReal>(_ type: T.Type, _ m: TrainedModel, _ frames: [Structure], _ name: String) throws {
        let engine = try DeviceEngine<T>(config: m.config, weights: m.weights, device: DeviceEngineTests.device())
        let whole = try engine.evaluate(batch: frames, forces: true)
        XCTAssertEqual(engine.lastPairChunkCount, 1)
        var counts: [Int] = []
        for limit in [1, 40, 400] {
            engine.pairChunkLimit = limit
            let chunked = try engine.evaluate(batch: frames, forces: true)
            counts.append(engine.lastPairChunkCount)
            for (i, (a, b)) in zip(chunked, whole).enumerated() {
                Self.assertIdentical(a, b, "\(T.self) \(name) frame \(i), at most \(limit) pairs a chunk")
            }
        }
        XCTAssertEqual(counts, counts.sorted(by: >), "fewer chunks as they grow")
        XCTAssertGreaterThan(counts.last!, 1, "\(name): the largest limit still chunks")
    }
}
