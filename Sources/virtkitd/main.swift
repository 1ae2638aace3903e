import VirtKitDaemon

await DaemonCommand.main()
