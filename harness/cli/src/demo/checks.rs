//! What each session does on its own fixtures-app instance: fill in the form, click the counter,
//! and ask the server who it is.

use std::future::Future;
use std::time::Duration;

use harness::fantoccini::Locator;
use url::Url;

use harness::{ServerHandle, Session};

/// How long one check may take, waits included.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an explicit wait for an element may take.
const WAIT: Duration = Duration::from_secs(10);
/// What the form is sent: markup that must come back as text.
const NAME: &str = "Ada <script>alert('xss')</script>";
/// The form's message: an ampersand and a tag.
const MESSAGE: &str = "fish & <b>chips</b>";
/// How many times the counter is clicked.
const CLICKS: usize = 3;

/// The outcome of one named check.
#[derive(Debug)]
pub(super) struct Check {
    /// What was checked: `form`, `counter` or `whoami`.
    pub(super) name: &'static str,
    /// `Err` says what went wrong.
    pub(super) outcome: Result<(), String>,
}

/// Runs every check of one instance, one after another, each bounded by [`CHECK_TIMEOUT`].
pub(super) async fn run(session: &Session, server: &ServerHandle) -> Vec<Check> {
    vec![
        check("form", form(session, server.url())).await,
        check("counter", counter(session, server.url())).await,
        check("whoami", whoami(server)).await,
    ]
}

async fn check(name: &'static str, body: impl Future<Output = Result<(), String>>) -> Check {
    let outcome = tokio::time::timeout(CHECK_TIMEOUT, body)
        .await
        .unwrap_or_else(|_| Err(format!("took longer than {CHECK_TIMEOUT:?}")));
    Check { name, outcome }
}

/// Types markup into `/form`, submits it, and expects it echoed as text, escaped in the page.
async fn form(session: &Session, base: &Url) -> Result<(), String> {
    let c = session.client();
    c.goto(join(base, "form")?.as_str()).await.map_err(text)?;
    let field = c.find(Locator::Id("name")).await.map_err(text)?;
    field.send_keys(NAME).await.map_err(text)?;
    let message = c.find(Locator::Id("message")).await.map_err(text)?;
    message.send_keys(MESSAGE).await.map_err(text)?;
    c.find(Locator::Id("submit"))
        .await
        .map_err(text)?
        .click()
        .await
        .map_err(text)?;
    let echo = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("echo-name"))
        .await
        .map_err(text)?;
    let echoed = echo.text().await.map_err(text)?;
    if echoed != NAME {
        return Err(format!("#echo-name shows {echoed:?}, expected {NAME:?}"));
    }
    let echoed = c
        .find(Locator::Id("echo-message"))
        .await
        .map_err(text)?
        .text()
        .await
        .map_err(text)?;
    if echoed != MESSAGE {
        return Err(format!(
            "#echo-message shows {echoed:?}, expected {MESSAGE:?}"
        ));
    }
    let source = c.source().await.map_err(text)?;
    if !source.contains("&lt;script&gt;") {
        return Err("the page source does not escape `<script>`".into());
    }
    Ok(())
}

/// Clicks `/counter`'s button [`CLICKS`] times and waits for the count to show it.
async fn counter(session: &Session, base: &Url) -> Result<(), String> {
    let c = session.client();
    c.goto(join(base, "counter")?.as_str())
        .await
        .map_err(text)?;
    let button = c.find(Locator::Id("increment")).await.map_err(text)?;
    for _ in 0..CLICKS {
        button.click().await.map_err(text)?;
    }
    let xpath = format!("//span[@id='count' and text()='{CLICKS}']");
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(&xpath))
        .await
        .map_err(|e| format!("the count did not reach {CLICKS} within {WAIT:?}: {e}"))?;
    Ok(())
}

/// `GET /whoami` answers with this instance's id: the URL reaches the server just started.
async fn whoami(server: &ServerHandle) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(WAIT)
        .build()
        .map_err(text)?;
    let url = join(server.url(), "whoami")?;
    let body: serde_json::Value = http
        .get(url)
        .send()
        .await
        .map_err(text)?
        .json()
        .await
        .map_err(text)?;
    match body["instance_id"].as_str() {
        Some(id) if id == server.instance_id() => Ok(()),
        other => Err(format!(
            "/whoami says instance_id {other:?}, expected {:?}",
            server.instance_id()
        )),
    }
}

fn join(base: &Url, path: &str) -> Result<Url, String> {
    base.join(path).map_err(text)
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}
