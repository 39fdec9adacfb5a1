//! Removing a test network: one shell script, run three ways.
//!
//! - As the *guard*, started with the network in its own session, ignoring SIGINT, SIGHUP and
//!   SIGTERM, with its stdin the read end of a pipe whose write end only the owning test process
//!   holds (std opens pipes close-on-exec, so no other child inherits it). The script first reads
//!   stdin to its end: when the owner closes the write end in `teardown`, or dies however it dies
//!   (SIGKILL, Ctrl-C: no `Drop` runs), the read ends and the script removes the network.
//!   `teardown` waits for the guard, so the two never race.
//! - Directly, with stdin at its end, when there is no guard to ask, and to sweep what dead owners
//!   left behind.
//!
//! The script kills every process in the namespaces (`ip netns pids`, SIGKILL, until none is
//! left), deletes the other root links and the namespaces, and `hnNbr` last: it is the claim on
//! the network's number. In `teardown` the owner deletes `hnNbr` itself (the guard is told to
//! keep it), after checking the rest is gone: while it holds the number, no other run can make
//! a namespace of the same name.

use std::collections::BTreeMap;
use std::io::{PipeWriter, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{ip, owner};

/// Arguments: the bridge, then `ns:NAME` and `link:NAME` items. A `keep-bridge` line on stdin
/// leaves the bridge to the owner. Exit status 3: processes in the namespaces outlived 5 s of
/// SIGKILLs.
const SCRIPT: &str = r#"
trap '' INT HUP TERM
keep=
while IFS= read -r line; do [ "$line" = keep-bridge ] && keep=1; done
bridge=$1; shift
rounds=0
while :; do
    pids=
    for item; do
        case $item in ns:*) pids="$pids $(ip netns pids "${item#ns:}" 2>/dev/null)";; esac
    done
    case $pids in *[0-9]*) ;; *) break;; esac
    rounds=$((rounds + 1))
    [ "$rounds" -gt 250 ] && exit 3
    kill -9 $pids 2>/dev/null
    sleep 0.02
done
for item; do case $item in link:*) ip link del "${item#link:}" 2>/dev/null;; esac; done
for item; do case $item in ns:*) ip netns del "${item#ns:}" 2>/dev/null;; esac; done
[ -n "$keep" ] || ip link del "$bridge" 2>/dev/null
exit 0
"#;

/// The guard's name (`$0` of its script).
const GUARD: &str = "harness-netns-guard";

/// How long a guard or a sweep may take to remove a network.
const PATIENCE: Duration = Duration::from_secs(10);

/// What the script removes: network `n`'s namespaces and root links.
pub(super) struct Plan {
    /// The network's number.
    pub(super) n: u16,
    /// Its namespaces: hosts and switch.
    pub(super) namespaces: Vec<String>,
    /// Its root namespace links other than `hnNbr`.
    pub(super) links: Vec<String>,
}

impl Plan {
    /// Nothing but the bridge of network `n`.
    pub(super) fn new(n: u16) -> Plan {
        Plan {
            n,
            namespaces: Vec::new(),
            links: Vec::new(),
        }
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec![owner::bridge(self.n)];
        args.extend(self.namespaces.iter().map(|ns| format!("ns:{ns}")));
        args.extend(self.links.iter().map(|link| format!("link:{link}")));
        args
    }

    /// `sh -c SCRIPT`, in a session of its own (`setsid sh -c SCRIPT`) for the guard.
    fn script(&self, who: &str) -> Command {
        let mut command = Command::new(if who == GUARD { "setsid" } else { "sh" });
        if who == GUARD {
            command.arg("sh");
        }
        command
            .args(["-c", SCRIPT, who])
            .args(self.args())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// Runs the script now and waits for it.
    pub(super) fn remove_now(&self) -> Result<(), String> {
        let mut child = self
            .script("harness-netns-cleanup")
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run sh to remove test network {}: {e}", self.n))?;
        finish(&mut child, &format!("removing test network {}", self.n))
    }

    /// Starts the guard that removes this network when the returned write end closes.
    pub(super) fn guard(&self) -> Result<Guard, String> {
        let (reader, writer) = std::io::pipe()
            .map_err(|e| format!("cannot make the guard pipe of test network {}: {e}", self.n))?;
        let mut command = self.script(GUARD);
        let child = command
            .stdin(reader)
            .spawn()
            .map_err(|e| format!("cannot start the guard of test network {}: {e}", self.n))?;
        // The guard holds the read end now; drop this process's copy with the command.
        drop(command);
        Ok(Guard {
            n: self.n,
            child,
            writer,
        })
    }
}

/// The guard process of one network, and the only write end of its pipe.
pub(super) struct Guard {
    n: u16,
    child: Child,
    writer: PipeWriter,
}

impl Guard {
    /// The guard's pid.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Asks the guard to remove the hosts, but not the bridge (the owner's claim on the number,
    /// which it keeps until it has checked the hosts are gone), and waits for it to finish.
    pub(super) fn finish_keeping_bridge(self) -> Result<(), String> {
        let Guard {
            n,
            mut child,
            mut writer,
        } = self;
        let what = format!("the guard of test network {n}");
        let asked = writeln!(writer, "keep-bridge");
        drop(writer);
        let finished = finish(&mut child, &what);
        asked.map_err(|e| format!("cannot write to {what} (pid {}): {e}", child.id()))?;
        finished
    }
}

/// Waits at most [`PATIENCE`] for a script run to exit 0; kills it after that.
fn finish(child: &mut Child, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + PATIENCE;
    let status: ExitStatus = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{what} (pid {}) did not finish within {PATIENCE:?}; killed it",
                    child.id()
                ));
            }
            Err(e) => return Err(format!("cannot wait for {what} (pid {}): {e}", child.id())),
        }
    };
    match status.code() {
        Some(0) => Ok(()),
        Some(3) => Err(format!(
            "{what}: processes in its namespaces outlived {PATIENCE:?} of SIGKILLs \
             (see `ip netns pids`)"
        )),
        _ => Err(format!("{what} failed: {status}")),
    }
}

/// Removes what owners that are gone left behind: every network whose `hnNbr` is missing or names
/// an owner and a guard that are no longer alive (a live guard is removing it already). Call it holding the [`owner::Lock`], so no network is
/// half made meanwhile; a live owner's network is never touched.
pub(super) fn sweep() -> Result<(), String> {
    // Namespaces first, then links: a namespace listed before the bridge check belongs to a
    // network that, if its bridge is gone by then, has no live owner.
    let namespaces = ip::namespaces()?;
    let links = ip::links()?;
    let mut plans: BTreeMap<u16, Plan> = BTreeMap::new();
    for ns in namespaces {
        if let Some(n) = owner::number_of(&ns) {
            plans
                .entry(n)
                .or_insert_with(|| Plan::new(n))
                .namespaces
                .push(ns);
        }
    }
    for (_, link) in links {
        if let Some(n) = owner::number_of(&link) {
            let plan = plans.entry(n).or_insert_with(|| Plan::new(n));
            if link != owner::bridge(n) {
                plan.links.push(link);
            }
        }
    }
    for plan in plans.into_values() {
        let live = owner::bridge_marker(plan.n)
            .and_then(|marker| owner::marker_is_live(&marker))
            .unwrap_or(false);
        if !live {
            plan.remove_now()
                .map_err(|e| format!("sweeping a dead owner's leftovers: {e}"))?;
        }
    }
    Ok(())
}
