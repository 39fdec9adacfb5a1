//! `--env-file FILE`: the variables of the running servers as `NAME=value` lines, the format of
//! nextest's `$NEXTEST_ENV` file (and of a shell's `set -a; . FILE`, since no value has spaces).

use std::io::Write;
use std::path::Path;

use crate::stack::Running;

/// Where `--log-dir dir` puts server `name`'s output.
pub(crate) fn log_path(dir: &Path, name: &str) -> String {
    dir.join(format!("{name}.log")).display().to_string()
}

/// The variables `run` gives its test command, then per server `NAME_INSTANCE_ID` (the nonce
/// an identity check expects) and, with `log_dir`, `NAME_LOG`.
pub(crate) fn variables(running: &Running, log_dir: Option<&Path>) -> Vec<(String, String)> {
    let mut env = running.env();
    for started in &running.servers {
        let prefix = &started.prefix;
        env.push((
            format!("{prefix}_INSTANCE_ID"),
            started.handle.instance_id().to_owned(),
        ));
        if let Some(dir) = log_dir {
            env.push((
                format!("{prefix}_LOG"),
                log_path(dir, started.handle.name()),
            ));
        }
    }
    env
}

/// Appends `variables` to `file` as `NAME=value` lines, in one write, and flushes them to the file.
pub(crate) fn append(
    file: &mut std::fs::File,
    variables: &[(String, String)],
) -> std::io::Result<()> {
    let text: String = variables
        .iter()
        .map(|(name, value)| format!("{name}={value}\n"))
        .collect();
    file.write_all(text.as_bytes())?;
    file.flush()
}
