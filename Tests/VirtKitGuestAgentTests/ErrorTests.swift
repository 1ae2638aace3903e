import Testing
import VirtKitGuestAgent

/// libvirt's messages and timeout numbers.
@Suite struct ErrorTests {
    @Test(arguments: [
        (GuestAgent.Error.notConnected, "Guest agent is not responding: QEMU guest agent is not connected"),
        (.timedOut(command: "guest-ping"), "Guest agent is not responding: Guest agent not available for now"),
        (.disconnected, "Guest agent is not responding: Guest agent disappeared while executing command"),
        (.commandFailed(command: "guest-foo", class: "CommandNotFound", description: "The command guest-foo has not been found"),
         "internal error: unable to execute QEMU agent command 'guest-foo': The command guest-foo has not been found"),
        (.malformed(raw: "{x"), "internal error: malformed guest agent JSON: {x"),
    ])
    func description(error: GuestAgent.Error, message: String) {
        #expect(error.description == message)
    }

    @Test(arguments: [
        (-3, GuestAgent.Client.Timeout.block), (-2, .block), (-1, .default), (0, .noWait), (1, .seconds(1)), (300, .seconds(300)),
    ])
    func libvirtTimeout(value: Int, timeout: GuestAgent.Client.Timeout) {
        #expect(GuestAgent.Client.Timeout(libvirt: value) == timeout)
    }
}
