// VirtKitBroker
