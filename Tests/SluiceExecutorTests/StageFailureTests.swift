import SluiceExecutor
import Testing

struct Invalid: Error {}

@Suite struct StageFailureTests {
    /// A failure is one reference, so a railway value of a small output stays small as it moves
    /// through channels (it was 80 bytes for an `Int` output with the fields stored inline).
    @Test func aRailwayValueOfAnIntIsSixteenBytes() {
        #expect(MemoryLayout<StageFailure>.size == 8)
        #expect(MemoryLayout<Result<Int, StageFailure>>.stride == 16)
    }

    @Test func settingAFieldChangesOnlyThatCopy() {
        let original = StageFailure(stage: "parse", item: 2, underlying: Invalid(), attempts: 1)
        var changed = original
        changed.attempts = 3
        changed.stage = "fetch"
        changed.item = nil
        changed.underlying = CancellationError()
        #expect(original.stage == "parse" && original.item as? Int == 2 && original.attempts == 1)
        #expect(original.underlying is Invalid)
        #expect(changed.stage == "fetch" && changed.item == nil && changed.attempts == 3)
        #expect(changed.underlying is CancellationError)
        #expect(original.description == "[parse] item 2: Invalid()")
        #expect(changed.description == "[fetch] failed (after 3 attempts): CancellationError()")
    }
}
