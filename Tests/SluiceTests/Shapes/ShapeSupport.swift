// What the shape tests share.

/// The error the shape tests' stages throw.
struct ShapeBoom: Error {}
