//! The `harness` command-line tool (see the CLI issue).

fn main() {}
