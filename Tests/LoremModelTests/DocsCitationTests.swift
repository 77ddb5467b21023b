import Foundation
import XCTest

/// The code explains itself through `docs/MATH.md`: every `docs/MATH.md §N.M` cited anywhere in
/// the repository names a heading that exists there, and nothing cites a document outside it.
final class DocsCitationTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testEveryCitedSectionExists() throws {
        let math = try String(contentsOf: Self.root.appendingPathComponent("docs/MATH.md"), encoding: .utf8)
        let headings = Set(math.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("## ") || line.hasPrefix("### ") else { return nil }
            let number = line.drop(while: { $0 == "#" || $0 == " " }).prefix(while: { $0.isNumber || $0 == "." })
            return number.hasSuffix(".") ? String(number.dropLast()) : String(number)
        })
        XCTAssertTrue(headings.isSuperset(of: ["0", "1", "2.3", "7.2", "8.4", "9", "10.2", "12.6"]), "\(headings.sorted())")
        // "docs/MATH.md", then comment markers or spaces (a citation may wrap), then "§N" or "§N.M".
        let citation = try NSRegularExpression(pattern: #"docs/MATH\.md[\s/#*]*§(\d+(?:\.\d+)?)"#)
        let bare = try NSRegularExpression(pattern: #"docs/MATH\.md(?![\s/#*]*§)"#)
        var cited = 0
        var problems: [String] = []
        for file in try sourceFiles() {
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            let ns = text as NSString
            let name = file.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            if text.contains("LOREM_MATH") || text.contains("ARCHITECTURE.md") {
                problems.append("\(name): cites a document outside the repository")
            }
            for m in citation.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let section = ns.substring(with: m.range(at: 1))
                cited += 1
                if !headings.contains(section) { problems.append("\(name): docs/MATH.md §\(section) is not a heading") }
            }
            if name.hasPrefix("Sources/") || name.hasPrefix("Kernels/") {
                for m in bare.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                    let line = ns.substring(to: m.range.location).filter { $0 == "\n" }.count + 1
                    problems.append("\(name):\(line): docs/MATH.md cited without a section")
                }
            }
        }
        XCTAssertGreaterThan(cited, 80, "the code's citations were found")
        XCTAssertEqual(problems, [])
    }

    /// Swift, OpenCL C, Python and Markdown files outside build folders and docs/ itself.
    func sourceFiles() throws -> [URL] {
        var out: [URL] = []
        for top in ["Sources", "Tests", "Kernels", "python", "Benchmarks", "examples", "training", "scripts"] {
            let dir = Self.root.appendingPathComponent(top)
            guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in e where ["swift", "cl", "py", "md", "sh"].contains(url.pathExtension) {
                if url.path.contains("/.build/") || url.path.contains("/.venv") || url.lastPathComponent == "DocsCitationTests.swift" { continue }
                out.append(url)
            }
        }
        return out + [Self.root.appendingPathComponent("README.md")]
    }
}
