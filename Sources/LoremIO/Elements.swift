/// Chemical element symbols, so extxyz species columns can be mapped to atomic numbers and back.
///
/// Index 0 is ASE's placeholder symbol `X` (a dummy atom), so `symbols[Z]` is the symbol of Z.
public enum Elements {
    public static let symbols: [String] = [
        "X",
        "H", "He",
        "Li", "Be", "B", "C", "N", "O", "F", "Ne",
        "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
        "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn",
        "Ga", "Ge", "As", "Se", "Br", "Kr",
        "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd",
        "In", "Sn", "Sb", "Te", "I", "Xe",
        "Cs", "Ba",
        "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
        "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg",
        "Tl", "Pb", "Bi", "Po", "At", "Rn",
        "Fr", "Ra",
        "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr",
        "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn",
        "Nh", "Fl", "Mc", "Lv", "Ts", "Og",
    ]

    /// Largest atomic number in the table (Oganesson).
    public static let maxAtomicNumber = 118

    /// Keyed by lower-cased symbol: ASE capitalises species before lookup, so "CL", "cl"
    /// and "Cl" all mean chlorine.
    private static let numberBySymbol: [String: Int] = {
        var table: [String: Int] = [:]
        for (z, symbol) in symbols.enumerated() { table[symbol.lowercased()] = z }
        return table
    }()

    /// Symbol for atomic number `z`, or nil outside 0…118.
    public static func symbol(for z: Int) -> String? {
        symbols.indices.contains(z) ? symbols[z] : nil
    }

    /// Atomic number for a species token: an element symbol in any letter case, or a
    /// plain atomic number (some writers emit `6` instead of `C`).
    public static func atomicNumber(for token: some StringProtocol) -> Int? {
        if let z = Int(token) { return (0...maxAtomicNumber).contains(z) ? z : nil }
        return numberBySymbol[token.lowercased()]
    }
}
