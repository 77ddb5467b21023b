import Foundation
import PackagePlugin

/// Embeds the package's `Kernels/*.cl` into the target it is applied to (LoremCL), by running
/// the EmbedKernels tool. The `.cl` files are declared as inputs, so editing a kernel
/// regenerates the Swift file and rebuilds the target; the plugin itself runs at every build
/// planning, so adding or removing a file is picked up too.
@main
struct EmbedKernelsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = context.package.directoryURL.appending(path: "Kernels")
        let files = try FileManager.default
            .contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "cl" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedKernels.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) OpenCL kernel sources",
                executable: try context.tool(named: "EmbedKernels").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output])
        ]
    }
}
