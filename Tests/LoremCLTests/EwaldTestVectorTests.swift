import LoremCL
@testable import LoremEngineCore
@testable import LoremReference
import XCTest

/// docs/MATH.md §8.4 through the float64 kernels: float64 evaluation on float32-rounded
/// inputs, λ = 0.625, σ = 1.25; each vector's charge sets become the channels of one launch.
final class EwaldCLTestVectorTests: XCTestCase {
    func potentials(_ positions: [SIMD3<Double>], _ cell: [SIMD3<Double>], _ pbc: [Bool], _ q: [[Double]])
        throws -> (v: [Double], kVectors: Int)
    {
        let context = try TestDevice.context()
        guard context.device.supportsFP64 else { throw XCTSkip("\(context.device) has no float64") }
        func f32(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(Double(Float(v.x)), Double(Float(v.y)), Double(Float(v.z))) }
        let r = positions.map(f32), h = cell.map(f32)
        let pairs = try NeighborList.build(positions: r, cell: h, pbc: pbc, cutoff: 5)
        let ewald = try EwaldSummation(positions: r, cell: h, pbc: pbc, cutoff: 5, pairs: pairs)
        let geometry = try EwaldGeometry<Double>(context: context, summation: ewald, pairs: pairs)
        let kernels = try EwaldKernels<Double>(context: context, channels: q.count)
        let v = try kernels.potentials(try CLBuffer<Double>(context, interleave(q)), geometry).download()
        return (v, geometry.kVectorCount)
    }

    func assertClose(_ got: [Double], _ expected: [Double], _ what: String) {
        let d = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
        print("§8.4 \(what) on the device (f64): max |ΔV| \(d)")
        XCTAssertLessThan(d, 1e-10, what)
    }

    func testBulk() throws {
        let r = [SIMD3(0.1, 0.2, 0.3), SIMD3(2.1, 1.9, 2.05)]
        let h = [SIMD3(4.0, 0, 0), SIMD3(0, 4.0, 0), SIMD3(0, 0, 4.0)]
        // Channels (1, −1) and (1, 0.5): V is [atom, channel].
        let (v, k) = try potentials(r, h, [true, true, true], [[1, -1], [1, 0.5]])
        XCTAssertEqual(k, 171)
        assertClose([v[0], v[2]], [-0.25693552824, 0.25693552824], "3D q=(1,-1)")
        assertClose([v[1], v[3]], [-0.403535126113, -0.275067361993], "3D q=(1,0.5)")
    }

    func testMolecule() throws {
        let r = [SIMD3(0.0, 0, 0), SIMD3(1, 0.2, -0.1), SIMD3(0.3, -0.8, 0.5)]
        let (v, _) = try potentials(r, [.zero, .zero, .zero], [false, false, false], [[0.5, -0.3, 0.2]])
        assertClose(v, [-0.045369757735, 0.317496479977, 0.142255939889], "non-PBC")
    }

    func testSlab() throws {
        let r = [SIMD3(0.1, 0.2, 5.0), SIMD3(2.1, 1.9, 6.5)]
        let h = [SIMD3(4.0, 0, 0), SIMD3(0.3, 4.2, 0), SIMD3(0, 0, 30.0)]
        let (v, k) = try potentials(r, h, [true, true, false], [[1, -1]])
        XCTAssertEqual(k, 318)
        assertClose(v, [-0.162194282838, 0.162194282838], "2D")
    }
}
