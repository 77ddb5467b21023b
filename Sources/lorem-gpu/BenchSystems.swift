import Foundation
import LoremIO
import LoremModel

/// One benchmark system: a structure, or a batch of structures evaluated as one engine batch.
struct BenchSystem {
    /// "rocksalt", "water", "water-cluster", "molecules" or "file".
    let kind: String
    let name: String
    let structures: [Structure]

    var atoms: Int { structures.reduce(0) { $0 + $1.count } }
    var periodic: Bool { structures.contains { $0.periodicDimensions > 0 } }
}

/// The standard systems of `lorem-gpu bench`, all deterministic (fixed seeds), so the same sizes
/// give the same structures on every machine and run.
enum BenchSystems {
    /// n×n×n conventional rocksalt cells (a = 5.64 Å), every atom displaced by a fixed pattern so
    /// no symmetry makes work vanish.
    static func rocksalt(repetitions n: Int) -> Structure {
        let a = 5.64
        let basis: [(SIMD3<Double>, Int)] = [
            (SIMD3(0, 0, 0), 11), (SIMD3(0.5, 0.5, 0), 11), (SIMD3(0.5, 0, 0.5), 11), (SIMD3(0, 0.5, 0.5), 11),
            (SIMD3(0.5, 0, 0), 17), (SIMD3(0, 0.5, 0), 17), (SIMD3(0, 0, 0.5), 17), (SIMD3(0.5, 0.5, 0.5), 17),
        ]
        var rng = SplitMix64(seed: 7)
        var positions: [SIMD3<Double>] = [], numbers: [Int] = []
        for i in 0..<n { for j in 0..<n { for k in 0..<n { for (b, z) in basis {
            let shift = SIMD3(rng.normal(), rng.normal(), rng.normal()) * 0.05
            positions.append(a * (SIMD3(Double(i), Double(j), Double(k)) + b) + shift)
            numbers.append(z)
        } } } }
        let L = a * Double(n)
        return Structure(numbers: numbers, positions: positions,
                         cell: [SIMD3(L, 0, 0), SIMD3(0, L, 0), SIMD3(0, 0, L)], pbc: [true, true, true])
    }

    /// Volume of one water molecule at liquid density (0.997 g/cm³): 18.015 g/mol / (ρ N_A) in Å³.
    static let waterVolume = 18.015 / (0.997 * 6.02214076e23) * 1e24

