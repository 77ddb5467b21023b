import COpenCL
import Foundation

/// Built programs kept on disk between runs, as the driver's own binaries, so a later process
/// loads them with `clCreateProgramWithBinary` instead of compiling the source again.
///
/// Why: PoCL keeps its own cache of compiled kernels, but every `clBuildProgram` from source
/// still runs clang's preprocessor and parser over the source to find its cache entry. With
/// the long-range and PME programs that is ~0.3 s of CPU at every start (a 512-atom `predict`
/// took 0.69–0.78 s in all), paid again by each i-PI client and by every `predict` of one
/// frame. A binary skips clang.
///
/// An entry is named by a 64-bit FNV-1a hash of everything that decides the binary: the
/// source, the build options, the device's name and version, the driver's version and the
/// platform's name. Its first line repeats that identity and the source's length and hash, and
/// is compared in full before the binary is used, so a hash collision or a file from another
/// driver is skipped, never loaded. A binary the driver refuses, or a file that cannot be read,
/// falls back to the source build, whose binary then replaces the entry. Entries are written to
/// a temporary file and renamed, so a crash or a concurrent writer never leaves half a file.
///
/// Where: `$LOREM_GPU_KERNEL_CACHE` when set (an empty value or `off` turns the cache off),
/// else `$XDG_CACHE_HOME/lorem-gpu/kernels`, else `~/.cache/lorem-gpu/kernels`. A cache that
/// cannot be created or written is simply not used.
struct CLProgramCache: Sendable {
    let directory: URL?

    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> CLProgramCache {
        if let chosen = environment["LOREM_GPU_KERNEL_CACHE"] {
            return CLProgramCache(directory: chosen.isEmpty || chosen == "off" ? nil : URL(fileURLWithPath: chosen))
        }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? environment["HOME"].map { URL(fileURLWithPath: $0).appendingPathComponent(".cache") }
        return CLProgramCache(directory: base?.appendingPathComponent("lorem-gpu/kernels"))
    }

    /// What a binary depends on besides its source, as one line.
    static func identity(device: CLDevice, options: String) -> String {
        let driver = (try? CLInfo.string("clGetDeviceInfo") {
            clGetDeviceInfo(device.id, cl_device_info(CL_DRIVER_VERSION), $0, $1, $2)
        }) ?? "?"
        return [device.platformName, device.name, device.version, driver, options]
            .map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: " | ")
    }

    /// The header line of an entry: format, identity, source length and hash.
    static func header(identity: String, source: String) -> String {
        "lorem-gpu program binary 1 | \(identity) | \(source.utf8.count) | \(hex(fnv1a(source.utf8)))\n"
    }

    func path(header: String) -> URL? {
        directory?.appendingPathComponent(Self.hex(Self.fnv1a(header.utf8)) + ".bin")
    }

    /// The binary stored under `header`, or nil when there is none or it is not this one's.
    func load(header: String) -> [UInt8]? {
        guard let path = path(header: header), let data = try? Data(contentsOf: path) else { return nil }
        let expected = Array(header.utf8)
        guard data.count > expected.count, data.prefix(expected.count).elementsEqual(expected) else { return nil }
        return Array(data.dropFirst(expected.count))
    }

    /// Stores `binary` under `header`; failures are ignored (the cache is an optimisation).
    func store(_ binary: [UInt8], header: String) {
        guard let path = path(header: header), !binary.isEmpty, let directory else { return }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let temporary = directory.appendingPathComponent(".\(path.lastPathComponent).\(getpid()).tmp")
            var data = Data(header.utf8)
            data.append(contentsOf: binary)
            try data.write(to: temporary)
            if rename(temporary.path, path.path) != 0 { try? FileManager.default.removeItem(at: temporary) }
        } catch {
            return
        }
        prune(keeping: path)
    }

    /// Where clFFT keeps its own binaries: the subfolder `clfft`, unless `$CLFFT_CACHE_PATH`
    /// is already set (the user's choice stands) or this cache is off; nil then.
    ///
    /// Why: clFFT generates and compiles its kernels for each mesh shape when a plan is baked,
    /// in every process; on PoCL each of a mesh's three programs is run through clang's
    /// preprocessor again (~0.45 s of a 13,824-atom predict's 3.3 s under strace). clFFT's own
    /// binary cache (read from `$CLFFT_CACHE_PATH` at `clfftSetup`) names entries by vendor,
    /// device, driver and an MD5 of the plan's parameters, and creates them exclusively. Five
    /// alternating runs on PoCL: a 512-atom predict 0.35–0.45 s with it against 0.54–0.71 s
    /// without; three at 13,824 atoms (NaCl 12³) 3.37–3.70 against 3.60–3.88 s; the same
    /// output bytes.
    func clfftDirectory(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        guard environment["CLFFT_CACHE_PATH"] == nil, let directory else { return nil }
        return directory.appendingPathComponent("clfft")
    }

    /// At most this many bytes in clFFT's subfolder: past it the subfolder is emptied at the
    /// next setup (clFFT rebuilds what it needs). A mesh shape adds ~0.4 MB per precision.
    static var clfftCapacityBytes: Int { 64 << 20 }

    /// Points clFFT at `clfftDirectory`/`libraryVersion` (before `clfftSetup`), emptying
    /// `clfftDirectory` first when it holds more than `clfftCapacityBytes`. Failures leave clFFT
    /// without a cache, as before.
    ///
    /// The subfolder per clFFT version is needed because clFFT names an entry by the device,
    /// the driver and the plan's parameters, not by the kernel source it generates: a newer
    /// clFFT could otherwise load an older one's binary for the same plan.
    func shareWithClFFT(libraryVersion: String) {
        guard let root = clfftDirectory() else { return }
        let manager = FileManager.default
        if let files = manager.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey]) {
            let bytes = files.reduce(0) { total, item in
                total + (((item as? URL).flatMap { try? $0.resourceValues(forKeys: [.fileSizeKey]).fileSize }) ?? 0)
            }
            if bytes > Self.clfftCapacityBytes { try? manager.removeItem(at: root) }
        }
        let folder = root.appendingPathComponent(libraryVersion)
        guard (try? manager.createDirectory(at: folder, withIntermediateDirectories: true)) != nil else { return }
        setenv("CLFFT_CACHE_PATH", folder.path, 0)
    }

    /// At most this many bytes of entries: a new entry evicts the least recently written ones
    /// beyond it (each source edit or driver update makes new entries; PoCL's binaries of one
    /// lorem-gpu version take ~20–40 MB for both precisions).
    static var capacityBytes: Int { 256 << 20 }

    private func prune(keeping kept: URL) {
        guard let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        var entries: [(url: URL, bytes: Int, written: Date)] = names.filter { $0.hasSuffix(".bin") }.compactMap { name in
            let url = directory.appendingPathComponent(name)
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey]) else { return nil }
            return (url, values.fileSize ?? 0, values.contentModificationDate ?? .distantPast)
        }
        var total = entries.reduce(0) { $0 + $1.bytes }
        guard total > Self.capacityBytes else { return }
        entries.sort { $0.written < $1.written }
        for entry in entries where total > Self.capacityBytes && entry.url.lastPathComponent != kept.lastPathComponent {
            try? FileManager.default.removeItem(at: entry.url)
            total -= entry.bytes
        }
    }

    static func fnv1a<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
