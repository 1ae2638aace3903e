// The runtime's vocabulary (DomainSummary, ChardevInfo, ...) is the API's too: a client of the
// API gets both with one import.
@_exported import VirtKitModel
