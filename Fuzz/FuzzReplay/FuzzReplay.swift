#if canImport(Glibc)
import Glibc
#endif
#if FUZZING
import CFuzz
#endif

/// Runs a fuzz target once on each file named on the command line (or in a directory named
/// there), for the corpus replays that run with the tests, without libFuzzer.
public enum FuzzReplay {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The target, for libFuzzer's callbacks (C functions, which capture nothing).
    nonisolated(unsafe) static var target: (UnsafeRawBufferPointer) -> Void = { _ in }

    /// The fuzz executable's main: with libFuzzer (`-DFUZZING`), hands the process to it, which
    /// calls `target` with each input it makes; built plainly, runs `target` once on each file
    /// named on the command line (a corpus replay).
    public static func main(_ target: @escaping (UnsafeRawBufferPointer) -> Void) throws {
        Self.target = target
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
        #else
        try run(target)
        #endif
    }

    public static func run(_ target: (UnsafeRawBufferPointer) -> Void) throws {
        var count = 0
        for argument in CommandLine.arguments.dropFirst() {
            for file in files(argument) {
                guard let bytes = read(file) else { throw Failure(description: "cannot read \(file)") }
                bytes.withUnsafeBytes { target($0) }
                count += 1
            }
        }
        print("replayed \(count) inputs")
    }

    private static func files(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [path] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(path + "/" + name) }
        }
        return names.sorted()
    }

    private static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }
}

/// libFuzzer's entry point: its own main, which -sanitize=fuzzer links in too, calls it, and so
/// does ``FuzzReplay/main(_:)``'s driver.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzReplay.target(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
