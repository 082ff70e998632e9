// Compile-time behaviour: what the compiler says about misuse, checked by type-checking snippets
// against the modules this test run was built with.
import Foundation
import Testing

/// Type-checks `source` (a file that imports Sluice) and returns the compiler's output.
func typeCheck(_ source: String) throws -> (status: Int32, output: String) {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var modules = executable.deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: modules.appendingPathComponent("Modules/Sluice.swiftmodule").path) {
        guard modules.pathComponents.count > 2 else { throw CocoaError(.fileNoSuchFile) }
        modules = modules.deletingLastPathComponent()
    }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-diag-\(UUID().uuidString).swift")
    try source.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["swiftc", "-typecheck", "-I", modules.appendingPathComponent("Modules").path, file.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite(.serialized) struct BuilderDiagnosticsTests {
    @Test func mismatchedBranchTypesGetAReadableMessage() throws {
        let (status, output) = try typeCheck("""
            import Sluice
            func make(_ b: Bool) -> Flow<Int, String> {
                Flow<Int, String> {
                    if b {
                        Map { (x: Int) in String(x) }
                    } else {
                        Map { (x: Int) in x * 2 }
                    }
                }
            }
            """)
        #expect(status != 0)
        #expect(output.contains("every branch of an 'if'/'else' or 'switch' in a flow must produce the same element type"), "\(output)")
        #expect(!output.contains("failed to produce diagnostic"), "\(output)")
    }

    @Test func matchingBranchesAndNestedSwitchesTypeCheck() throws {
        let (status, output) = try typeCheck("""
            import Sluice
            func make(_ mode: Int) -> Flow<Int, String> {
                Flow<Int, String> {
                    Map { $0 + 1 }
                    switch mode {
                    case 0: Map { (x: Int) in String(x) }
                    case 1: Map { (x: Int) in "#\\(x)" }
                    default:
                        if mode > 5 {
                            Map { (x: Int) in "big" }
                        } else if mode < 0 {
                            Map { (x: Int) in "negative" }
                        } else {
                            Map { (x: Int) in "small" }
                        }
                    }
                }
            }
            """)
        #expect(status == 0, "\(output)")
    }
}
