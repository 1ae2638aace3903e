/// How a console client attaches (`virtkit console --readonly/--force/--shared`).
public enum ConsoleMode: String, Codable, Sendable, CaseIterable {
    case readwrite, readonly, force, shared

    /// The suffix of its client socket under the guest's `console/` directory.
    public var socketSuffix: String {
        switch self {
        case .readwrite: ""
        case .readonly: ".ro"
        case .force: ".force"
        case .shared: ".shared"
        }
    }
}
