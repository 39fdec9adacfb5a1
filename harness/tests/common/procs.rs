//! The `test-support` crate's process helpers, under the path the CLI tests, the e2e suite and the
//! bench still include with `#[path]` (targets outside this change). New targets use
//! `test_support::procs` directly; once those three do, this file goes.

#[allow(unused_imports, reason = "each including target uses a different part")]
pub(crate) use test_support::procs::*;
