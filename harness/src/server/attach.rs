//! Attaching to a server another process started: the variables it exported, checked as a
//! started server is checked (health, identity), before the handle is handed out.

use std::path::PathBuf;
use std::time::Instant;

use url::Url;

use super::Server;
use crate::attached::{Attached, env_prefix};
use crate::checks::{self, CheckFailed};
use crate::handle::ServerHandle;
use crate::{Error, Failure};

impl Server {
    /// The server another process started for this one, if the environment names it: `NAME_URL`
    /// (NAME is this server's [`name`](Self::name), upper-cased, `-` as `_`), with `NAME_PID`,
    /// `NAME_INSTANCE_ID` and `NAME_LOG` when given, as `harness serve` exports them. `None`
    /// when `NAME_URL` is unset. The health and identity checks run against it as against a
    /// server started here (the identity check needs `NAME_INSTANCE_ID`), within the ready
    /// timeout. The handle starts and stops nothing (see [`ServerHandle::is_attached`]).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// // WEB_URL=http://127.0.0.1:41234/ WEB_INSTANCE_ID=... exported by `harness serve`
    /// let server = harness::Server::cargo_bin("fixtures-app")?.name("web").identity_check("/whoami");
    /// let web = match server.attach_from_env().await? {
    ///     Some(attached) => attached,
    ///     None => server.spawn().await?,
    /// };
    /// println!("web at {}", web.url());
    /// # Ok(()) }
    /// ```
    pub async fn attach_from_env(&self) -> Result<Option<ServerHandle>, Error> {
        let name = self.display_name(std::path::Path::new(&self.program));
        let Some(prefix) = env_prefix(&name) else {
            return Ok(None);
        };
        let var = |suffix: &str| {
            let key = format!("{prefix}_{suffix}");
            let value = std::env::var(&key).ok().filter(|v| !v.trim().is_empty());
            (key, value)
        };
        let (url_var, Some(url_text)) = var("URL") else {
            return Ok(None);
        };
        let bad = |var: &str, value: &str, reason: &str| Error::BadAttach {
            var: var.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let mut url = Url::parse(url_text.trim())
            .map_err(|e| bad(&url_var, &url_text, &format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(&url_var, &url_text, "the scheme must be http or https"));
        }
        if !matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) {
            return Err(bad(
                &url_var,
                &url_text,
                "the host must be an IP address such as 127.0.0.1 (a name like localhost may resolve elsewhere)",
            ));
        }
        crate::urls::ensure_trailing_slash(&mut url);
        let pid = match var("PID") {
            (_, None) => None,
            (key, Some(text)) => Some(
                text.trim()
                    .parse::<u32>()
                    .map_err(|_| bad(&key, &text, "expected a process id"))?,
            ),
        };
        let (id_var, instance_id) = var("INSTANCE_ID");
        if self.checks.identity.is_some() && instance_id.is_none() {
            return Err(bad(
                &id_var,
                "",
                &format!(
                    "unset, and this server has an identity check: export {id_var} with the server's {} (`harness serve` does)",
                    super::INSTANCE_ID_ENV
                ),
            ));
        }
        let attached = Attached {
            command: match pid {
                Some(pid) => format!("(attached to {url_var}={url}, pid {pid})"),
                None => format!("(attached to {url_var}={url})"),
            },
            name,
            pid,
            instance_id: instance_id.unwrap_or_default(),
            log: var("LOG").1.map(PathBuf::from),
        };
        let started = Instant::now();
        let target = checks::Target {
            url: &url,
            instance_id: &attached.instance_id,
            ready_timeout: self.ready_timeout,
            deadline: tokio::time::Instant::now() + self.ready_timeout,
            exit: || attached.try_exit(),
        };
        if let Err((failed, status)) = self.checks.run(target).await {
            return Err(failed_attach(failed, &attached, status, started));
        }
        Ok(Some(ServerHandle::attached(attached, url)))
    }
}

/// The error of a check that failed on an attached server, with what is known of it.
fn failed_attach(
    failed: CheckFailed,
    attached: &Attached,
    status: Option<crate::Exit>,
    started: Instant,
) -> Error {
    failed.into_error(Failure {
        name: attached.name.clone(),
        command: attached.command.clone(),
        pid: attached.pid.unwrap_or(0),
        elapsed: started.elapsed(),
        status,
        logs: attached.logs(),
    })
}
