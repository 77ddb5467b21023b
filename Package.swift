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
        // What every engine shares: the engine protocol and its result, the neighbour list, cell
        // algebra and the long-range set-up (method choice, Ewald k-grid and slab frame, PME mesh
        // with its float64 spreading and FFT). Neither engine depends on the other.
        .target(name: "LoremEngineCore", dependencies: ["LoremModel", "LoremIO"]),
        // Float64 CPU reference engine: forward and hand-written backward of every operation.
        .target(name: "LoremReference", dependencies: ["LoremEngineCore", "LoremModel", "LoremIO"]),
        // The OpenCL C API (system headers and libOpenCL from ocl-icd-opencl-dev).
        .systemLibrary(name: "COpenCL", path: "Sources/COpenCL"),
        // Build tool and plugin that embed Kernels/*.cl into LoremCL as string constants.
        .executableTarget(name: "EmbedKernels", path: "Sources/EmbedKernels"),
        .plugin(name: "EmbedKernelsPlugin", capability: .buildTool(), dependencies: ["EmbedKernels"]),
        // OpenCL host layer (devices, context, buffers, programs) and the kernel families. The
        // Ewald and PME families take their geometry-only set-up from LoremEngineCore.
        .target(
            name: "LoremCL", dependencies: ["COpenCL", "LoremModel", "LoremEngineCore"],
            plugins: ["EmbedKernelsPlugin"]),
        // The OpenCL engine: the stages of the model scheduled on LoremCL's kernel families.
        .target(name: "LoremGPU", dependencies: ["LoremCL", "LoremModel", "LoremEngineCore", "LoremIO"]),
        // The i-PI socket protocol (client side) and the model as an i-PI force field: any engine
        // behind a socket, for i-PI, ASE's socket calculator and the Python package in python/.
        .target(name: "LoremDriver", dependencies: ["LoremIO", "LoremModel", "LoremEngineCore"]),
        .executableTarget(
            name: "lorem-gpu",
            dependencies: [
                "LoremIO", "LoremModel", "LoremEngineCore", "LoremReference", "LoremCL", "LoremGPU", "LoremDriver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "LoremIOTests", dependencies: ["LoremIO"], path: "Tests/LoremIOTests"),
        .testTarget(name: "LoremModelTests", dependencies: ["LoremModel"], path: "Tests/LoremModelTests"),
        .testTarget(
            name: "LoremReferenceTests", dependencies: ["LoremReference", "LoremEngineCore", "LoremModel", "LoremIO"],
            path: "Tests/LoremReferenceTests"),
        .testTarget(
            name: "LoremCLTests", dependencies: ["LoremCL", "LoremEngineCore", "LoremReference", "LoremModel"],
            path: "Tests/LoremCLTests"),
        .testTarget(
            name: "LoremGPUTests", dependencies: ["lorem-gpu", "LoremIO", "LoremCL", "LoremModel", "LoremEngineCore", "LoremReference"],
            path: "Tests/LoremGPUTests"),
        .testTarget(
            name: "LoremDriverTests", dependencies: ["LoremDriver", "lorem-gpu", "LoremIO", "LoremModel", "LoremEngineCore", "LoremReference"],
            path: "Tests/LoremDriverTests"),
        .testTarget(
            name: "LoremGPUEngineTests", dependencies: ["LoremGPU", "LoremEngineCore", "LoremReference", "LoremModel", "LoremIO", "LoremCL"],
            path: "Tests/LoremGPUEngineTests"),
    ]
)
