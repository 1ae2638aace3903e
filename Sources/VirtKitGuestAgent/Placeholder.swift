// VirtKitGuestAgent
