// Chunk kernels for the synchronous stages: built in `@inlinable` code, so they are specialized
// in the module that writes the pipeline. Each stage's file adds its kernel to this namespace.

/// Kernel factories (see `ChunkKernel`).
@usableFromInline
package enum Kernels {}
