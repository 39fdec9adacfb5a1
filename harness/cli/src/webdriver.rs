//! Scaffolding for the wt-reset branch only (the pooling endpoint's helper owns this file): the
//! warm sessions' reset, until the pool that uses it lands.

pub(crate) mod reset;
