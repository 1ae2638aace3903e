import Foundation
import Testing
import VirtKitDomain
import VirtKitTestSupport
@testable import VirtKitQEMU

/// The builder against libvirt 9.0's recorded `domxml-to-native` answers and VirtKit's own
/// real-start golden file.
@Suite struct CommandLineGoldenTests {
    static let casesWithArgv = TestFiles.caseNames.filter { TestFiles.libvirtGolden($0, "args") != nil }

    static func build(_ xml: String, mode: StartMode = .pretend) throws -> QEMUInvocation {
        let domain = try DomainParser.define(xml: xml)
        var builder = QEMUCommandLineBuilder.libvirtPretend(for: domain)
        builder.mode = mode
        return try builder.build(domain)
    }

    @Test(arguments: casesWithArgv)
    func pretendArgvMatchesLibvirt(_ name: String) throws {
        let expected = try #require(TestFiles.libvirtGolden(name, "args")).split(separator: "\n").map(String.init)
        let argv = try Self.build(TestFiles.caseXML(name)).arguments
        // Every chardev argument must match; the whole argv too, except that libvirt's pretend
        // start turns a user NIC into a tap device, which VirtKit does not copy.
        #expect(TestFiles.chardevArguments(argv) == TestFiles.chardevArguments(expected))
        if !TestFiles.caseXML(name).contains("<interface") {
            #expect(argv == expected)
        }
    }

    @Test(arguments: TestFiles.caseNames.filter { TestFiles.libvirtGolden($0, "args.err") != nil })
    func refusedAsLibvirtRefuses(_ name: String) throws {
        let expected = try #require(TestFiles.libvirtGolden(name, "args.err")).trimmingCharacters(in: .newlines)
        var message = ""
        do {
            _ = try Self.build(TestFiles.caseXML(name))
        } catch let error as DomainError {
            message = error.message
        } catch let error as QEMUCommandLineError {
            message = error.message
        }
        #expect(message == expected)
    }

    @Test func realStartPassesSocketsAndFilesAsDescriptors() throws {
        let dir = TestFiles.virtkitGoldenDirectory
        let xml = try String(contentsOf: dir.appendingPathComponent("real-start.xml"), encoding: .utf8)
        let expected = try String(contentsOf: dir.appendingPathComponent("real-start.args"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let invocation = try Self.build(xml, mode: .start(firstFD: 3))
        #expect(invocation.arguments == expected)
        #expect(invocation.descriptors.map(\.number) == [3, 4, 5, 6, 7])
        #expect(invocation.descriptors.map(\.label) ==
            ["serial1-source", "serial1-log", "channel0-source", "channel2-log", "monitor-source"])
        #expect(invocation.descriptors.map(\.fdset) == [0, 1, nil, 2, nil])
        #expect(invocation.descriptors[0].purpose == .writableFile(path: "/tmp/vk,serial.log", append: false))
        #expect(invocation.descriptors[3].purpose == .writableFile(path: "/tmp/vk-fwd.log", append: true))
        #expect(invocation.descriptors[4].purpose ==
            .listeningUnixSocket(path: "/var/lib/libvirt/qemu/domain--1-vk-real-start/monitor.sock"))
        // No path QEMU would have to open itself is left for a pre-opened descriptor.
        #expect(!invocation.arguments.contains { $0.contains("path=/tmp/vk,,serial.log") })
    }

    @Test func pretendStartDoublesCommasInPaths() throws {
        let dir = TestFiles.virtkitGoldenDirectory
        let xml = try String(contentsOf: dir.appendingPathComponent("real-start.xml"), encoding: .utf8)
        let invocation = try Self.build(xml)
        #expect(invocation.descriptors.isEmpty)
        #expect(invocation.arguments.contains("file,id=charserial1,path=/tmp/vk,,serial.log,logfile=/tmp/vk-serial1-log.log,logappend=off"))
    }

    @Test func jsonQuotingEscapesControlCharacters() {
        #expect(JSONObject.quote("a\"b\\c\u{01}/") == "\"a\\\"b\\\\c\\u0001/\"")
    }
}
