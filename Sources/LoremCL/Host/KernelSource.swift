/// Looks up kernel sources embedded at build time (see Plugins/EmbedKernelsPlugin) and assembles
/// a program: the precision prelude, then the family. `#line` markers keep the compiler's
/// messages pointing at the right file and line.
enum KernelSource {
    static let prelude = "precision"

    static func file(_ name: String) throws -> String {
        guard let text = EmbeddedKernels.sources[name] else {
            let known = EmbeddedKernels.sources.keys.sorted().joined(separator: ", ")
            throw CLError.unsupported("no embedded kernel source '\(name).cl' (have: \(known))")
        }
        return text
    }

    static func program(_ family: String) throws -> String {
        try [prelude, family].map { "#line 1 \"\($0).cl\"\n" + (try file($0)) }.joined(separator: "\n")
    }
}
