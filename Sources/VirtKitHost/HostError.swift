import SystemPackage

/// A failed system call of the host layer: what was being done, on what, and the errno.
public struct HostError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What VirtKit was doing ("cannot bind UNIX socket").
    public var operation: String
    /// The path, pid or name it was done on.
    public var subject: String
    public var errno: Errno

    public init(_ operation: String, _ subject: String, _ errno: Errno) {
        self.operation = operation
        self.subject = subject
        self.errno = errno
    }

    public var description: String { "\(operation) '\(subject)': \(errno.description)" }
}
