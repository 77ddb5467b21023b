import Foundation
import Glibc

/// Where the i-PI server listens: a unix socket path (i-PI's prefix + name) or a TCP host and port.
public enum IPIAddress: Sendable, CustomStringConvertible, Equatable {
    case unix(path: String)
    case inet(host: String, port: Int)

    public var description: String {
        switch self {
        case .unix(let path): return "unix socket \(path)"
        case .inet(let host, let port): return "\(host):\(port)"
        }
    }

    /// Parses HOST:PORT (an IPv6 host in brackets: [::1]:31415).
    public static func inet(_ text: String) throws -> IPIAddress {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw DriverError.badAddress("'\(text)' is not HOST:PORT with a port in 1…65535")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw DriverError.badAddress("'\(text)' has no host") }
        return .inet(host: host, port: port)
    }
}

/// A connected stream socket: the file descriptor and the two operations the protocol needs,
/// reading exactly n bytes and writing all of them. Reads go through a 64 KiB buffer so a step's
/// dozen small fields cost one system call, not one each.
public final class IPISocket {
    private var fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0, end = 0

    /// Wraps an already connected descriptor (tests use one end of a socketpair); it is closed
    /// with the object.
    public init(descriptor: Int32) {
        fd = descriptor
        Self.ignoreSIGPIPE()
    }

    deinit { close() }

    public func close() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }

    /// A write to a socket the server has closed must come back as EPIPE, an error the driver
    /// reports, not kill the process with SIGPIPE.
    static func ignoreSIGPIPE() { signal(SIGPIPE, SIG_IGN) }

    /// Connects to `address`, retrying while nobody listens yet (the server may start after the
    /// driver) until `timeout` seconds have passed. Other failures end at once.
    public static func connect(to address: IPIAddress, timeout: Double) throws -> IPISocket {
        ignoreSIGPIPE()
        let deadline = Date().addingTimeInterval(timeout)
        var delay = 0.05
        while true {
            let attempt: Result<Int32, ConnectFailure>
            switch address {
            case .unix(let path): attempt = connectUnix(path)
            case .inet(let host, let port): attempt = try connectInet(host, port)
            }
            switch attempt {
            case .success(let fd): return IPISocket(descriptor: fd)
            case .failure(let failure):
                guard failure.retryable else { throw DriverError.socket("connecting to \(address): \(failure.message)") }
                if Date() >= deadline {
                    throw DriverError.connectTimeout(address: address.description, seconds: timeout, lastError: failure.message)
                }
                Thread.sleep(forTimeInterval: min(delay, max(0, deadline.timeIntervalSinceNow)))
                delay = min(delay * 2, 0.5)
            }
        }
    }

    struct ConnectFailure: Error {
        let message: String
        /// Nobody listens yet: the socket file is missing or refuses connections.
        let retryable: Bool
        init(message: String, retryable: Bool) {
            self.message = message
            self.retryable = retryable
        }
        init(errno code: Int32) {
            message = String(cString: strerror(code))
            retryable = [ENOENT, ECONNREFUSED, ECONNRESET, ETIMEDOUT, EAGAIN].contains(code)
        }
    }

    private static func connectUnix(_ path: String) -> Result<Int32, ConnectFailure> {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else {
            return .failure(ConnectFailure(message: "the path '\(path)' is \(bytes.count) bytes; unix sockets allow at most \(capacity - 1)", retryable: false))
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (k, b) in bytes.enumerated() { raw[k] = b }
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, socketStream, 0)
        guard fd >= 0 else { return .failure(ConnectFailure(errno: errno)) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc == 0 { return .success(fd) }
        let code = errno
        _ = Glibc.close(fd)
        return .failure(ConnectFailure(errno: code))
    }

    private static func connectInet(_ host: String, _ port: Int) throws -> Result<Int32, ConnectFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = socketStream
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw DriverError.badAddress("cannot resolve host '\(host)': \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var last = ConnectFailure(errno: ECONNREFUSED)
        var info: UnsafeMutablePointer<addrinfo>? = first
        while let ai = info {
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if fd >= 0 {
                if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 {
                    // The protocol is many small messages each waiting for an answer: Nagle's
                    // delay would add up to 40 ms per step.
                    var one: Int32 = 1
                    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    return .success(fd)
                }
                last = ConnectFailure(errno: errno)
                _ = Glibc.close(fd)
            } else {
                last = ConnectFailure(errno: errno)
            }
            info = ai.pointee.ai_next
        }
        return .failure(last)
    }

    /// Exactly `count` bytes; nil if the peer closed the connection before the first byte
    /// (a clean end between messages), an error if it closed after some.
    public func read(_ count: Int, what: String) throws -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count {
            if start == end {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DriverError.socket("reading \(what): \(String(cString: strerror(errno)))")
                }
                if n == 0 {
                    if out.isEmpty { return nil }
                    throw DriverError.truncated(what)
                }
                start = 0
                end = n
            }
            let take = min(count - out.count, end - start)
            out.append(contentsOf: buffer[start..<(start + take)])
            start += take
        }
        return out
    }

    /// Exactly `count` bytes, or an error naming `what` if the connection ends first.
    public func readRequired(_ count: Int, what: String) throws -> [UInt8] {
        guard let bytes = try read(count, what: what) else { throw DriverError.truncated(what) }
        return bytes
    }

    /// Writes every byte (one call for a whole message, so the server sees it at once).
    public func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DriverError.socket("writing to the server: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
    }
}

/// SOCK_STREAM as the socket calls take it (an enum case in Glibc's Swift overlay).
let socketStream = Int32(SOCK_STREAM.rawValue)
