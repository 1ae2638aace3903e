import Testing
import VirtKitQMP
@testable import VirtKitMonitor

@Suite("Monitor commands that reach the host")
struct HostAccessRuleTests {
    @Test(arguments: [
        "pmemsave 0 4096 /tmp/x", "memsave 0 10 /tmp/x", "dump-guest-memory /tmp/core", "screendump /tmp/a.ppm",
        "qemu-io drive0 \"write 0 512\"", "drive_add 0 if=none,id=d,file=/etc/shadow", "drive_add 0 id=d,filename=/x",
        "migrate \"exec:cat > /tmp/m\"", "migrate -d file:/tmp/m", "drive_backup drive0 /tmp/b",
        "chardev-add file,id=f,path=/tmp/log", "netdev_add tap,id=n,script=/tmp/evil", "change ide1-cd0 /etc/shadow",
        "object_add memory-backend-file,id=m,size=1M,mem-path=/etc/passwd", "device_add e1000,romfile=/etc/shadow",
        "nbd_server_start 0.0.0.0:10809", "logfile /tmp/qemu.log",
    ])
    func hmpThatReachesTheHostIsNamed(line: String) {
        #expect(HostAccessRule.hostAccess(of: .hmp(line)) != nil, "\(line)")
    }

    @Test(arguments: [
        "info status", "drive_add 0 if=none,id=d", "migrate tcp:127.0.0.1:4444", "netdev_add user,id=n",
        "netdev_add tap,id=n,script=no,downscript=no", "chardev-add pty,id=p", "change vnc password",
        "device_add virtio-rng-pci", "stop", "cont", "system_powerdown", "x/10x 0",
    ])
    func hmpInsideTheGuestPasses(line: String) {
        #expect(HostAccessRule.hostAccess(of: .hmp(line)) == nil, "\(line)")
    }

    @Test func qmpThatReachesTheHostIsNamed() {
        let refused: [(String, QMP.Value?)] = [
            ("pmemsave", ["val": 0, "size": 4096, "filename": "/tmp/x"]),
            ("dump-guest-memory", ["paging": false, "protocol": "file:/tmp/core"]),
            ("migrate", ["uri": "exec:cat > /tmp/m"]),
            ("blockdev-add", ["driver": "raw", "node-name": "n", "file": ["driver": "file", "filename": "/etc/shadow"]]),
            ("chardev-add", ["id": "c", "backend": ["type": "file", "data": ["out": "/tmp/o"]]]),
            ("netdev_add", ["type": "tap", "id": "n", "script": "/tmp/evil"]),
            ("object-add", ["qom-type": "memory-backend-file", "id": "m", "mem-path": "/etc/passwd"]),
            ("drive-backup", ["device": "d", "target": "/tmp/b", "sync": "full"]),
        ]
        for (name, arguments) in refused {
            #expect(HostAccessRule.hostAccess(of: .qmp(name: name, arguments: arguments)) != nil, "\(name)")
        }
        let allowed: [(String, QMP.Value?)] = [
            ("query-status", nil), ("migrate", ["uri": "tcp:127.0.0.1:4444"]),
            ("blockdev-add", ["driver": "null-co", "node-name": "n"]),
            ("netdev_add", ["type": "tap", "id": "n", "script": "no"]),
            ("chardev-add", ["id": "c", "backend": ["type": "null", "data": [:]]]),
        ]
        for (name, arguments) in allowed {
            #expect(HostAccessRule.hostAccess(of: .qmp(name: name, arguments: arguments)) == nil, "\(name)")
        }
    }

    @Test func theStandardPolicyRefusesThemUnlessAllowed() async {
        let strict = MonitorPolicy.standard(onQuit: {}, brokeredChardevs: { [] })
        let open = MonitorPolicy.standard(onQuit: {}, brokeredChardevs: { [] }, allowHostAccess: true)
        let command = MonitorCommand.hmp("pmemsave 0 4096 /tmp/x")
        guard case .refuse(let message) = await strict.review(command, on: .interactive) else {
            Issue.record("pmemsave was not refused")
            return
        }
        #expect(message.hasPrefix("pmemsave refused: it writes guest memory to a file on the host"))
        #expect(message.contains("allow_host_access = yes"))
        #expect(await open.review(command, on: .interactive) == .allow)
        #expect(await strict.review(.hmp("info status"), on: .command) == .allow)
    }
}
