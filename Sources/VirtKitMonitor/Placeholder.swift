// VirtKitMonitor
