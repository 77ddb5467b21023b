/// Why a driver run stopped other than by the server's EXIT or closing the connection. Each case
/// says what happened in the words a user needs to fix it; the CLI prints it and exits non-zero.
public enum DriverError: Error, CustomStringConvertible, Equatable {
    /// Connecting did not succeed within the timeout (no server listening, wrong address).
    case connectTimeout(address: String, seconds: Double, lastError: String)
    /// The address cannot be used at all (too long a unix path, unknown host, bad port).
    case badAddress(String)
    /// A system call on the socket failed.
    case socket(String)
    /// The server sent something the protocol does not allow.
    case protocolViolation(String)
    /// The server closed the connection in the middle of a message.
    case truncated(String)
    /// The structure received cannot be evaluated with this template.
    case badStructure(String)

    public var description: String {
        switch self {
        case .connectTimeout(let address, let seconds, let last):
            return "could not connect to \(address) within \(seconds) s (\(last)); is i-PI (or another server) listening there? "
                + "--connect-timeout sets how long to keep trying"
        case .badAddress(let m): return "bad address: \(m)"
        case .socket(let m): return "socket error: \(m)"
        case .protocolViolation(let m): return "i-PI protocol error: \(m)"
        case .truncated(let m): return "the server closed the connection in the middle of \(m)"
        case .badStructure(let m): return m
        }
    }
}
