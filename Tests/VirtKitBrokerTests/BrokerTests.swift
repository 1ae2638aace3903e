import Foundation
import Testing

/// Every broker test, run one at a time: the file-descriptor census must not see another
/// test's sockets, and the 20 MiB streams share two cores with everyone's builds.
@Suite(.serialized)
enum BrokerTests {}
