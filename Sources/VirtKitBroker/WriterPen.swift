/// Who may type on a console: the pen rules as a plain value, decided without I/O.
///
/// At most one ``ClientMode/readWrite(force:)`` client holds the pen. A second one is refused
/// unless it forces; forcing takes the pen and names the client that lost it, which stays
/// attached but may no longer type. ``ClientMode/shared`` clients always type,
/// ``ClientMode/readOnly`` clients never do.
struct WriterPen {
    /// Whether a client may be admitted, and what changes if it is.
    enum Admission: Equatable {
        /// Admitted; `demoted` is the former holder that lost the pen, if any.
        case admitted(demoted: Int?)
        /// A read-write client without force while another holds the pen.
        case refusedInUse
    }

    /// Whether a client's write goes through.
    enum WriteRight: Equatable {
        case allowed
        case readOnly
        /// The pen was taken from this client by `by`.
        case penTaken(by: String)
    }

    private struct Holder {
        var id: Int
        var label: String
    }

    private var holder: Holder?
    /// Clients that lost the pen, with the label of the client that took it.
    private var lostTo: [Int: String] = [:]

    /// The pen holder's id, nil when the pen is free.
    var holderID: Int? { holder?.id }

    /// Admits client `id` (`label` names it to a client it takes the pen from).
    mutating func admit(id: Int, label: String, mode: ClientMode) -> Admission {
        guard case .readWrite(let force) = mode else { return .admitted(demoted: nil) }
        guard let previous = holder else {
            holder = Holder(id: id, label: label)
            return .admitted(demoted: nil)
        }
        guard force else { return .refusedInUse }
        lostTo[previous.id] = label
        holder = Holder(id: id, label: label)
        return .admitted(demoted: previous.id)
    }

    /// Whether client `id`, attached in `mode`, may write now.
    func right(of id: Int, mode: ClientMode) -> WriteRight {
        switch mode {
        case .readOnly: return .readOnly
        case .shared: return .allowed
        case .readWrite:
            if holder?.id == id { return .allowed }
            return .penTaken(by: lostTo[id] ?? "another client")
        }
    }

    /// Forgets client `id`; the pen is free again when it held it.
    mutating func release(_ id: Int) {
        if holder?.id == id { holder = nil }
        lostTo[id] = nil
    }

    /// Frees the pen and forgets everyone (the console closed).
    mutating func reset() {
        holder = nil
        lostTo = [:]
    }
}
