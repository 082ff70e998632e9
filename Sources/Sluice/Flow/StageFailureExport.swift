// Re-exports the executor's error type: users `import Sluice` and catch `StageFailure`.
@_exported import struct SluiceExecutor.StageFailure
@_exported import struct SluiceExecutor.PipelineTimeout
