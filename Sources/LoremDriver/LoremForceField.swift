import Foundation
import LoremIO
import LoremModel
import LoremEngineCore

/// The model as an i-PI force field: the template gives what i-PI never sends (species, which
/// directions are periodic), each received structure is turned into a `Structure` in Å, the
/// batch goes to the engine in one call (the engine, its programs and buffers live across steps),
/// and the results go back in atomic units with the elemental baseline included, exactly what
/// `lorem-gpu predict` reports for the same geometry.
public final class LoremForceField: IPIForceField {
    public let model: TrainedModel
    public let engine: any LoremEngine
    /// Species and pbc of every structure; its positions and cell are not used.
    public let template: Structure
    private let baseline: Double

    public var atomCount: Int { template.count }

    public init(model: TrainedModel, engine: any LoremEngine, template: Structure) throws {
        guard template.count > 0 else { throw DriverError.badStructure("the template has no atoms") }
        if let reason = model.unknownElement(in: template.numbers) { throw DriverError.badStructure("the template's \(reason)") }
        self.model = model
        self.engine = engine
        self.template = Structure(numbers: template.numbers, positions: template.positions, cell: template.cell, pbc: template.pbc)
        baseline = model.baselineEnergy(template.numbers)
    }

    public func compute(_ structures: [IPIStructure]) throws -> [IPIResult] {
        let frames = try structures.enumerated().map {
            try structure($1, label: structures.count > 1 ? "structure \($0) of the batch: " : "")
        }
        let results = try engine.evaluate(batch: frames, forces: true)
        for (k, r) in results.enumerated() {
            if let what = r.nonFiniteQuantity {
                throw DriverError.badStructure((results.count > 1 ? "structure \(k) of the batch: " : "")
                    + "the model gave a non-finite \(what); not sending it to the server")
            }
        }
        return results.map(Self.atomicUnits(baseline: baseline))
    }

    /// The template with the received positions and, for a periodic template, the received cell,
    /// both converted to Å. The cell arrives with the lattice vectors as columns (h); ASE's rows
    /// are its transpose. A molecule's cell is ignored (i-PI always sends one, ASE sends zeros):
    /// a template without periodic directions keeps the direct 1/r long range.
    public func structure(_ s: IPIStructure, label where_: String = "") throws -> Structure {
        if let k = s.positions.firstIndex(where: { !$0.isFinite }) {
            throw DriverError.badStructure("\(where_)atom \(k / 3) has a non-finite position")
        }
        var out = template
        out.positions = (0..<template.count).map {
            SIMD3(s.positions[3 * $0], s.positions[3 * $0 + 1], s.positions[3 * $0 + 2]) * IPIUnits.bohr
        }
        if template.periodicDimensions > 0 {
            guard s.cell.allSatisfy(\.isFinite) else { throw DriverError.badStructure("\(where_)the cell is not finite") }
            out.cell = (0..<3).map { A in SIMD3(s.cell[A], s.cell[3 + A], s.cell[6 + A]) * IPIUnits.bohr }
            try checkPeriodicVectors(out, where_)
        } else {
            out.cell = [.zero, .zero, .zero]
        }
        return out
    }

    /// The periodic lattice vectors must span a cell (a zero or flat cell would make the Ewald
    /// sums divide by zero): a volume for bulk, an area for a slab's two periodic vectors.
    private func checkPeriodicVectors(_ s: Structure, _ where_: String) throws {
        let h = s.cell
        func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
            SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
        }
        let periodic = (0..<3).filter { s.pbc[$0] }
        let lengths = periodic.map { (h[$0] * h[$0]).sum().squareRoot() }
        let measure: Double, scale: Double
        switch periodic.count {
        case 3: measure = abs((h[0] * cross(h[1], h[2])).sum()); scale = lengths.reduce(1, *)
        case 2: let c = cross(h[periodic[0]], h[periodic[1]]); measure = (c * c).sum().squareRoot(); scale = lengths.reduce(1, *)
        default: measure = lengths.first ?? 0; scale = 1
        }
        guard measure > 1e-8 * max(scale, 1e-300) else {
            throw DriverError.badStructure("\(where_)the cell received for the periodic template is degenerate "
                + "(lattice vectors \(h.map { [$0.x, $0.y, $0.z] }) Å); if the system is a molecule, give a template without pbc")
        }
    }

    /// eV → Hartree, eV/Å → Hartree/Bohr, and lorem's W = ∂E/∂ε (`EngineResult.virial`) → i-PI's
    /// −∂E/∂ε in h's layout, i.e. transposed (ASE reads it back with `.T`).
    static func atomicUnits(baseline: Double) -> (EngineResult) -> IPIResult {
        { r in
            let f = (r.forces ?? []).flatMap { [$0.x, $0.y, $0.z] }.map { $0 * IPIUnits.bohr / IPIUnits.hartree }
            let w = r.virial ?? [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
            let virial = (0..<9).map { -w[$0 % 3][$0 / 3] / IPIUnits.hartree }
            return IPIResult(energy: (r.energy + baseline) / IPIUnits.hartree, forces: f, virial: virial,
                             extras: r.bornEffectiveCharges.map(extras(bornCharges:)) ?? "{}")
        }
    }

    /// LoremBEC's Born charges as lorem-jax's i-PI driver sends them, which i-PI's driven
    /// dynamics (`<bec mode="driver"/>`) reads: {"BEC": (3N, 3)}, row 3i+a = atom i's
    /// force/displacement component a, column b = the field component; in e (no unit change:
    /// i-PI's EDA integrators take Z in elementary charges). Numbers in Swift's shortest
    /// round-trip form, so nothing is lost in the text.
    static func extras(bornCharges z: [[Double]]) -> String {
        let rows = z.flatMap { t in (0..<3).map { a in "[\(t[3 * a]), \(t[3 * a + 1]), \(t[3 * a + 2])]" } }
        return "{\"BEC\": [" + rows.joined(separator: ", ") + "]}"
    }
}
