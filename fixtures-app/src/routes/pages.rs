//! Static-ish pages: the index, `/hello`, the JavaScript counter and the slow page.

use std::time::Duration;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::html::{escape, page};

/// The longest `/slow` waits, whatever it is asked.
pub(crate) const SLOW_CAP_MS: u64 = 30_000;

/// Each page the index links to: path, link id, label.
const LINKS: &[(&str, &str, &str)] = &[
    ("/hello", "link-hello", "Hello World (plain text)"),
    ("/form", "link-form", "Form that echoes its input"),
    ("/counter", "link-counter", "JavaScript counter"),
    ("/slow?ms=1000", "link-slow", "Slow page (1 s)"),
    ("/login", "link-login", "Sign in"),
    ("/account", "link-account", "Account (needs sign-in)"),
    ("/api/items", "link-items", "Items API (JSON)"),
    ("/health", "link-health", "Health (JSON)"),
    ("/whoami", "link-whoami", "Who am I (JSON)"),
];

/// `GET /`: links to every page.
pub(super) async fn index() -> Html<String> {
    let mut body = String::from("<h1>fixtures-app</h1>\n<ul>\n");
    for (href, id, label) in LINKS {
        body.push_str(&format!(
            "<li><a id=\"{id}\" href=\"{}\">{}</a></li>\n",
            escape(href),
            escape(label)
        ));
    }
    body.push_str("</ul>");
    // The index alone carries the bare app name as its title.
    page("fixtures-app", &body)
}

/// `GET /hello`: plain text.
pub(super) async fn hello() -> &'static str {
    "Hello World"
}

/// `GET /counter`: a number that a button increments in the browser.
pub(super) async fn counter() -> Html<String> {
    page(
        "Counter - fixtures-app",
        r#"<h1>Counter</h1>
<p>Count: <span id="count">0</span></p>
<button id="increment" type="button">Increment</button>
<script>
document.getElementById("increment").addEventListener("click", function () {
  var count = document.getElementById("count");
  count.textContent = String(Number(count.textContent) + 1);
});
</script>"#,
    )
}

/// The query of `/slow`.
#[derive(Debug, Deserialize)]
pub(super) struct SlowQuery {
    ms: Option<String>,
}

/// `GET /slow?ms=N`: answers after `N` milliseconds, at most [`SLOW_CAP_MS`].
pub(super) async fn slow(Query(query): Query<SlowQuery>) -> Response {
    let Some(Ok(asked)) = query.ms.as_deref().map(str::parse::<u64>) else {
        return (
            StatusCode::BAD_REQUEST,
            "/slow needs ?ms=N, N a whole number of milliseconds\n",
        )
            .into_response();
    };
    let ms = asked.min(SLOW_CAP_MS);
    tracing::info!(ms, "slow: waiting before answering");
    tokio::time::sleep(Duration::from_millis(ms)).await;
    page(
        "Slow - fixtures-app",
        &format!("<h1>Slow</h1>\n<p id=\"slow-done\">done after {ms} ms</p>"),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::{StatusCode, header};

    use crate::routes::testing::{get, state};

    #[tokio::test]
    async fn index_links_every_page() {
        let reply = get(&state(), "/").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.header(header::CONTENT_TYPE).starts_with("text/html"));
        assert!(reply.body.contains("<title>fixtures-app</title>"));
        for path in [
            "/hello",
            "/form",
            "/counter",
            "/slow",
            "/login",
            "/account",
            "/api/items",
            "/health",
            "/whoami",
        ] {
            assert!(
                reply.body.contains(&format!("href=\"{path}")),
                "no link to {path}"
            );
        }
    }

    #[tokio::test]
    async fn hello_is_plain_text() {
        let reply = get(&state(), "/hello").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.header(header::CONTENT_TYPE).starts_with("text/plain"));
        assert_eq!(reply.body, "Hello World");
    }

    #[tokio::test]
    async fn counter_has_its_elements() {
        let reply = get(&state(), "/counter").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.body.contains(r#"<span id="count">0</span>"#));
        assert!(reply.body.contains(r#"<button id="increment""#));
        assert!(reply.body.contains("<script>"));
    }

    #[tokio::test]
    async fn slow_answers_after_the_wait() {
        let started = std::time::Instant::now();
        let reply = get(&state(), "/slow?ms=50").await;
        assert!(started.elapsed() >= std::time::Duration::from_millis(50));
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            reply
                .body
                .contains(r#"<p id="slow-done">done after 50 ms</p>"#)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slow_caps_the_wait() {
        // With time paused, tokio skips ahead through the sleep.
        let reply = get(&state(), "/slow?ms=99999999").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.body.contains("done after 30000 ms"));
    }

    #[tokio::test]
    async fn slow_rejects_bad_ms() {
        for path in ["/slow", "/slow?ms=", "/slow?ms=abc", "/slow?ms=-5"] {
            assert_eq!(
                get(&state(), path).await.status,
                StatusCode::BAD_REQUEST,
                "{path}"
            );
        }
    }
}
