import LoremIO

/// MAE/RMSE of the prediction against reference `energy`/`forces` found in the input frames, and
/// Born charges against a per-atom `born_effective_charges` or `apt` column (lorem-train's label
/// name), 9 values row-major.
struct ReferenceComparison {
    private var energy = ErrorStats(), energyPerAtom = ErrorStats(), forces = ErrorStats(), bornCharges = ErrorStats()

    mutating func add(reference: Structure, prediction: Structure) {
        if let ref = reference.info(named: "energy")?.asDouble, let e = prediction.info(named: "energy")?.asDouble {
            energy.add(e - ref)
            energyPerAtom.add((e - ref) / Double(max(1, reference.count)))
        }
        if let ref = reference.realColumn(named: "forces"), let f = prediction.realColumn(named: "forces"),
           ref.count == f.count {
            for (a, b) in zip(ref, f) { for k in 0..<min(a.count, b.count) { forces.add(b[k] - a[k]) } }
        }
        if let ref = reference.realColumn(named: "born_effective_charges") ?? reference.realColumn(named: "apt"),
           let z = prediction.realColumn(named: "born_effective_charges"), ref.count == z.count, ref.allSatisfy({ $0.count == 9 }) {
            for (a, b) in zip(ref, z) { for k in 0..<9 { bornCharges.add(b[k] - a[k]) } }
        }
    }

    func report() -> String? {
        var lines: [String] = []
        if energy.count > 0 {
            lines.append("energy          MAE \(fmt(energy.mae)) eV   RMSE \(fmt(energy.rmse)) eV   (\(energy.count) frames)")
            lines.append("energy per atom MAE \(fmt(energyPerAtom.mae)) eV   RMSE \(fmt(energyPerAtom.rmse)) eV")
        }
        if forces.count > 0 {
            lines.append("forces          MAE \(fmt(forces.mae)) eV/Å RMSE \(fmt(forces.rmse)) eV/Å (\(forces.count / 3) atoms)")
        }
        if bornCharges.count > 0 {
            lines.append("Born charges    MAE \(fmt(bornCharges.mae)) e    RMSE \(fmt(bornCharges.rmse)) e    (\(bornCharges.count / 9) atoms)")
        }
        return lines.isEmpty ? nil : "against the reference values in the input:\n" + lines.joined(separator: "\n")
    }

    private func fmt(_ x: Double) -> String { String(format: "%.6g", x) }
}

struct ErrorStats {
    private(set) var count = 0
    private var absSum = 0.0, sqSum = 0.0
    mutating func add(_ e: Double) {
        count += 1
        absSum += abs(e)
        sqSum += e * e
    }
    var mae: Double { absSum / Double(count) }
    var rmse: Double { (sqSum / Double(count)).squareRoot() }
}
