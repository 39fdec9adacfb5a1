//! `harness run`: start the servers, run the test command against them, stop everything.

use std::process::ExitCode;

use super::args::RunArgs;
use super::exit;
use super::plan::{self, Plan};
use super::signals::Stop;
use super::stack;
use super::test_command::TestCommand;
use super::usage::UsageError;

/// Runs `harness run` to the end and returns its exit status.
pub(crate) async fn run(args: RunArgs) -> ExitCode {
    let plan = match prepare(&args) {
        Ok(plan) => plan,
        Err(error) => return super::usage_error(&error),
    };
    let (running, mut signals) = match stack::launch(plan).await {
        Ok(launched) => launched,
        Err(status) => return status,
    };

    let mut test = match TestCommand::spawn(&args.command, &running.env()).await {
        Ok(test) => test,
        Err(error) => {
            say!(
                "harness: error: failed to start the test command {:?}: {error}",
                args.command[0]
            );
            running.stop(&mut signals).await;
            return ExitCode::from(exit::CANNOT_EXECUTE);
        }
    };

    let mut dead = Vec::new();
    let mut stopping: Option<Stop> = None;
    let mut forced: Option<Stop> = None;
    let status = loop {
        tokio::select! {
            status = test.exited() => break status,
            (index, status) = running.next_death(&dead) => {
                running.report_death(index, status, "the tests ran").await;
                dead.push(index);
            }
            stop = signals.next() => {
                if stopping.is_none() {
                    say!(
                        "harness: {}: passing it on to the test command, then stopping the servers (again to kill everything at once)",
                        stop.name()
                    );
                    test.forward(stop);
                    stopping = Some(stop);
                } else {
                    say!("harness: {}: killing everything now", stop.name());
                    test.kill();
                    forced = Some(stop);
                }
            }
        }
    };
    test.finish();

    for (index, status) in running.newly_dead(&dead) {
        running.report_death(index, status, "the tests ran").await;
        dead.push(index);
    }
    if let harness::Exit::Unknown { why } = &status {
        say!(
            "harness: error: the test command's exit was not observed ({why}); exit status {}",
            exit::EXIT_UNKNOWN
        );
    }
    let code = exit::code_of(&status);
    if !args.logs && (code != 0 || !dead.is_empty()) {
        running.print_tails(&dead);
    }
    if let Some(stop) = forced {
        drop(running);
        return exit::after_signal(stop.number());
    }
    if let Some(stop) = running.stop(&mut signals).await {
        return exit::after_signal(stop.number());
    }
    // An interrupted run is not a passed run, even if the command caught the signal and exited 0.
    if let Some(stop) = stopping {
        return exit::after_signal(stop.number());
    }
    ExitCode::from(match code {
        0 if !dead.is_empty() => exit::SERVER_DIED,
        code => code,
    })
}

fn prepare(args: &RunArgs) -> Result<Plan, UsageError> {
    let echo = args.logs.then_some(true);
    let plan = Plan::new(&args.stack, echo)?;
    plan::check_test_command(&args.command)?;
    Ok(plan)
}
