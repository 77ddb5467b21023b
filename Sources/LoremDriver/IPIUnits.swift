/// Atomic units on the i-PI wire (Bohr, Hartree, Hartree/Bohr) against the Å and eV the model
/// works in, with the constants ASE uses (`ase.units.Bohr`, `ase.units.Hartree`, CODATA 2014 as
/// ASE 3.29 derives them), so a structure sent by ASE's socket server comes back bit-compatible
/// with ASE's own conversion. i-PI's unit table rounds the same factors to 8 digits (1 Å =
/// 1.8897261 Bohr, 1 eV = 0.036749326 Ha): numbers that i-PI prints in Å or eV differ from ours
/// by up to ~1e-7 relative for that reason alone; in atomic units they agree exactly.
public enum IPIUnits {
    /// Å per Bohr.
    public static let bohr = 0.5291772105638411
    /// eV per Hartree.
    public static let hartree = 27.211386024367243
}
