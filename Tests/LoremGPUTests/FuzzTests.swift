import Foundation
import XCTest
import LoremIO
import LoremModel
@testable import LoremEngineCore
import LoremReference
@testable import lorem_gpu

/// A seeded mutation fuzzer over the inputs a user hands lorem-gpu: extxyz structures (through
/// `predict`, end to end) and the three files of a checkpoint. Every mutated input must either
/// give finite results or a clear error, never a crash or a hang, and a failed `predict` leaves
/// no output file. Mutations: random bytes, truncation, absurd or non-finite numbers in place of
/// a number, very long lines, odd encodings (invalid UTF-8, a BOM, CRLF), deleted and doubled
/// lines. 200 + 100 cases, deterministic (SplitMix64 seeds).
final class FuzzTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let model = root.appendingPathComponent("Tests/Fixtures/models/mp1_L2")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lorem-gpu-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    struct Mutator {
        var rng: SplitMix64
        static let absurd = ["99999999999999999999", "-1", "1e308", "-1e308", "nan", "NaN", "inf", "-inf", "0", "1e-320", "2147483648"]

        mutating func index(_ n: Int) -> Int { n <= 1 ? 0 : Int(rng.next() % UInt64(n)) }

        mutating func mutate(_ input: [UInt8]) -> (bytes: [UInt8], kind: String) {
            var b = input
            switch index(7) {
            case 0:
                for _ in 0...index(8) where !b.isEmpty { b[index(b.count)] = UInt8(truncatingIfNeeded: rng.next()) }
                return (b, "random bytes")
            case 1:
                return (Array(b.prefix(index(b.count))), "truncated")
            case 2:
                // Replace the k-th number-like token with an absurd or non-finite one.
                let starts = b.indices.filter { i in
                    (b[i] >= 0x30 && b[i] <= 0x39 || b[i] == 0x2D) && (i == 0 || [0x20, 0x0A, 0x22, 0x3D].contains(b[i - 1]))
                }
                guard !starts.isEmpty else { return (b, "no number") }
                let s = starts[index(starts.count)]
                var e = s
                while e < b.count && ![0x20, 0x0A, 0x22].contains(b[e]) { e += 1 }
                b.replaceSubrange(s..<e, with: Array(Self.absurd[index(Self.absurd.count)].utf8))
                return (b, "absurd number")
            case 3:
                let newlines = b.indices.filter { b[$0] == 0x0A }
                let at = newlines.isEmpty ? 0 : newlines[index(newlines.count)] + 1
                b.insert(contentsOf: [UInt8](repeating: index(2) == 0 ? 0x78 : 0x37, count: 4000 + index(20000)) + [0x0A], at: at)
                return (b, "long line")
            case 4:
                switch index(3) {
                case 0: b.insert(contentsOf: [0xFF, 0xFE, 0xC3], at: index(b.count + 1)); return (b, "invalid UTF-8")
                case 1: return ([0xEF, 0xBB, 0xBF] + b, "BOM")
                default: return (b.flatMap { $0 == 0x0A ? [0x0D, 0x0A] : [$0] }, "CRLF")
                }
            case 5:
                var lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
                guard lines.count > 1 else { return (b, "one line") }
                let k = index(lines.count)
                if index(2) == 0 { lines.remove(at: k) } else { lines.insert(lines[k], at: k) }
                return (Array(lines.joined(separator: [0x0A])), "line deleted or doubled")
            default:
                // Scale a number token by a large factor (positions or cell far out of range).
                let text = String(decoding: b, as: UTF8.self)
                var parts = text.components(separatedBy: " ")
                let numeric = parts.indices.filter { Double(parts[$0]) != nil }
                guard !numeric.isEmpty else { return (b, "no number") }
                let k = numeric[index(numeric.count)]
                parts[k] = String(Double(parts[k])! * [1e3, 1e6, -1e9, 1e-9][index(4)])
                return (Array(parts.joined(separator: " ").utf8), "scaled number")
            }
        }
    }

    /// `predict` on mutated extxyz: finite energies and forces in the output, or an error and no
    /// output file.
    func testMutatedStructuresThroughPredict() throws {
        let source = try String(contentsOf: Self.root.appendingPathComponent("examples/structures.xyz"), encoding: .utf8)
        let base = Array(source.split(separator: "\n", omittingEmptySubsequences: false).prefix(15).joined(separator: "\n").utf8) + [0x0A]
        XCTAssertEqual(try ExtXYZ.read(string: String(decoding: base, as: UTF8.self)).count, 2, "two frames to mutate")
        var mutator = Mutator(rng: SplitMix64(seed: 20261130))
        var outcomes: [String: Int] = [:]
        var slowest = 0.0
        for k in 0..<200 {
            let (bytes, kind) = mutator.mutate(base)
            let input = dir.appendingPathComponent("in.xyz"), output = dir.appendingPathComponent("out.xyz")
            try Data(bytes).write(to: input)
            if let keep = ProcessInfo.processInfo.environment["LOREM_FUZZ_KEEP"] {
                // Debugging a crash: the case about to run, kept where a person can rerun it.
                try Data(bytes).write(to: URL(fileURLWithPath: keep))
                FileHandle.standardError.write("fuzz case \(k): \(kind)\n".data(using: .utf8)!)
            }
            try? FileManager.default.removeItem(at: output)
            let t0 = Date()
            do {
                let command = try Predict.parseAsRoot(["--model", Self.model.path, "--device", "reference", "-q", "--stress",
                                                       input.path, "-o", output.path]) as! Predict
                try command.run()
                let frames = try ExtXYZ.read(path: output.path)
                for f in frames {
                    XCTAssertTrue(f.info(named: "energy")?.asDouble?.isFinite ?? false, "case \(k) (\(kind)): energy")
                    XCTAssertTrue(f.realColumn(named: "forces")?.joined().allSatisfy(\.isFinite) ?? false, "case \(k) (\(kind)): forces")
                }
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["in.xyz", "out.xyz"],
                               "case \(k) (\(kind)): nothing else written")
                outcomes["ran", default: 0] += 1
            } catch {
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["in.xyz"],
                               "case \(k) (\(kind)): output or temporary file left after '\(error)'")
                XCTAssertFalse("\(error)".isEmpty)
                outcomes["refused", default: 0] += 1
            }
            slowest = max(slowest, Date().timeIntervalSince(t0))
        }
        print("fuzzed extxyz through predict: \(outcomes), slowest case \(String(format: "%.2f", slowest)) s")
        XCTAssertLessThan(slowest, 60, "a case close to a hang")
    }

    /// Mutated checkpoint files: the model loads and evaluates to finite numbers, or loading or
    /// evaluating fails with an error.
    func testMutatedCheckpoints() throws {
        let files = ["model.yaml", "baseline.yaml", "model.msgpack"]
        let originals = try files.map { try [UInt8](Data(contentsOf: Self.model.appendingPathComponent("model/\($0)"))) }
        let water = Structure(numbers: [8, 1, 1], positions: [.zero, SIMD3(0.96, 0, 0), SIMD3(-0.24, 0.93, 0)])
        var mutator = Mutator(rng: SplitMix64(seed: 1130))
        var outcomes: [String: Int] = [:]
        for k in 0..<100 {
            let folder = dir.appendingPathComponent("ckpt\(k)/model")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let target = k % 3
            var kind = ""
            for (i, name) in files.enumerated() {
                var bytes = originals[i]
                if i == target { (bytes, kind) = mutator.mutate(bytes) }
                try Data(bytes).write(to: folder.appendingPathComponent(name))
            }
            do {
                let model = try TrainedModel.load(path: folder.path)
                let r = try ReferenceEngine(config: model.config, weights: model.weights).evaluate(water)
                XCTAssertNil(r.nonFiniteQuantity, "case \(k) (\(files[target]), \(kind))")
                outcomes["ran", default: 0] += 1
            } catch {
                XCTAssertFalse("\(error)".isEmpty)
                outcomes["refused", default: 0] += 1
            }
        }
        print("fuzzed checkpoints: \(outcomes)")
    }
}
