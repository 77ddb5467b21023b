// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "lorem-gpu",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lorem-gpu", targets: ["lorem-gpu"]),
        .library(name: "LoremReference", targets: ["LoremReference"]),
        .library(name: "LoremCL", targets: ["LoremCL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // IO: extxyz structures, lorem-train checkpoints (YAML config + flax msgpack weights).
        .target(name: "LoremIO", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Model description shared by every engine: config, named weights, CG/SH/Bernstein tables.
        .target(name: "LoremModel", dependencies: ["LoremIO"]),
        // Float64 CPU reference engine: neighbor list, forward, hand-written backward, Ewald.
        .target(name: "LoremReference", dependencies: ["LoremModel", "LoremIO"]),
        // The OpenCL C API (system headers and libOpenCL from ocl-icd-opencl-dev).
        .systemLibrary(name: "COpenCL", path: "Sources/COpenCL"),
        // Build tool and plugin that embed Kernels/*.cl into LoremCL as string constants.
        .executableTarget(name: "EmbedKernels", path: "Sources/EmbedKernels"),
        .plugin(name: "EmbedKernelsPlugin", capability: .buildTool(), dependencies: ["EmbedKernels"]),
        // OpenCL host layer (devices, context, buffers, programs) and the kernel families. The
        // Ewald family takes its geometry-only setup (k-grid, slab frame) from LoremReference.
        .target(
            name: "LoremCL", dependencies: ["COpenCL", "LoremModel", "LoremReference"],
            plugins: ["EmbedKernelsPlugin"]),
        // The OpenCL engine: the stages of the model scheduled on LoremCL's kernel families.
        .target(name: "LoremGPU", dependencies: ["LoremCL", "LoremModel", "LoremReference", "LoremIO"]),
        // The i-PI socket protocol (client side) and the model as an i-PI force field: any engine
        // behind a socket, for i-PI, ASE's socket calculator and the Python package in python/.
        .target(name: "LoremDriver", dependencies: ["LoremIO", "LoremModel", "LoremReference"]),
        .executableTarget(
            name: "lorem-gpu",
            dependencies: [
                "LoremIO", "LoremModel", "LoremReference", "LoremCL", "LoremGPU", "LoremDriver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "LoremIOTests", dependencies: ["LoremIO"], path: "Tests/LoremIOTests"),
        .testTarget(name: "LoremModelTests", dependencies: ["LoremModel"], path: "Tests/LoremModelTests"),
        .testTarget(
            name: "LoremReferenceTests", dependencies: ["LoremReference", "LoremModel", "LoremIO"],
            path: "Tests/LoremReferenceTests"),
        .testTarget(
            name: "LoremCLTests", dependencies: ["LoremCL", "LoremReference", "LoremModel"],
            path: "Tests/LoremCLTests"),
        .testTarget(
            name: "LoremGPUTests", dependencies: ["lorem-gpu", "LoremIO", "LoremCL", "LoremModel", "LoremReference"],
            path: "Tests/LoremGPUTests"),
        .testTarget(
            name: "LoremDriverTests", dependencies: ["LoremDriver", "lorem-gpu", "LoremIO", "LoremModel", "LoremReference"],
            path: "Tests/LoremDriverTests"),
        .testTarget(
            name: "LoremGPUEngineTests", dependencies: ["LoremGPU", "LoremReference", "LoremModel", "LoremIO", "LoremCL"],
            path: "Tests/LoremGPUEngineTests"),
    ]
)