    /// `molecules` rigid waters (O–H 0.9572 Å, H–O–H 104.52°) in a cubic periodic box at liquid
    /// density. Oxygens sit on a simple-cubic lattice of ⌈∛n⌉³ sites (a random subset when n is not
    /// a cube) with 0.1 Å jitter; each molecule gets a random orientation, redrawn (up to 100
    /// times) until its hydrogens are at least 1.5 Å from the atoms of the molecules placed so far
    /// on neighbouring sites, so no two molecules overlap.
    static func waterBox(molecules n: Int, seed: UInt64 = 11) -> Structure {
        let L = cbrt(Double(n) * waterVolume)
        let m = Int(ceil(cbrt(Double(n)) - 1e-9))
        let spacing = L / Double(m)
        var rng = SplitMix64(seed: seed)
        var sites = Array(0..<(m * m * m))
        if sites.count > n {
            for i in stride(from: sites.count - 1, to: 0, by: -1) { sites.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            sites = Array(sites.prefix(n)).sorted()
        }
        func minimumImage(_ d: SIMD3<Double>) -> SIMD3<Double> { d - L * (d / L).rounded(.toNearestOrEven) }
        var placed: [Int: [SIMD3<Double>]] = [:]  // site → its molecule's atoms
        var positions: [SIMD3<Double>] = [], numbers: [Int] = []
        for site in sites {
            let (i, j, k) = (site / (m * m), (site / m) % m, site % m)
            let oxygen = spacing * (SIMD3(Double(i), Double(j), Double(k)) + 0.5) + SIMD3(rng.normal(), rng.normal(), rng.normal()) * 0.1
            var neighbours: [SIMD3<Double>] = []
            for di in -1...1 { for dj in -1...1 { for dk in -1...1 {
                let s = ((i + di + m) % m) * m * m + ((j + dj + m) % m) * m + (k + dk + m) % m
                neighbours += placed[s] ?? []
            } } }
            var best: [SIMD3<Double>] = [], bestGap = -Double.infinity
            for _ in 0..<100 {
                let atoms = waterMolecule(oxygen: oxygen, rng: &rng)
                var gap = Double.infinity
                for a in atoms { for b in neighbours {
                    let d = minimumImage(a - b)
                    gap = min(gap, (d * d).sum().squareRoot())
                } }
                if gap > bestGap { (best, bestGap) = (atoms, gap) }
                if gap >= 1.5 { break }
            }
            placed[site] = best
            positions += best
            numbers += [8, 1, 1]
        }
        return Structure(numbers: numbers, positions: positions,
                         cell: [SIMD3(L, 0, 0), SIMD3(0, L, 0), SIMD3(0, 0, L)], pbc: [true, true, true])
    }

    /// A non-periodic droplet of `molecules` waters: the molecules of a (larger) liquid-density box
    /// whose oxygens are nearest to its centre, centred at the origin (36 molecules = 108 atoms).
    static func waterCluster(molecules n: Int) -> Structure {
        let box = waterBox(molecules: max(64, 4 * n), seed: 13)
        let centre = box.cell[0] * 0.5 + box.cell[1] * 0.5 + box.cell[2] * 0.5
        let order = stride(from: 0, to: box.count, by: 3).sorted { a, b in
            let (da, db) = (box.positions[a] - centre, box.positions[b] - centre)
            return (da * da).sum() < (db * db).sum()
        }
        let chosen = order.prefix(n).sorted()
        var positions: [SIMD3<Double>] = [], numbers: [Int] = []
        for o in chosen { for a in 0..<3 {
            positions.append(box.positions[o + a] - centre)
            numbers.append(box.numbers[o + a])
        } }
        return Structure(numbers: numbers, positions: positions)
    }

    /// O–H 0.9572 Å, H–O–H 104.52° with a random orientation.
    private static func waterMolecule(oxygen: SIMD3<Double>, rng: inout SplitMix64) -> [SIMD3<Double>] {
        let u = rng.unitVector()
        var w = rng.unitVector()
        w -= (w * u).sum() * u
        w /= (w * w).sum().squareRoot()
        let half = 104.52 / 2 * Double.pi / 180, r = 0.9572
        return [oxygen, oxygen + r * (cos(half) * u + sin(half) * w), oxygen + r * (cos(half) * u - sin(half) * w)]
    }

    /// Small gas-phase molecules made of H, C, O, Na, Cl (the elements of the default model):
    /// approximate equilibrium geometries in Å.
    static let smallMolecules: [(name: String, atoms: [(Int, SIMD3<Double>)])] = [
        ("H2O", [(8, SIMD3(0, 0, 0.1193)), (1, SIMD3(0, 0.7632, -0.4770)), (1, SIMD3(0, -0.7632, -0.4770))]),
        ("CH4", [(6, .zero), (1, SIMD3(0.629, 0.629, 0.629)), (1, SIMD3(-0.629, -0.629, 0.629)),
                 (1, SIMD3(-0.629, 0.629, -0.629)), (1, SIMD3(0.629, -0.629, -0.629))]),
        ("CH3OH", [(6, SIMD3(-0.0471, 0.6644, 0)), (8, SIMD3(-0.0471, -0.7586, 0)), (1, SIMD3(-1.0867, 0.9692, 0)),
                   (1, SIMD3(0.4377, 1.0785, 0.8913)), (1, SIMD3(0.4377, 1.0785, -0.8913)), (1, SIMD3(0.8665, -1.0766, 0))]),
        ("CH3Cl", [(6, SIMD3(0, 0, -1.1290)), (17, SIMD3(0, 0, 0.6540)), (1, SIMD3(0, 1.0296, -1.4730)),
                   (1, SIMD3(0.8917, -0.5148, -1.4730)), (1, SIMD3(-0.8917, -0.5148, -1.4730))]),
        ("H2CO", [(8, SIMD3(0, 0, 0.6830)), (6, SIMD3(0, 0, -0.5360)), (1, SIMD3(0, 0.9346, -1.1120)),
                  (1, SIMD3(0, -0.9346, -1.1120))]),
        ("CO2", [(6, .zero), (8, SIMD3(0, 0, 1.1621)), (8, SIMD3(0, 0, -1.1621))]),
        ("NaCl", [(11, SIMD3(0, 0, -1.18)), (17, SIMD3(0, 0, 1.18))]),
    ]

    /// `count` molecules drawn from `smallMolecules`, each randomly rotated and jittered by
    /// 0.02 Å: the frames of one batch.
    static func moleculeBatch(count: Int, seed: UInt64 = 17) -> [Structure] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let molecule = smallMolecules[Int(rng.next() % UInt64(smallMolecules.count))]
            let rotation = randomRotation(&rng)
            let positions = molecule.atoms.map { _, p in
                rotation[0] * p.x + rotation[1] * p.y + rotation[2] * p.z + SIMD3(rng.normal(), rng.normal(), rng.normal()) * 0.02
            }
            return Structure(numbers: molecule.atoms.map(\.0), positions: positions)
        }
    }

    /// Rows of a random proper rotation (an orthonormal, right-handed frame).
    private static func randomRotation(_ rng: inout SplitMix64) -> [SIMD3<Double>] {
        let a = rng.unitVector()
        var b = rng.unitVector()
        b -= (b * a).sum() * a
        b /= (b * b).sum().squareRoot()
        let c = SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
        return [a, b, c]
    }
}
