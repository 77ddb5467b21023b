import ArgumentParser

@main
struct LoremGPU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lorem-gpu",
        abstract: "Run LOREM machine-learning interatomic potentials trained with lorem-train.",
        version: "0.1.0",
        subcommands: [Predict.self, Verify.self, Bench.self, Devices.self, Driver.self],
        defaultSubcommand: nil)
}
