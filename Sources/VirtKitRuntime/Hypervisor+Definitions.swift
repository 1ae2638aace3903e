import Foundation
import Logging
import SystemPackage
import VirtKitDomain
import VirtKitGuestAgent
import VirtKitHost
import VirtKitModel
import VirtKitMonitor
import VirtKitQEMU
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// Definitions: what `define` saves and `undefine` removes.
extension Hypervisor {
    /// `virsh define`: validates, refuses a clash of name or uuid with another domain, saves the
    /// normalised XML. Redefining a domain (same name and uuid) replaces its inactive definition.
    ///
    /// Parsing, validation, the socket path check and the written-back XML are worked out off
    /// the actor, so a large or hostile definition does not hold up other requests; only the
    /// clash checks and the save run on it.
    nonisolated public func define(xml: String) async throws(RuntimeError) -> DomainSummary {
        let domain = try validated(xml: xml)
        return try await save(domain, xml: DomainFormatter.format(domain))
    }

    /// The domain `xml` describes, parsed and validated as `define` does (off the actor).
    nonisolated func validated(xml: String) throws(RuntimeError) -> Domain {
        let domain: Domain
        do {
            domain = try DomainParser.define(xml: xml)
        } catch {
            throw RuntimeError(error.code == .xmlError || error.code == .xmlDetail ? .xmlError : .configUnsupported,
                               error.message, cause: error)
        }
        // Generated socket paths must fit sockaddr_un for any id this daemon will hand out.
        if let (path, length) = launcher.overlongGeneratedPaths(domain, id: Self.worstGuestID).first {
            throw Self.overlong(path, length)
        }
        return domain
    }

    /// `virsh create`: a transient domain, started from its XML and gone once it stops; its
    /// definition is never saved. A name or uuid that a domain has already is refused.
    nonisolated public func create(xml: String, paused: Bool) async throws(RuntimeError) -> DomainSummary {
        let domain = try validated(xml: xml)
        try await adopt(transient: domain)
        do {
            return try await start(name: domain.name, paused: paused)
        } catch {
            await forgetFailedTransient(domain.name)
            throw error
        }
    }

    private func adopt(transient domain: Domain) throws(RuntimeError) {
        if let existing = records[domain.name] {
            if existing.domain.uuid != domain.uuid {
                throw RuntimeError(.domainExists, "operation failed: domain '\(domain.name)' already exists with uuid \(existing.domain.uuid)")
            }
            if case .shutoff = existing.lifecycle {
                throw RuntimeError(.operationInvalid, "Requested operation is not valid: domain '\(domain.name)' is already defined; start it instead")
            }
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: domain '\(domain.name)' is already active")
        }
        if let other = records.values.first(where: { $0.domain.uuid == domain.uuid }) {
            throw RuntimeError(.domainExists, "operation failed: domain '\(other.domain.name)' is already defined with uuid \(domain.uuid)")
        }
        records[domain.name] = Record(domain: domain, persistent: false, lifecycle: .shutoff(.unknown))
    }

    private func forgetFailedTransient(_ name: String) {
        guard let record = records[name], !record.persistent, case .shutoff = record.lifecycle else { return }
        records[name] = nil
    }

    /// The largest guest id a definition's socket paths are checked for (five digits).
    static let worstGuestID = 99_999

    static func overlong(_ path: String, _ length: Int) -> RuntimeError {
        RuntimeError(.configUnsupported,
                     "generated UNIX socket path '\(path)' is \(length) bytes, more than the \(UnixSocket.maximumDirectPathLength) a socket path can hold; use a shorter run directory or channel name")
    }

    /// The part of a define that needs the records: the clash checks, the save, the record.
    private func save(_ domain: Domain, xml: String) throws(RuntimeError) -> DomainSummary {
        if let existing = records[domain.name], existing.domain.uuid != domain.uuid {
            throw RuntimeError(.domainExists,
                           "operation failed: domain '\(domain.name)' already exists with uuid \(existing.domain.uuid)")
        }
        if let other = records.values.first(where: { $0.domain.uuid == domain.uuid && $0.domain.name != domain.name }) {
            throw RuntimeError(.domainExists,
                           "operation failed: domain '\(other.domain.name)' is already defined with uuid \(domain.uuid)")
        }
        // Beyond five digits the ids' paths are longer than the ones checked off the actor.
        if nextID > Self.worstGuestID, let (path, length) = launcher.overlongGeneratedPaths(domain, id: nextID).first {
            throw Self.overlong(path, length)
        }
        do {
            try AtomicFile.write(xml, to: layout.definitionPath(domain.name))
        } catch {
            throw RuntimeError(.systemError, error.description)
        }
        let updated = records[domain.name] != nil
        if var record = records[domain.name] {
            record.domain = domain
            record.persistent = true
            records[domain.name] = record
        } else {
            records[domain.name] = Record(domain: domain, persistent: true, lifecycle: .shutoff(.unknown))
        }
        let defined = summary(domain.name)
        publish(.defined(updated: updated), defined)
        return defined
    }

    /// `virsh undefine`: a running domain becomes transient and goes away when it stops.
    public func undefine(name: String) throws(RuntimeError) {
        let record = try lookup(name)
        // A definition that stays would come back at the next start of the daemon.
        let path = layout.definitionPath(name)
        if unlink(path.string) != 0 && errno != ENOENT {
            throw RuntimeError(.systemError, "cannot remove config \(path.string): \(Errno(rawValue: errno))")
        }
        unlink(layout.autostartPath(name).string)
        let undefined = summary(name)
        if case .shutoff = record.lifecycle {
            records[name] = nil
        } else {
            records[name]?.persistent = false
        }
        publish(.undefined, undefined)
    }
}
