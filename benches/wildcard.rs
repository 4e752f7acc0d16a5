//! Placeholder, replaced by the wildcard benchmark.
fn main() {}
