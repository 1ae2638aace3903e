/// A `<clock>`'s `<timer>`: how the guest's RTC, PIT and HPET behave. libvirt turns the RTC's
/// into `-rtc` options, the PIT's into kvm-pit's lost tick policy and an absent HPET into
/// `-no-hpet`; virt-install writes all three for every x86 guest.
public struct ClockTimer: Sendable, Equatable {
    public enum Name: String, Sendable, CaseIterable {
        case platform, pit, rtc, hpet, tsc, kvmclock, hypervclock, armvtimer
    }
    public enum TickPolicy: String, Sendable { case delay, catchup, merge, discard }
    public enum Track: String, Sendable { case boot, guest, wall, realtime }

    public var name: Name
    public var present: Bool?
    public var tickPolicy: TickPolicy?
    public var track: Track?

    public init(name: Name, present: Bool? = nil, tickPolicy: TickPolicy? = nil, track: Track? = nil) {
        self.name = name
        self.present = present
        self.tickPolicy = tickPolicy
        self.track = track
    }

    /// `<timer name present tickpolicy track/>`, with libvirt's errors for values it does not know.
    static func parse(_ element: XMLElement) throws(DomainError) -> ClockTimer {
        guard let nameText = element.attribute("name") else { throw .missingAttribute("name", "timer") }
        guard let name = Name(rawValue: nameText) else { throw .invalidValue("name", "timer", nameText) }
        var timer = ClockTimer(name: name)
        if let present = element.attribute("present") {
            guard present == "yes" || present == "no" else { throw .invalidValue("present", "timer", present) }
            timer.present = present == "yes"
        }
        if let policy = element.attribute("tickpolicy") {
            guard let value = TickPolicy(rawValue: policy) else { throw .invalidValue("tickpolicy", "timer", policy) }
            timer.tickPolicy = value
        }
        if let track = element.attribute("track") {
            guard let value = Track(rawValue: track) else { throw .invalidValue("track", "timer", track) }
            timer.track = value
        }
        guard element.children.isEmpty, element.attribute("frequency") == nil, element.attribute("mode") == nil else {
            throw DomainError(.configUnsupported, "timer '\(nameText)' with catchup, frequency or mode settings is not supported by VirtKit")
        }
        return timer
    }

    /// What libvirt's QEMU driver refuses (`qemuValidateDomainDefClockTimers`), and the timers
    /// VirtKit does not build yet (those that go into `-cpu`).
    func validate(_ domain: Domain) throws(DomainError) {
        switch name {
        case .platform:
            throw DomainError(.configUnsupported, "unsupported timer type (name) 'platform'")
        case .tsc, .kvmclock, .hypervclock:
            throw DomainError(.configUnsupported, "timer '\(name.rawValue)' is not supported by VirtKit")
        case .armvtimer:
            throw DomainError(.configUnsupported, "Configuring the 'armvtimer' timer is not supported for virtType=\(domain.virtType.rawValue) arch=\(domain.os.arch) machine=\(domain.os.machine) guests")
        case .rtc:
            if track == .boot { throw DomainError(.configUnsupported, "unsupported rtc timer track 'boot'") }
            if let tickPolicy, tickPolicy == .merge || tickPolicy == .discard {
                throw DomainError(.configUnsupported, "unsupported rtc timer tickpolicy '\(tickPolicy.rawValue)'")
            }
        case .pit:
            if tickPolicy == .merge { throw DomainError(.configUnsupported, "unsupported pit tickpolicy 'merge'") }
        case .hpet:
            break
        }
    }

    func write(into writer: inout LibvirtXMLWriter) {
        writer.empty("timer", [("name", name.rawValue), ("present", present.map { $0 ? "yes" : "no" }),
                               ("tickpolicy", tickPolicy?.rawValue), ("track", track?.rawValue)])
    }

    /// The `-rtc` value: the clock's base, then the RTC timer's clock and drift fix.
    public static func rtcArgument(offset: String, timers: [ClockTimer]) -> String {
        var value = "base=" + offset
        for timer in timers where timer.name == .rtc {
            switch timer.track {
            case .guest: value += ",clock=vm"
            case .wall: value += ",clock=host"
            case .realtime: value += ",clock=rt"
            case .boot, nil: break
            }
            if timer.tickPolicy == .catchup { value += ",driftfix=slew" }
        }
        return value
    }

    /// What follows `-rtc`: kvm-pit's lost tick policy (QEMU 7.2 has kvm-pit), `-no-hpet`.
    public static func timerArguments(_ timers: [ClockTimer]) -> [String] {
        var args: [String] = []
        for timer in timers {
            switch timer.name {
            case .pit:
                switch timer.tickPolicy {
                case nil, .delay: args += ["-global", "kvm-pit.lost_tick_policy=delay"]
                case .discard: args += ["-global", "kvm-pit.lost_tick_policy=discard"]
                case .catchup, .merge: break
                }
            case .hpet where timer.present == false:
                args.append("-no-hpet")
            default:
                break
            }
        }
        return args
    }
}
