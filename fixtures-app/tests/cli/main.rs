//! Runs the real `fixtures-app` binary and checks what a harness relies on: the handshake, the
//! exit codes, the signals and every misbehaviour switch.

mod misbehave;
mod serve;
mod shutdown;
mod support;
